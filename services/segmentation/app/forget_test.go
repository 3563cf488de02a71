package app_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// profileHead returns the sequence of profile's last event.
func profileHead(t *testing.T, pc profilev1.ProfileServiceClient) int64 {
	t.Helper()
	head, err := pc.GetEventLogHead(context.Background(), &profilev1.GetEventLogHeadRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return head.GetHeadSequence()
}

func createSegments(t *testing.T, c segmentationv1.SegmentationServiceClient, rules map[string]string) {
	t.Helper()
	for id, rule := range rules {
		kind := segmentationv1.SegmentKind_SEGMENT_KIND_RULE
		if rule == "" {
			kind = segmentationv1.SegmentKind_SEGMENT_KIND_STATIC
		}
		if _, err := c.CreateSegment(context.Background(), &segmentationv1.CreateSegmentRequest{SegmentId: id,
			Segment: &segmentationv1.Segment{Kind: kind, Rule: rule}}); err != nil {
			t.Fatalf("CreateSegment(%s): %v", id, err)
		}
	}
}

func recompute(t *testing.T, c segmentationv1.SegmentationServiceClient) *segmentationv1.Operation {
	t.Helper()
	rec, err := c.Recompute(context.Background(), &segmentationv1.RecomputeRequest{AsOfTime: timestamppb.New(asOf)})
	if err != nil {
		t.Fatal(err)
	}
	return waitOperation(t, c, rec.GetOperation().GetName())
}

func check(t *testing.T, c segmentationv1.SegmentationServiceClient, id string, audiences ...string) []bool {
	t.Helper()
	resp, err := c.CheckMembership(context.Background(), &segmentationv1.CheckMembershipRequest{CustomerIds: []string{id}, Audiences: audiences})
	if err != nil {
		t.Fatalf("CheckMembership(%s): %v", id, err)
	}
	if got := resp.GetMembers(); len(got) != len(audiences) {
		t.Fatalf("CheckMembership(%s): %d answers, want %d", id, len(got), len(audiences))
	}
	return resp.GetMembers()
}

// TestEraseAndDelete erases a scored customer and deletes a prospect in
// profile: once segmentation has consumed the events, the old ids are
// unknown to every query, and the erased customer's scores and rule
// segment memberships answer under its anonymous id.
func TestEraseAndDelete(t *testing.T) {
	engines := []struct {
		name string
		dsn  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "seg.db") }},
		{"postgres", func(t *testing.T) string { _, dsn := sqlstoretest.PostgresDSN(t); return dsn }},
	}
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) { testEraseAndDelete(t, eng.dsn(t)) })
	}
}

func testEraseAndDelete(t *testing.T, dsn string) {
	ctx := context.Background()
	cli := newEtcd(t)
	pc := startProfile(t, cli)
	seg := startSegmentation(t, cli, dsn, func() time.Time { return asOf }, 0)
	c := seg.client
	if _, err := pc.CreateCustomer(ctx, &profilev1.CreateCustomerRequest{CustomerId: "pat", Customer: &profilev1.Customer{FullName: "Pat"}}); err != nil {
		t.Fatal(err)
	}
	waitCursor(t, seg.app, record(t, pc, []*profilev1.Event{
		order("a1", "ann", daysAgo(20), 50_00), order("a2", "ann", daysAgo(3), 70_00), order("b1", "bob", daysAgo(40), 10_00)}))
	createSegments(t, c, map[string]string{"buyers": "features.order_count >= 2", "prospects": `lifecycle == "prospect"`, "picked": ""})
	if _, err := c.AddSegmentMembers(ctx, &segmentationv1.AddSegmentMembersRequest{Segment: "segments/picked", CustomerIds: []string{"ann", "pat"}}); err != nil {
		t.Fatal(err)
	}
	recompute(t, c)
	before, err := c.GetCustomerScores(ctx, &segmentationv1.GetCustomerScoresRequest{Name: "customers/ann/scores"})
	if err != nil {
		t.Fatal(err)
	}
	auds := []string{"segments/buyers", "segments/picked", "segments/prospects", "stages/new", "stages/prospect"}
	if got := check(t, c, "ann", auds...); !slices.Equal(got, []bool{true, true, false, true, false}) {
		t.Fatalf("ann before erasure: %v", got)
	}
	if got := check(t, c, "pat", auds...); !slices.Equal(got, []bool{false, true, true, false, true}) {
		t.Fatalf("pat before deletion: %v", got)
	}

	erased, err := pc.EraseCustomer(ctx, &profilev1.EraseCustomerRequest{Name: "customers/ann"})
	if err != nil {
		t.Fatal(err)
	}
	anon := erased.GetAnonymousId()
	if _, err := pc.DeleteCustomer(ctx, &profilev1.DeleteCustomerRequest{Name: "customers/pat"}); err != nil {
		t.Fatal(err)
	}
	waitCursor(t, seg.app, profileHead(t, pc))
	// The hook runs just after the page commits; well within the 2 s sync.
	none := make([]bool, len(auds))
	deadline := time.Now().Add(time.Second)
	for !slices.Equal(check(t, c, "ann", auds...), none) || !slices.Equal(check(t, c, "pat", auds...), none) {
		if time.Now().After(deadline) {
			t.Fatalf("after erasure and deletion: ann %v, pat %v; want all false", check(t, c, "ann", auds...), check(t, c, "pat", auds...))
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, id := range []string{"ann", "pat"} {
		_, err := c.GetCustomerScores(ctx, &segmentationv1.GetCustomerScoresRequest{Name: "customers/" + id + "/scores"})
		wantStatus(t, err, codes.NotFound, "CUSTOMER_NOT_FOUND")
	}
	after, err := c.GetCustomerScores(ctx, &segmentationv1.GetCustomerScoresRequest{Name: "customers/" + anon + "/scores"})
	if err != nil {
		t.Fatalf("GetCustomerScores(anonymous id): %v", err)
	}
	b, a := before.GetScores(), after.GetScores()
	if a.GetFrequency() != b.GetFrequency() || a.GetRScore() != b.GetRScore() || a.GetMonetary().GetAmountMinor() != b.GetMonetary().GetAmountMinor() ||
		a.GetOperation() != b.GetOperation() || !slices.Equal(a.GetSegments(), []string{"buyers"}) {
		t.Errorf("anonymous scores = %v, want those of ann before (%v) in buyers only", a, b)
	}
	if got := check(t, c, anon, auds...); !slices.Equal(got, []bool{true, false, false, true, false}) {
		t.Errorf("anonymous id memberships = %v, want buyers and new", got)
	}
	page, err := c.ListMembers(ctx, &segmentationv1.ListMembersRequest{Parent: "segments/picked"})
	if err != nil || len(page.GetCustomerIds()) != 0 {
		t.Errorf("picked members = %v, %v; want none", page.GetCustomerIds(), err)
	}

	// A replica started now loads the same view from the store.
	seg.stop()
	seg2 := startSegmentation(t, cli, dsn, func() time.Time { return asOf }, 0)
	if got := check(t, seg2.client, "ann", auds...); !slices.Equal(got, none) {
		t.Errorf("restarted: ann %v", got)
	}
	if got := check(t, seg2.client, anon, auds...); !slices.Equal(got, []bool{true, false, false, true, false}) {
		t.Errorf("restarted: anonymous id %v", got)
	}
}

// TestRuleLimitsAndNewSegments covers rules that cost too much to accept,
// rules that fail at run time for some customers, and segments created
// since the last recompute.
func TestRuleLimitsAndNewSegments(t *testing.T) {
	ctx := context.Background()
	cli := newEtcd(t)
	pc := startProfile(t, cli)
	seg := startSegmentation(t, cli, "sqlite:"+filepath.Join(t.TempDir(), "seg.db"), func() time.Time { return asOf }, 0)
	c := seg.client

	ten := "[1,2,3,4,5,6,7,8,9,10]"
	expensive := fmt.Sprintf("%[1]s.all(a, %[1]s.all(b, %[1]s.all(c, %[1]s.all(d, %[1]s.all(e, a+b+c+d+e > 0)))))", ten)
	_, err := c.CreateSegment(ctx, &segmentationv1.CreateSegmentRequest{SegmentId: "expensive",
		Segment: &segmentationv1.Segment{Kind: segmentationv1.SegmentKind_SEGMENT_KIND_RULE, Rule: expensive}})
	st := wantStatus(t, err, codes.InvalidArgument, "INVALID_RULE")
	if msg := st.Message(); !strings.Contains(msg, "exceeds the limit") {
		t.Errorf("message = %q", msg)
	}

	// 150 customers with one order (the rule divides by zero for them) and
	// two with two orders, one sorting before them and one after: a cheap
	// run-time error is counted and never stops the rule.
	var events []*profilev1.Event
	for i := range 150 {
		events = append(events, order(fmt.Sprintf("o%d", i), fmt.Sprintf("c%03d", i), daysAgo(5), 10_00))
	}
	events = append(events, order("x1", "a-two", daysAgo(9), 10_00), order("x2", "a-two", daysAgo(8), 10_00),
		order("x3", "z-two", daysAgo(9), 10_00), order("x4", "z-two", daysAgo(8), 10_00))
	waitCursor(t, seg.app, record(t, pc, events))
	createSegments(t, c, map[string]string{"ratio": "100 / (features.order_count - 1) > 0", "fine": "features.order_count >= 2"})
	op := recompute(t, c)
	if got := op.GetRuleErrors(); got["ratio"] != 150 || len(got) != 1 {
		t.Errorf("rule_errors = %v, want ratio: 150 (every failure counted)", got)
	}
	page, err := c.ListMembers(ctx, &segmentationv1.ListMembersRequest{Parent: "segments/ratio"})
	if err != nil || !slices.Equal(page.GetCustomerIds(), []string{"a-two", "z-two"}) {
		t.Errorf("ratio members = %v, %v; want [a-two z-two]", page.GetCustomerIds(), err)
	}

	// A rule segment created after the recompute.
	createSegments(t, c, map[string]string{"fresh": "true"})
	_, err = c.ListMembers(ctx, &segmentationv1.ListMembersRequest{Parent: "segments/fresh"})
	st = wantStatus(t, err, codes.FailedPrecondition, "SEGMENT_NOT_COMPUTED")
	if !strings.Contains(st.Message(), "has not been computed yet; run a recompute") {
		t.Errorf("message = %q", st.Message())
	}
	if got := check(t, c, "a-two", "segments/fine", "segments/fresh", "segments/ratio"); !slices.Equal(got, []bool{true, false, true}) {
		t.Errorf("CheckMembership with a new segment = %v, want [true false true]", got)
	}
	_, err = c.CheckMembership(ctx, &segmentationv1.CheckMembershipRequest{CustomerIds: []string{"a-two"}, Audiences: []string{"segments/fresh", "segments/nope"}})
	wantStatus(t, err, codes.NotFound, "SEGMENT_NOT_FOUND")
	recompute(t, c)
	if got := check(t, c, "a-two", "segments/fresh"); !got[0] {
		t.Error("fresh after a recompute: not a member")
	}
}
