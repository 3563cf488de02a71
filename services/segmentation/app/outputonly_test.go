package app_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
)

// TestUpdateIgnoresOutputOnlyFields sends a segment and the settings back
// whole, with the mask the gateway derives from such a body: the
// output-only fields in it are ignored, the kind may be named but not
// changed, and a mask of output-only fields alone changes nothing.
func TestUpdateIgnoresOutputOnlyFields(t *testing.T) {
	ctx := context.Background()
	_, dsn := sqlstoretest.PostgresDSN(t)
	c := startSegmentation(t, nil, dsn, nil, 0).client
	created, err := c.CreateSegment(ctx, &segmentationv1.CreateSegmentRequest{SegmentId: "vips",
		Segment: &segmentationv1.Segment{DisplayName: "VIPs", Kind: segmentationv1.SegmentKind_SEGMENT_KIND_RULE, Rule: `tier == "vip"`}})
	if err != nil {
		t.Fatal(err)
	}
	whole := proto.Clone(created.GetSegment()).(*segmentationv1.Segment)
	whole.DisplayName = "Very important"
	all := []string{"name", "segment_id", "display_name", "description", "kind", "rule", "member_count", "create_time", "update_time", "etag"}
	u, err := c.UpdateSegment(ctx, &segmentationv1.UpdateSegmentRequest{Segment: whole, UpdateMask: &fieldmaskpb.FieldMask{Paths: all}})
	if err != nil || u.GetSegment().GetDisplayName() != "Very important" || u.GetSegment().GetRule() != `tier == "vip"` {
		t.Fatalf("UpdateSegment(whole segment) = %v, %v; want the display name changed", u, err)
	}

	whole = proto.Clone(u.GetSegment()).(*segmentationv1.Segment)
	whole.Kind = segmentationv1.SegmentKind_SEGMENT_KIND_STATIC
	_, err = c.UpdateSegment(ctx, &segmentationv1.UpdateSegmentRequest{Segment: whole, UpdateMask: &fieldmaskpb.FieldMask{Paths: all}})
	if info := errorInfo(wantStatus(t, err, codes.InvalidArgument, "INVALID_ARGUMENT")); info == nil {
		t.Fatal("no ErrorInfo")
	}
	if !strings.Contains(err.Error(), "segment.kind") {
		t.Errorf("kind change: %v, want it to name segment.kind", err)
	}

	_, err = c.UpdateSegment(ctx, &segmentationv1.UpdateSegmentRequest{Segment: whole,
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"member_count", "update_time"}}})
	wantStatus(t, err, codes.InvalidArgument, "INVALID_ARGUMENT")
	if !strings.Contains(err.Error(), "update_mask") {
		t.Errorf("output-only mask: %v, want it to name update_mask", err)
	}

	settings, err := c.GetSettings(ctx, &segmentationv1.GetSettingsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	s := proto.Clone(settings.GetSettings()).(*segmentationv1.Settings)
	s.Lifecycle.NewDays = 14
	us, err := c.UpdateSettings(ctx, &segmentationv1.UpdateSettingsRequest{Settings: s,
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"version", "lifecycle", "update_time"}}})
	if err != nil || us.GetSettings().GetLifecycle().GetNewDays() != 14 || us.GetSettings().GetVersion() != settings.GetSettings().GetVersion()+1 {
		t.Fatalf("UpdateSettings(whole settings) = %v, %v; want new_days 14 in a new version", us, err)
	}
}
