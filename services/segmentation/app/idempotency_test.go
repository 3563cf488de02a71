package app_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// engineDSNs are the segmentation databases the end-to-end tests run on.
var engineDSNs = []struct {
	name string
	dsn  func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "seg.db") }},
	{"postgres", func(t *testing.T) string { _, dsn := sqlstoretest.PostgresDSN(t); return dsn }},
}

// TestErasureForgetsMemberRequests adds an erased customer to a static
// segment under a request id, then erases it in profile: once segmentation
// has applied the erasure, a retry of that request is refused with
// REQUEST_FORGOTTEN and does not add the erased id back, while requests
// naming other customers still replay.
func TestErasureForgetsMemberRequests(t *testing.T) {
	for _, eng := range engineDSNs {
		t.Run(eng.name, func(t *testing.T) {
			ctx := context.Background()
			cli := newEtcd(t)
			pc := startProfile(t, cli)
			seg := startSegmentation(t, cli, eng.dsn(t), nil, 0)
			c := seg.client
			createSegments(t, c, map[string]string{"picked": ""})
			waitCursor(t, seg.app, record(t, pc, []*profilev1.Event{order("a1", "ann", daysAgo(3), 10_00)}))

			addAnn := &segmentationv1.AddSegmentMembersRequest{Segment: "segments/picked", CustomerIds: []string{"ann", "bob"}, RequestId: "add-ann"}
			addCy := &segmentationv1.AddSegmentMembersRequest{Segment: "segments/picked", CustomerIds: []string{"cy"}, RequestId: "add-cy"}
			if _, err := c.AddSegmentMembers(ctx, addAnn); err != nil {
				t.Fatal(err)
			}
			cyResp, err := c.AddSegmentMembers(ctx, addCy)
			if err != nil {
				t.Fatal(err)
			}

			if _, err := pc.EraseCustomer(ctx, &profilev1.EraseCustomerRequest{Name: "customers/ann"}); err != nil {
				t.Fatal(err)
			}
			waitCursor(t, seg.app, profileHead(t, pc))

			members := func() []string {
				page, err := c.ListMembers(ctx, &segmentationv1.ListMembersRequest{Parent: "segments/picked"})
				if err != nil {
					t.Fatal(err)
				}
				return page.GetCustomerIds()
			}
			waitFor(t, "ann to leave the static segment", func() (bool, error) {
				return !slices.Contains(members(), "ann"), nil
			})

			_, err = c.AddSegmentMembers(ctx, addAnn)
			wantStatus(t, err, codes.FailedPrecondition, "REQUEST_FORGOTTEN")
			if got := members(); !slices.Equal(got, []string{"bob", "cy"}) {
				t.Errorf("picked members after the retry = %v, want [bob cy]: the erased id must not come back", got)
			}
			again, err := c.AddSegmentMembers(ctx, addCy)
			if err != nil || !proto.Equal(again, cyResp) {
				t.Errorf("replay naming another customer: got %v, %v; want %v", again, err, cyResp)
			}
		})
	}
}

// TestRequestIDIsValidated sends invalid request ids to segmentation's
// mutations through its gRPC server: INVALID_ARGUMENT with reason
// INVALID_REQUEST_ID and a BadRequest naming request_id, on every engine.
func TestRequestIDIsValidated(t *testing.T) {
	for _, eng := range engineDSNs {
		t.Run(eng.name, func(t *testing.T) {
			ctx := context.Background()
			seg := startSegmentation(t, newEtcd(t), eng.dsn(t), nil, 0)
			c := seg.client
			for _, id := range []string{strings.Repeat("r", 9000), "tab\there", "two words"} {
				calls := map[string]func() error{
					"CreateSegment": func() error {
						_, err := c.CreateSegment(ctx, &segmentationv1.CreateSegmentRequest{SegmentId: "s1", RequestId: id,
							Segment: &segmentationv1.Segment{Kind: segmentationv1.SegmentKind_SEGMENT_KIND_STATIC}})
						return err
					},
					"AddSegmentMembers": func() error {
						_, err := c.AddSegmentMembers(ctx, &segmentationv1.AddSegmentMembersRequest{Segment: "segments/s1",
							CustomerIds: []string{"ann"}, RequestId: id})
						return err
					},
					"Recompute": func() error {
						_, err := c.Recompute(ctx, &segmentationv1.RecomputeRequest{RequestId: id})
						return err
					},
				}
				for name, call := range calls {
					st := wantStatus(t, call(), codes.InvalidArgument, "INVALID_REQUEST_ID")
					if !strings.HasPrefix(st.Message(), "request_id must ") {
						t.Errorf("%s: message %q does not start with the field", name, st.Message())
					}
					var field string
					for _, d := range st.Details() {
						if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) == 1 {
							field = br.GetFieldViolations()[0].GetField()
						}
					}
					if field != "request_id" {
						t.Errorf("%s: BadRequest field %q, want request_id", name, field)
					}
				}
			}
			// Nothing ran.
			_, err := c.GetSegment(ctx, &segmentationv1.GetSegmentRequest{Name: "segments/s1"})
			wantStatus(t, err, codes.NotFound, "SEGMENT_NOT_FOUND")
		})
	}
}
