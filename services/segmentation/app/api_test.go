package app_test

import (
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

var asOf = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

func daysAgo(d int) time.Time { return asOf.Add(-time.Duration(d)*24*time.Hour - time.Hour) }

// wantStatus checks an error's code, ErrorInfo reason and metadata.
func wantStatus(t *testing.T, err error, code codes.Code, reason string) *status.Status {
	t.Helper()
	st, _ := status.FromError(err)
	if st.Code() != code {
		t.Fatalf("error = %v, want code %v", err, code)
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			if info.GetReason() != reason || info.GetDomain() != "segmentation.tenure.dev" {
				t.Fatalf("ErrorInfo = %v, want reason %s", info, reason)
			}
			return st
		}
	}
	t.Fatalf("error %v has no ErrorInfo", err)
	return st
}

func errorInfo(st *status.Status) *errdetails.ErrorInfo {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info
		}
	}
	return nil
}

func TestAPI(t *testing.T) {
	engines := []struct {
		name string
		dsn  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "seg.db") }},
		{"postgres", func(t *testing.T) string { _, dsn := sqlstoretest.PostgresDSN(t); return dsn }},
	}
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) { testAPI(t, eng.dsn(t)) })
	}
}

// testAPI is one journey through the API on one database: record inputs,
// define segments, recompute, then query and change what it produced. It is
// long because each step works on the state the steps before it left.
func testAPI(t *testing.T, dsn string) {
	ctx := context.Background()
	cli := newEtcd(t)
	pc := startProfile(t, cli)
	seg := startSegmentation(t, cli, dsn, func() time.Time { return asOf }, 0)
	c := seg.client

	// Inputs: five customers worked out by hand (see the table below).
	for _, cu := range []struct {
		id   string
		tags []string
	}{{"ann", []string{"newsletter"}}, {"dan", []string{"newsletter"}}} {
		if _, err := pc.CreateCustomer(ctx, &profilev1.CreateCustomerRequest{CustomerId: cu.id,
			Customer: &profilev1.Customer{FullName: strings.ToUpper(cu.id), Tags: cu.tags}}); err != nil {
			t.Fatal(err)
		}
	}
	events := []*profilev1.Event{
		order("a1", "ann", daysAgo(100), 100_00), order("a2", "ann", daysAgo(50), 100_00), order("a3", "ann", daysAgo(2), 100_00),
		order("b1", "bob", daysAgo(10), 20_00),
		order("c1", "cat", daysAgo(700), 15_00), order("c2", "cat", daysAgo(300), 20_00),
	}
	for i, d := range []int{200, 150, 100, 50, 1} {
		events = append(events, order("e"+string(rune('1'+i)), "eve", daysAgo(d), 200_00))
	}
	events = append(events, refund("e-r", "eve", daysAgo(1).Add(10*time.Minute), 100_00))
	last := record(t, pc, events)
	waitCursor(t, seg.app, last)

	// Segments.
	for _, s := range []struct {
		id   string
		kind segmentationv1.SegmentKind
		rule string
	}{
		{"engaged", segmentationv1.SegmentKind_SEGMENT_KIND_RULE, `rfm.r_score >= 3 && features.order_count >= 3 && "newsletter" in tags`},
		{"vips", segmentationv1.SegmentKind_SEGMENT_KIND_RULE, `tier == "vip"`},
		{"picked", segmentationv1.SegmentKind_SEGMENT_KIND_STATIC, ""},
	} {
		resp, err := c.CreateSegment(ctx, &segmentationv1.CreateSegmentRequest{SegmentId: s.id,
			Segment: &segmentationv1.Segment{DisplayName: s.id, Kind: s.kind, Rule: s.rule}})
		if err != nil {
			t.Fatalf("CreateSegment(%s): %v", s.id, err)
		}
		if resp.GetSegment().GetName() != "segments/"+s.id || resp.GetSegment().GetEtag() == "" {
			t.Errorf("CreateSegment(%s) = %v", s.id, resp.GetSegment())
		}
	}
	_, err := c.CreateSegment(ctx, &segmentationv1.CreateSegmentRequest{SegmentId: "vips",
		Segment: &segmentationv1.Segment{Kind: segmentationv1.SegmentKind_SEGMENT_KIND_STATIC}})
	wantStatus(t, err, codes.AlreadyExists, "SEGMENT_ALREADY_EXISTS")
	_, err = c.CreateSegment(ctx, &segmentationv1.CreateSegmentRequest{SegmentId: "bad",
		Segment: &segmentationv1.Segment{Kind: segmentationv1.SegmentKind_SEGMENT_KIND_RULE, Rule: "rfm.r_score >= \n  nope"}})
	st := wantStatus(t, err, codes.InvalidArgument, "INVALID_RULE")
	if md := errorInfo(st).GetMetadata(); md["line"] != "2" || md["column"] == "" {
		t.Errorf("INVALID_RULE metadata = %v, want line 2 and a column", md)
	}
	var field string
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) > 0 {
			field = br.GetFieldViolations()[0].GetField()
		}
	}
	if field != "segment.rule" {
		t.Errorf("INVALID_RULE field violation = %q, want segment.rule", field)
	}
	add, err := c.AddSegmentMembers(ctx, &segmentationv1.AddSegmentMembersRequest{Segment: "segments/picked", CustomerIds: []string{"bob", "dan", "bob"}})
	if err != nil || add.GetAddedCount() != 2 || add.GetMemberCount() != 2 {
		t.Fatalf("AddSegmentMembers = %v, %v", add, err)
	}
	_, err = c.AddSegmentMembers(ctx, &segmentationv1.AddSegmentMembersRequest{Segment: "segments/vips", CustomerIds: []string{"bob"}})
	wantStatus(t, err, codes.FailedPrecondition, "NOT_STATIC_SEGMENT")

	// Before any recompute.
	_, err = c.GetCustomerScores(ctx, &segmentationv1.GetCustomerScoresRequest{Name: "customers/ann/scores"})
	wantStatus(t, err, codes.NotFound, "CUSTOMER_NOT_FOUND")

	// Recompute.
	rec, err := c.Recompute(ctx, &segmentationv1.RecomputeRequest{AsOfTime: timestamppb.New(asOf)})
	if err != nil {
		t.Fatal(err)
	}
	op := waitOperation(t, c, rec.GetOperation().GetName())
	if op.GetSettingsVersion() != 1 || op.GetInputSequence() != last || op.GetCustomersTotal() != 5 || op.GetCustomersDone() != 5 ||
		!op.GetAsOfTime().AsTime().Equal(asOf) || op.GetTrigger() != segmentationv1.OperationTrigger_OPERATION_TRIGGER_API {
		t.Errorf("operation = %v", op)
	}

	// Hand-worked: N = 4 scored. R days ann 2, bob 10, cat 300, eve 1;
	// F 3, 1, 2, 5; M 300.00, 20.00, 35.00, 900.00. score = 1 + ⌊5W/4⌋.
	want := map[string]*segmentationv1.CustomerScores{
		"ann": {Scored: true, RecencyDays: 2, Frequency: 3, Monetary: gbp(300_00), RScore: 3, FScore: 3, MScore: 3,
			RfmSegment: "need_attention", ValueTier: "regular", LifecycleStage: "active", Segments: []string{"engaged"}},
		"bob": {Scored: true, RecencyDays: 10, Frequency: 1, Monetary: gbp(20_00), RScore: 2, FScore: 1, MScore: 1,
			RfmSegment: "hibernating", ValueTier: "at_risk", LifecycleStage: "new", Segments: []string{"picked"}},
		"cat": {Scored: true, RecencyDays: 300, Frequency: 2, Monetary: gbp(35_00), RScore: 1, FScore: 2, MScore: 2,
			RfmSegment: "lost", ValueTier: "at_risk", LifecycleStage: "churned"},
		"dan": {LifecycleStage: "prospect", Segments: []string{"picked"}},
		"eve": {Scored: true, RecencyDays: 1, Frequency: 5, Monetary: gbp(900_00), RScore: 4, FScore: 4, MScore: 4,
			RfmSegment: "loyal", ValueTier: "vip", LifecycleStage: "active", Segments: []string{"vips"}},
	}
	for id, w := range want {
		resp, err := c.GetCustomerScores(ctx, &segmentationv1.GetCustomerScoresRequest{Name: "customers/" + id + "/scores"})
		if err != nil {
			t.Fatalf("GetCustomerScores(%s): %v", id, err)
		}
		got := resp.GetScores()
		if got.GetOperation() != op.GetName() || got.GetSettingsVersion() != 1 || !got.GetAsOfTime().AsTime().Equal(asOf) || got.GetCustomerId() != id {
			t.Errorf("%s: provenance = %v", id, got)
		}
		got.Name, got.CustomerId, got.Operation, got.SettingsVersion, got.AsOfTime = "", "", "", 0, nil
		if !reflect.DeepEqual(protojson.Format(got), protojson.Format(w)) {
			t.Errorf("%s: scores = %v\nwant %v", id, got, w)
		}
	}
	resp, _ := c.GetCustomerScores(ctx, &segmentationv1.GetCustomerScoresRequest{Name: "customers/eve/scores"})
	js, _ := protojson.Marshal(resp.GetScores())
	for _, key := range []string{`"recencyDays"`, `"frequency"`, `"monetary":{`, `"rScore"`, `"fScore"`, `"mScore"`, `"rfmSegment":"loyal"`, `"valueTier":"vip"`, `"lifecycleStage":"active"`, `"segments":["vips"]`} {
		if !strings.Contains(string(js), key) {
			t.Errorf("scores JSON %s lacks %s", js, key)
		}
	}
	_, err = c.GetCustomerScores(ctx, &segmentationv1.GetCustomerScoresRequest{Name: "customers/zed/scores"})
	wantStatus(t, err, codes.NotFound, "CUSTOMER_NOT_FOUND")
	for _, h := range []int32{-1, 3651} {
		_, err = c.GetCustomerScores(ctx, &segmentationv1.GetCustomerScoresRequest{Name: "customers/eve/scores", PredictionHorizonDays: h})
		if st := wantStatus(t, err, codes.InvalidArgument, "INVALID_ARGUMENT"); !strings.Contains(st.Message(), "prediction_horizon_days") {
			t.Errorf("horizon %d: message %q does not name prediction_horizon_days", h, st.Message())
		}
	}

	// Members, paged.
	var members []string
	token := ""
	for {
		page, err := c.ListMembers(ctx, &segmentationv1.ListMembersRequest{Parent: "tiers/at_risk", PageSize: 1, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		if page.GetTotalSize() != 2 {
			t.Errorf("total size = %d, want 2", page.GetTotalSize())
		}
		members = append(members, page.GetCustomerIds()...)
		if token = page.GetNextPageToken(); token == "" {
			break
		}
	}
	if !slices.Equal(members, []string{"bob", "cat"}) {
		t.Errorf("tiers/at_risk members = %v", members)
	}
	for parent, w := range map[string][]string{"segments/engaged": {"ann"}, "segments/picked": {"bob", "dan"},
		"stages/prospect": {"dan"}, "rfmSegments/loyal": {"eve"}, "segments/vips": {"eve"}} {
		page, err := c.ListMembers(ctx, &segmentationv1.ListMembersRequest{Parent: parent})
		if err != nil || !slices.Equal(page.GetCustomerIds(), w) {
			t.Errorf("ListMembers(%s) = %v, %v; want %v", parent, page.GetCustomerIds(), err, w)
		}
	}
	_, err = c.ListMembers(ctx, &segmentationv1.ListMembersRequest{Parent: "tiers/gold"})
	wantStatus(t, err, codes.InvalidArgument, "INVALID_AUDIENCE")
	_, err = c.ListMembers(ctx, &segmentationv1.ListMembersRequest{Parent: "segments/nope"})
	wantStatus(t, err, codes.NotFound, "SEGMENT_NOT_FOUND")
	_, err = c.ListMembers(ctx, &segmentationv1.ListMembersRequest{Parent: "tiers/vip", PageToken: "garbage"})
	wantStatus(t, err, codes.InvalidArgument, "INVALID_PAGE_TOKEN")
	checkMembersPaging(t, c)

	// Membership check.
	chk, err := c.CheckMembership(ctx, &segmentationv1.CheckMembershipRequest{
		CustomerIds: []string{"ann", "bob", "eve", "zed"}, Audiences: []string{"segments/engaged", "tiers/vip", "segments/picked", "stages/new"}})
	if err != nil {
		t.Fatal(err)
	}
	// Customer-major: ann's four answers, then bob's, eve's and zed's.
	wantMembers := []bool{true, false, false, false, false, false, true, true, false, true, false, false, false, false, false, false}
	if !slices.Equal(chk.GetMembers(), wantMembers) {
		t.Errorf("members = %v, want %v", chk.GetMembers(), wantMembers)
	}
	if chk.GetOperation() != op.GetName() {
		t.Errorf("check operation = %q", chk.GetOperation())
	}
	many := make([]string, 501)
	for i := range many {
		many[i] = "c"
	}
	_, err = c.CheckMembership(ctx, &segmentationv1.CheckMembershipRequest{CustomerIds: many, Audiences: []string{"tiers/vip", "tiers/regular"}})
	wantStatus(t, err, codes.InvalidArgument, "TOO_MANY_PAIRS")

	// Report.
	rep, err := c.GetReport(ctx, &segmentationv1.GetReportRequest{})
	if err != nil {
		t.Fatal(err)
	}
	r := rep.GetReport()
	countOf := func(cs []*segmentationv1.Count, key string) int64 {
		for _, c := range cs {
			if c.GetKey() == key {
				return c.GetCustomers()
			}
		}
		return -1
	}
	if r.GetCustomers() != 5 || r.GetScoredCustomers() != 4 || countOf(r.GetRfmSegments(), "loyal") != 1 ||
		countOf(r.GetRfmSegments(), "champions") != 0 || countOf(r.GetValueTiers(), "at_risk") != 2 ||
		countOf(r.GetLifecycleStages(), "prospect") != 1 || countOf(r.GetRScores(), "4") != 1 || countOf(r.GetRScores(), "5") != 0 ||
		countOf(r.GetSegments(), "picked") != 2 || countOf(r.GetSegments(), "engaged") != 1 ||
		len(r.GetMonetaryTotal()) != 1 || r.GetMonetaryTotal()[0].GetAmountMinor() != 1255_00 {
		t.Errorf("report = %v", r)
	}

	// Settings: invalid, then a new version used by the next recompute.
	_, err = c.UpdateSettings(ctx, &segmentationv1.UpdateSettingsRequest{
		Settings:   &segmentationv1.Settings{Lifecycle: &segmentationv1.LifecycleThresholds{DormantDays: 10}},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"lifecycle.dormant_days"}}})
	wantStatus(t, err, codes.InvalidArgument, "INVALID_SETTINGS")
	_, err = c.UpdateSettings(ctx, &segmentationv1.UpdateSettingsRequest{ExpectedVersion: 7,
		Settings: &segmentationv1.Settings{Lifecycle: &segmentationv1.LifecycleThresholds{NewDays: 5}}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"lifecycle.new_days"}}})
	wantStatus(t, err, codes.Aborted, "ETAG_MISMATCH")
	upd, err := c.UpdateSettings(ctx, &segmentationv1.UpdateSettingsRequest{ExpectedVersion: 1,
		Settings: &segmentationv1.Settings{Lifecycle: &segmentationv1.LifecycleThresholds{NewDays: 5}}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"lifecycle.new_days"}}})
	if err != nil {
		t.Fatal(err)
	}
	if s := upd.GetSettings(); s.GetVersion() != 2 || s.GetLifecycle().GetNewDays() != 5 || s.GetLifecycle().GetActiveDays() != 90 || len(s.GetTierMap()) != 11 {
		t.Errorf("UpdateSettings = %v", s)
	}
	old, err := c.GetSettings(ctx, &segmentationv1.GetSettingsRequest{Version: 1})
	if err != nil || old.GetSettings().GetLifecycle().GetNewDays() != 30 {
		t.Errorf("GetSettings(1) = %v, %v", old, err)
	}
	rec2, err := c.Recompute(ctx, &segmentationv1.RecomputeRequest{AsOfTime: timestamppb.New(asOf.Add(24 * time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	op2 := waitOperation(t, c, rec2.GetOperation().GetName())
	if op2.GetSettingsVersion() != 2 {
		t.Errorf("second operation settings version = %d, want 2", op2.GetSettingsVersion())
	}
	bob, _ := c.GetCustomerScores(ctx, &segmentationv1.GetCustomerScoresRequest{Name: "customers/bob/scores"})
	if bob.GetScores().GetLifecycleStage() != "active" || bob.GetScores().GetRecencyDays() != 11 {
		t.Errorf("bob after new_days 5 = %v", bob.GetScores())
	}

	// Operations and history.
	ops, err := c.ListOperations(ctx, &segmentationv1.ListOperationsRequest{PageSize: 1})
	if err != nil || len(ops.GetOperations()) != 1 || ops.GetOperations()[0].GetName() != op2.GetName() || ops.GetNextPageToken() == "" {
		t.Fatalf("ListOperations = %v, %v", ops, err)
	}
	// An operations token is bound to ListOperations.
	_, err = c.ListSegments(ctx, &segmentationv1.ListSegmentsRequest{PageToken: ops.GetNextPageToken()})
	wantPageError(t, err, codes.InvalidArgument, "INVALID_PAGE_TOKEN", "page_token",
		"segmentation: invalid page token: page_token was issued by another List method; pass the next_page_token this method returned, or omit it for the first page")
	_, err = c.ListOperations(ctx, &segmentationv1.ListOperationsRequest{PageSize: -1})
	wantPageError(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "page_size",
		"page_size: must not be negative, got -1; omit it or send 0 for the default of 20, or a number up to 200")
	_, err = c.GetOperation(ctx, &segmentationv1.GetOperationRequest{Name: "operations/nope"})
	wantStatus(t, err, codes.NotFound, "OPERATION_NOT_FOUND")
	hist, err := c.ListSizeHistory(ctx, &segmentationv1.ListSizeHistoryRequest{Audiences: []string{"tiers/vip", "segments/picked"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist.GetSeries()) != 2 || hist.GetSeries()[0].GetAudience() != "segments/picked" || len(hist.GetSeries()[1].GetPoints()) != 2 ||
		hist.GetSeries()[1].GetPoints()[0].GetOperation() != op.GetName() || hist.GetSeries()[1].GetPoints()[0].GetSize() != 1 {
		t.Errorf("ListSizeHistory = %v", hist)
	}

	// Static member removal, segment update and delete with etags.
	rm, err := c.RemoveSegmentMembers(ctx, &segmentationv1.RemoveSegmentMembersRequest{Segment: "segments/picked", CustomerIds: []string{"bob"}})
	if err != nil || rm.GetRemovedCount() != 1 || rm.GetMemberCount() != 1 {
		t.Fatalf("RemoveSegmentMembers = %v, %v", rm, err)
	}
	chk, _ = c.CheckMembership(ctx, &segmentationv1.CheckMembershipRequest{CustomerIds: []string{"bob", "dan"}, Audiences: []string{"segments/picked"}})
	if !slices.Equal(chk.GetMembers(), []bool{false, true}) {
		t.Errorf("after removal: %v, want [false true]", chk.GetMembers())
	}
	got, err := c.GetSegment(ctx, &segmentationv1.GetSegmentRequest{Name: "segments/vips"})
	if err != nil || got.GetSegment().GetMemberCount() != 1 {
		t.Fatalf("GetSegment = %v, %v", got, err)
	}
	_, err = c.UpdateSegment(ctx, &segmentationv1.UpdateSegmentRequest{
		Segment:    &segmentationv1.Segment{Name: "segments/vips", Rule: "tier ==", Etag: got.GetSegment().GetEtag()},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"rule"}}})
	wantStatus(t, err, codes.InvalidArgument, "INVALID_RULE")
	u, err := c.UpdateSegment(ctx, &segmentationv1.UpdateSegmentRequest{
		Segment:    &segmentationv1.Segment{Name: "segments/vips", DisplayName: "VIPs", Etag: got.GetSegment().GetEtag()},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"display_name"}}})
	if err != nil || u.GetSegment().GetDisplayName() != "VIPs" || u.GetSegment().GetRule() != `tier == "vip"` {
		t.Fatalf("UpdateSegment = %v, %v", u, err)
	}
	_, err = c.DeleteSegment(ctx, &segmentationv1.DeleteSegmentRequest{Name: "segments/vips", Etag: got.GetSegment().GetEtag()})
	wantStatus(t, err, codes.Aborted, "ETAG_MISMATCH")
	if _, err := c.DeleteSegment(ctx, &segmentationv1.DeleteSegmentRequest{Name: "segments/vips", Etag: u.GetSegment().GetEtag()}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetSegment(ctx, &segmentationv1.GetSegmentRequest{Name: "segments/vips"})
	wantStatus(t, err, codes.NotFound, "SEGMENT_NOT_FOUND")
	_, err = c.CheckMembership(ctx, &segmentationv1.CheckMembershipRequest{CustomerIds: []string{"eve"}, Audiences: []string{"segments/vips"}})
	wantStatus(t, err, codes.NotFound, "SEGMENT_NOT_FOUND")
	list, err := c.ListSegments(ctx, &segmentationv1.ListSegmentsRequest{})
	if err != nil || len(list.GetSegments()) != 2 {
		t.Errorf("ListSegments = %v, %v", list, err)
	}

	// A restarted replica restores the snapshot from the store.
	seg.stop()
	seg2 := startSegmentation(t, cli, dsn, func() time.Time { return asOf }, 0)
	chk, err = seg2.client.CheckMembership(ctx, &segmentationv1.CheckMembershipRequest{CustomerIds: []string{"ann", "dan"}, Audiences: []string{"segments/engaged", "segments/picked"}})
	if err != nil || !slices.Equal(chk.GetMembers(), []bool{true, false, false, true}) ||
		chk.GetOperation() != op2.GetName() {
		t.Errorf("after restart: %v, %v", chk, err)
	}
}
