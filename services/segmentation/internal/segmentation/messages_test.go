package segmentation

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

// TestFieldErrorMessages checks the errors callers see for bad request
// fields: each is a *fielderr.Error naming the API field, whose message
// says what is allowed or what to do, and which still matches its
// sentinel where it has one. The checks run before the store is touched,
// so the service needs none.
func TestFieldErrorMessages(t *testing.T) {
	ctx := context.Background()
	svc := NewService(nil, nil)
	long := strings.Repeat("c", MaxMembersPerCall+1)
	tests := []struct {
		name     string
		call     func() error
		sentinel error
		field    string
		want     string
	}{
		{"audience of unknown tier", func() error { return CheckAudience("parent", "tiers/gold") }, ErrInvalidAudience,
			"parent", `parent: "tiers/gold": unknown value tier "gold"; valid tiers are vip, potential, regular, at_risk`},
		{"audience of unknown stage", func() error { return CheckAudiences("audiences", []string{"tiers/vip", "stages/zombie"}) },
			ErrInvalidAudience, "audiences[1]",
			`audiences[1]: "stages/zombie": unknown lifecycle stage "zombie"; valid stages are prospect, new, active, dormant, churned`},
		{"audience of unknown RFM segment", func() error { return CheckAudience("parent", "rfmSegments/kings") }, ErrInvalidAudience,
			"parent", `parent: "rfmSegments/kings": unknown RFM segment "kings"; valid segments are ` + segmentNameList()},
		{"audience with a bad segment id", func() error { return CheckAudience("parent", "segments/Big") }, ErrInvalidAudience,
			"parent", `parent: "segments/Big": segment id must be lower-case letters, digits and "-", starting with a letter, got "Big"`},
		{"not an audience name", func() error { return CheckAudience("parent", "vip") }, ErrInvalidAudience,
			"parent", `parent: "vip" is not an audience name; use segments/{segment_id}, tiers/{tier}, stages/{stage} or rfmSegments/{rfm_segment}`},
		{"no audience", func() error { return CheckAudiences("audiences", nil) }, ErrInvalidAudience,
			"audiences", "audiences: at least one audience is required; name one or more, such as tiers/vip or segments/{segment_id}"},
		{"size history audience", func() error {
			_, err := svc.SizeHistory(ctx, []string{"tiers/vip", "teirs/vip"}, time.Time{}, 0)
			return err
		}, ErrInvalidAudience, "audiences[1]",
			`audiences[1]: "teirs/vip" is not an audience name; use segments/{segment_id}, tiers/{tier}, stages/{stage} or rfmSegments/{rfm_segment}`},
		{"segment id", func() error {
			_, err := svc.CreateSegment(ctx, SegmentDef{ID: "Big", Kind: SegmentKindStatic})
			return err
		}, nil, "segment_id", `segment_id: must be lower-case letters, digits and "-", starting with a letter, got "Big"`},
		{"segment kind", func() error {
			_, err := svc.CreateSegment(ctx, SegmentDef{ID: "big"})
			return err
		}, nil, "segment.kind", "segment.kind: must be SEGMENT_KIND_RULE or SEGMENT_KIND_STATIC"},
		{"rule missing", func() error {
			_, err := svc.CreateSegment(ctx, SegmentDef{ID: "big", Kind: SegmentKindRule})
			return err
		}, nil, "segment.rule", `segment.rule: is required for a rule segment; write a CEL expression over the customer, ` +
			`such as rfm.r_score >= 4 && "newsletter" in tags`},
		{"rule on a static segment", func() error {
			_, err := svc.CreateSegment(ctx, SegmentDef{ID: "big", Kind: SegmentKindStatic, Rule: "true"})
			return err
		}, nil, "segment.rule", "segment.rule: must be empty for a static segment; leave it out, or create a SEGMENT_KIND_RULE segment"},
		{"settings version", func() error { _, err := svc.GetSettings(ctx, -1); return err }, nil,
			"version", "version: must not be negative, got -1; send 0 for the current settings, or the number of a past version"},
		{"expected version", func() error { _, err := svc.UpdateSettings(ctx, Settings{}, nil, -2); return err }, nil,
			"expected_version", "expected_version: must not be negative, got -2; send the version you read, or 0 to update whichever version is current"},
		{"star with other paths", func() error { _, err := MergeSettings(Settings{}, Settings{}, []string{"*", "lifecycle"}); return err }, nil,
			"update_mask", `update_mask: "*" must be the only path; send "*" alone to replace every field, or list the paths to change`},
		{"too many members", func() error {
			_, _, err := svc.AddMembers(ctx, "big", strings.Split(long, ""))
			return err
		}, nil, "customer_ids", "customer_ids: at most 1000 customer ids, got 1001; split them over several requests"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var fe *fielderr.Error
			if !errors.As(err, &fe) || fe.Field() != tt.field || err.Error() != tt.want {
				t.Fatalf("got %v\nwant %q naming %s", err, tt.want, tt.field)
			}
			if !errors.Is(err, fielderr.ErrInvalidArgument) || tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Errorf("%v does not match fielderr.ErrInvalidArgument and %v", err, tt.sentinel)
			}
		})
	}
}

// ParseAudience, for callers with no request field to name, says the same
// under its sentinel, with the package prefix once.
func TestParseAudienceMessage(t *testing.T) {
	_, err := ParseAudience("tiers/gold")
	want := `segmentation: invalid audience: "tiers/gold": unknown value tier "gold"; valid tiers are vip, potential, regular, at_risk`
	if !errors.Is(err, ErrInvalidAudience) || err.Error() != want {
		t.Errorf("ParseAudience(tiers/gold) = %v, want %q", err, want)
	}
}
