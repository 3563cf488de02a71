// Package storetest is the conformance suite for segmentation's storage
// interfaces: every storage engine runs the same tests through Run.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// Store is every storage interface of the segmentation package: what a
// storage engine implements.
type Store interface {
	segmentation.InputStore
	segmentation.SettingsStore
	segmentation.SegmentStore
	segmentation.OperationStore
	segmentation.ResultStore
	segmentation.AudienceChangeStore
}

// Opener returns a new, empty, migrated store for one test.
type Opener func(t *testing.T) Store

// Run runs the conformance suite against the stores open returns.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Store)
	}{
		{"ApplyPage", testApplyPage},
		{"Rekey", testRekey},
		{"Settings", testSettings},
		{"Segments", testSegments},
		{"StaticMembers", testStaticMembers},
		{"Operations", testOperations},
		{"Results", testResults},
		{"ChangedResults", testChangedResults},
		{"SizeHistory", testSizeHistory},
		{"PurchaseDays", testPurchaseDays},
		{"AudienceChanges", testAudienceChanges},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

var (
	ctx = context.Background()
	t0  = time.Date(2025, 3, 1, 9, 30, 0, 123456789, time.UTC)
)

func features(orders int64, net int64) *segmentation.Features {
	return &segmentation.Features{
		FirstOrderTime: t0, LastOrderTime: t0.Add(time.Hour), LastActivityTime: t0.Add(2 * time.Hour),
		OrderCount: orders, RefundCount: 1, Currency: "GBP", GrossMinor: net + 100, NetMinor: net,
		AverageOrderValueMinor: (net + 100) / max(orders, 1), DiscountShare: 0.25, PreferredChannel: "web",
		TopCategories: []string{"shoes", "hats"},
	}
}

// pageEvents is how many log events mustApply's pages hold.
const pageEvents = 2

func mustApply(t *testing.T, s Store, cursor int64, muts ...segmentation.Mutation) {
	t.Helper()
	// The page's events: the pageEvents sequences up to the cursor.
	seqs := make([]int64, pageEvents)
	for i := range seqs {
		seqs[i] = cursor - pageEvents + 1 + int64(i)
	}
	if err := s.ApplyPage(ctx, muts, cursor, seqs); err != nil {
		t.Fatalf("ApplyPage(cursor %d): %v", cursor, err)
	}
}

func testApplyPage(t *testing.T, s Store) {
	if c, err := s.Cursor(ctx); err != nil || c != 0 {
		t.Fatalf("Cursor() = %d, %v; want 0", c, err)
	}
	f := features(3, 5000)
	mustApply(t, s, 10,
		segmentation.Mutation{Kind: segmentation.MutationUpsert, ID: "ann", Features: f},
		segmentation.Mutation{Kind: segmentation.MutationUpsert, ID: "bob", Tags: []string{"newsletter", "vip"}, SetTags: true},
		segmentation.Mutation{Kind: segmentation.MutationUpsert, ID: "cat"},
	)
	if c, _ := s.Cursor(ctx); c != 10 {
		t.Fatalf("Cursor() = %d, want 10", c)
	}
	got, err := s.GetCustomer(ctx, "ann")
	if err != nil {
		t.Fatal(err)
	}
	if want := (segmentation.Customer{ID: "ann", Features: *f}); !reflect.DeepEqual(got, want) {
		t.Errorf("ann = %+v, want %+v", got, want)
	}
	// Tags and features are replaced independently.
	mustApply(t, s, 11,
		segmentation.Mutation{Kind: segmentation.MutationUpsert, ID: "ann", Tags: []string{"a"}, SetTags: true},
		segmentation.Mutation{Kind: segmentation.MutationUpsert, ID: "bob", Features: features(1, 10)},
	)
	ann, _ := s.GetCustomer(ctx, "ann")
	bob, _ := s.GetCustomer(ctx, "bob")
	if !slices.Equal(ann.Tags, []string{"a"}) || ann.Features.OrderCount != 3 {
		t.Errorf("ann = %+v", ann)
	}
	if !slices.Equal(bob.Tags, []string{"newsletter", "vip"}) || bob.Features.OrderCount != 1 {
		t.Errorf("bob = %+v", bob)
	}
	// A page at or below the cursor is ignored.
	mustApply(t, s, 11, segmentation.Mutation{Kind: segmentation.MutationDelete, ID: "ann"})
	if _, err := s.GetCustomer(ctx, "ann"); err != nil {
		t.Errorf("replayed page applied: %v", err)
	}
	mustApply(t, s, 12, segmentation.Mutation{Kind: segmentation.MutationDelete, ID: "ann"})
	// Pages (9, 10], (10, 11] and (11, 12] of two events each, the first
	// starting below the empty cursor and the next two overlapping the
	// cursor by one event, and a replay of (10, 11]: each event counts once.
	if n, err := s.AppliedEvents(ctx); err != nil || n != 4 {
		t.Errorf("AppliedEvents() = %d, %v; want 4 (events 9 to 12)", n, err)
	}
	if _, err := s.GetCustomer(ctx, "ann"); !errors.Is(err, segmentation.ErrCustomerNotFound) {
		t.Errorf("GetCustomer(deleted) = %v, want ErrCustomerNotFound", err)
	}
	all, err := s.LoadCustomers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range all {
		ids = append(ids, c.ID)
	}
	if !slices.Equal(ids, []string{"bob", "cat"}) {
		t.Errorf("LoadCustomers ids = %v, want [bob cat]", ids)
	}
}

func testRekey(t *testing.T, s Store) {
	mustApply(t, s, 1, segmentation.Mutation{Kind: segmentation.MutationUpsert, ID: "ann", Features: features(2, 900), Tags: []string{"x"}, SetTags: true})
	if _, err := s.CreateSegment(ctx, segmentation.SegmentDef{ID: "st", Kind: segmentation.SegmentKindStatic, CreateTime: t0, UpdateTime: t0}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AddStaticMembers(ctx, "st", []string{"ann", "bob"}); err != nil {
		t.Fatal(err)
	}
	mustApply(t, s, 2, segmentation.Mutation{Kind: segmentation.MutationRekey, ID: "ann", NewID: "anon-1"})
	if _, err := s.GetCustomer(ctx, "ann"); !errors.Is(err, segmentation.ErrCustomerNotFound) {
		t.Errorf("old id still there: %v", err)
	}
	got, err := s.GetCustomer(ctx, "anon-1")
	if err != nil || got.Features.NetMinor != 900 || !slices.Equal(got.Tags, []string{"x"}) {
		t.Errorf("anon-1 = %+v, %v", got, err)
	}
	members, _ := s.StaticMembers(ctx)
	if !slices.Equal(members["st"], []string{"bob"}) {
		t.Errorf("static members = %v, want [bob]", members["st"])
	}
	// Re-keying an unknown customer changes nothing.
	mustApply(t, s, 3, segmentation.Mutation{Kind: segmentation.MutationRekey, ID: "nobody", NewID: "anon-2"})
	if _, err := s.GetCustomer(ctx, "anon-2"); !errors.Is(err, segmentation.ErrCustomerNotFound) {
		t.Errorf("anon-2 created from nothing: %v", err)
	}
}

func testSettings(t *testing.T, s Store) {
	if _, err := s.LatestSettings(ctx); !errors.Is(err, segmentation.ErrSettingsNotFound) {
		t.Fatalf("LatestSettings(empty) = %v", err)
	}
	d := segmentation.DefaultSettings()
	v1, err := s.InsertSettings(ctx, d, 0, t0)
	if err != nil || v1.Version != 1 {
		t.Fatalf("InsertSettings = %+v, %v", v1, err)
	}
	if _, err := s.InsertSettings(ctx, d, 0, t0); !errors.Is(err, segmentation.ErrETagMismatch) {
		t.Fatalf("stale InsertSettings = %v, want ErrETagMismatch", err)
	}
	f := segmentation.DefaultSettings()
	f.Method = segmentation.MethodFixedThresholds
	f.Thresholds.Recency = [4]int64{1, 2, 3, 4}
	f.Tiers[segmentation.SegmentLost] = segmentation.TierRegular
	if _, err := s.InsertSettings(ctx, f, 1, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	latest, err := s.LatestSettings(ctx)
	if err != nil || latest.Version != 2 || !reflect.DeepEqual(latest.Settings, f) || !latest.UpdateTime.Equal(t0.Add(time.Second)) {
		t.Errorf("LatestSettings = %+v, %v", latest, err)
	}
	got, err := s.GetSettings(ctx, 1)
	if err != nil || !reflect.DeepEqual(got.Settings, d) {
		t.Errorf("GetSettings(1) = %+v, %v", got, err)
	}
	if _, err := s.GetSettings(ctx, 9); !errors.Is(err, segmentation.ErrSettingsNotFound) {
		t.Errorf("GetSettings(9) = %v", err)
	}
}

func testSegments(t *testing.T, s Store) {
	a := segmentation.SegmentDef{ID: "a-rule", DisplayName: "A", Description: "d", Kind: segmentation.SegmentKindRule,
		Rule: "tier == 'vip'", CreateTime: t0, UpdateTime: t0}
	created, err := s.CreateSegment(ctx, a)
	if err != nil || created.Revision != 1 {
		t.Fatalf("CreateSegment = %+v, %v", created, err)
	}
	if _, err := s.CreateSegment(ctx, a); !errors.Is(err, segmentation.ErrSegmentAlreadyExists) {
		t.Fatalf("duplicate CreateSegment = %v", err)
	}
	for _, id := range []string{"c", "b"} {
		if _, err := s.CreateSegment(ctx, segmentation.SegmentDef{ID: id, Kind: segmentation.SegmentKindStatic, CreateTime: t0, UpdateTime: t0}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.GetSegment(ctx, "a-rule")
	a.Revision = 1
	if err != nil || !reflect.DeepEqual(got, a) {
		t.Errorf("GetSegment = %+v, %v; want %+v", got, err, a)
	}
	page, err := s.ListSegments(ctx, "", 2)
	if err != nil || len(page) != 2 || page[0].ID != "a-rule" || page[1].ID != "b" {
		t.Fatalf("ListSegments page 1 = %+v, %v", page, err)
	}
	page, _ = s.ListSegments(ctx, "b", 2)
	if len(page) != 1 || page[0].ID != "c" {
		t.Fatalf("ListSegments page 2 = %+v", page)
	}
	upd, err := s.UpdateSegment(ctx, "a-rule", func(g *segmentation.SegmentDef) error {
		g.Rule, g.UpdateTime = "true", t0.Add(time.Minute)
		return nil
	})
	if err != nil || upd.Revision != 2 || upd.Rule != "true" {
		t.Fatalf("UpdateSegment = %+v, %v", upd, err)
	}
	boom := errors.New("boom")
	if _, err := s.UpdateSegment(ctx, "a-rule", func(*segmentation.SegmentDef) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("UpdateSegment(fn error) = %v", err)
	}
	if _, err := s.UpdateSegment(ctx, "zz", func(*segmentation.SegmentDef) error { return nil }); !errors.Is(err, segmentation.ErrSegmentNotFound) {
		t.Errorf("UpdateSegment(missing) = %v", err)
	}
	if err := s.DeleteSegment(ctx, "a-rule", func(segmentation.SegmentDef) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("DeleteSegment(check error) = %v", err)
	}
	if err := s.DeleteSegment(ctx, "a-rule", func(segmentation.SegmentDef) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSegment(ctx, "a-rule"); !errors.Is(err, segmentation.ErrSegmentNotFound) {
		t.Errorf("GetSegment(deleted) = %v", err)
	}
}

func testStaticMembers(t *testing.T, s Store) {
	for _, g := range []segmentation.SegmentDef{
		{ID: "st", Kind: segmentation.SegmentKindStatic}, {ID: "empty", Kind: segmentation.SegmentKindStatic},
		{ID: "ru", Kind: segmentation.SegmentKindRule, Rule: "true"},
	} {
		if _, err := s.CreateSegment(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	added, total, err := s.AddStaticMembers(ctx, "st", []string{"a", "b", "c"})
	if err != nil || added != 3 || total != 3 {
		t.Fatalf("AddStaticMembers = %d, %d, %v", added, total, err)
	}
	added, total, _ = s.AddStaticMembers(ctx, "st", []string{"c", "d"})
	if added != 1 || total != 4 {
		t.Errorf("AddStaticMembers(again) = %d, %d; want 1, 4", added, total)
	}
	removed, total, err := s.RemoveStaticMembers(ctx, "st", []string{"a", "zz"})
	if err != nil || removed != 1 || total != 3 {
		t.Errorf("RemoveStaticMembers = %d, %d, %v", removed, total, err)
	}
	if _, _, err := s.AddStaticMembers(ctx, "ru", []string{"a"}); !errors.Is(err, segmentation.ErrNotStaticSegment) {
		t.Errorf("AddStaticMembers(rule) = %v", err)
	}
	if _, _, err := s.AddStaticMembers(ctx, "nope", []string{"a"}); !errors.Is(err, segmentation.ErrSegmentNotFound) {
		t.Errorf("AddStaticMembers(missing) = %v", err)
	}
	m, err := s.StaticMembers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"st": {"b", "c", "d"}, "empty": nil}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("StaticMembers = %v, want %v", m, want)
	}
	if err := s.DeleteSegment(ctx, "st", func(segmentation.SegmentDef) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.StaticMembers(ctx); len(m) != 1 {
		t.Errorf("StaticMembers after delete = %v", m)
	}
}

func op(id string, asOf time.Time) segmentation.Operation {
	return segmentation.Operation{ID: id, Trigger: segmentation.TriggerAPI, AsOf: asOf, SettingsVersion: 1,
		InputSequence: 42, CreateTime: asOf}
}

func testOperations(t *testing.T, s Store) {
	if err := s.StartOperation(ctx, op("001", t0)); err != nil {
		t.Fatal(err)
	}
	err := s.StartOperation(ctx, op("002", t0))
	var inProgress *segmentation.InProgressError
	if !errors.As(err, &inProgress) || inProgress.Operation != "operations/001" {
		t.Fatalf("second StartOperation = %v, want in progress with operations/001", err)
	}
	if err := s.UpdateProgress(ctx, "001", 5, 10); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetOperation(ctx, "001")
	if err != nil || got.State != segmentation.OperationRunning || got.CustomersDone != 5 || got.CustomersTotal != 10 ||
		got.InputSequence != 42 || got.SettingsVersion != 1 || !got.AsOf.Equal(t0) || got.Trigger != segmentation.TriggerAPI {
		t.Fatalf("GetOperation = %+v, %v", got, err)
	}
	if err := s.FailOperation(ctx, "001", "boom", t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetOperation(ctx, "001")
	if got.State != segmentation.OperationFailed || got.Error != "boom" || !got.Done() {
		t.Errorf("failed operation = %+v", got)
	}
	if _, err := s.LatestSucceeded(ctx); !errors.Is(err, segmentation.ErrNoRecompute) {
		t.Errorf("LatestSucceeded = %v", err)
	}
	if err := s.StartOperation(ctx, op("002", t0)); err != nil {
		t.Fatal(err)
	}
	if r, err := s.RunningOperation(ctx); err != nil || r.ID != "002" {
		t.Errorf("RunningOperation = %+v, %v", r, err)
	}
	if err := s.FailRunning(ctx, "abandoned", t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RunningOperation(ctx); !errors.Is(err, segmentation.ErrOperationNotFound) {
		t.Errorf("RunningOperation after FailRunning = %v", err)
	}
	for _, id := range []string{"003", "004"} {
		if err := s.StartOperation(ctx, op(id, t0)); err != nil {
			t.Fatal(err)
		}
		o := op(id, t0)
		o.EndTime, o.CustomersDone, o.CustomersTotal = t0.Add(time.Minute), 0, 0
		if err := s.FinishOperation(ctx, o, segmentation.ResultSet{Report: segmentation.Report{Segments: map[string]int64{"x": 1}}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.FinishOperation(ctx, op("004", t0), segmentation.ResultSet{}); err == nil {
		t.Error("FinishOperation of a finished operation succeeded")
	}
	latest, err := s.LatestSucceeded(ctx)
	if err != nil || latest.ID != "004" || latest.Report == nil || latest.Report.Segments["x"] != 1 {
		t.Errorf("LatestSucceeded = %+v, %v", latest, err)
	}
	ops, err := s.ListOperations(ctx, "", 3)
	if err != nil || len(ops) != 3 || ops[0].ID != "004" || ops[2].ID != "002" {
		t.Fatalf("ListOperations = %+v, %v", ops, err)
	}
	ops, _ = s.ListOperations(ctx, "002", 3)
	if len(ops) != 1 || ops[0].ID != "001" {
		t.Errorf("ListOperations(before 002) = %+v", ops)
	}
	if _, err := s.GetOperation(ctx, "nope"); !errors.Is(err, segmentation.ErrOperationNotFound) {
		t.Errorf("GetOperation(missing) = %v", err)
	}
}

func results(n int, tag string) []segmentation.CustomerResult {
	out := make([]segmentation.CustomerResult, n)
	for i := range out {
		r := &out[i]
		r.CustomerID = fmt.Sprintf("c%06d", i)
		if i%7 != 0 {
			r.Scored = true
			r.RecencyDays, r.Frequency, r.Monetary = int64(i%300), int64(1+i%9), int64(i*13-500)
			r.RScore, r.FScore, r.MScore = uint8(1+i%5), uint8(1+(i/5)%5), uint8(1+(i/25)%5)
			r.Segment, r.Tier, r.Stage = segmentation.SegmentLoyal, segmentation.TierVIP, segmentation.StageActive
			r.Currency = "GBP"
		} else {
			r.Stage = segmentation.StageProspect
		}
		if i%3 == 0 {
			r.Segments = []string{tag, "z-" + tag}
		}
	}
	return out
}

// testChangedResults writes a recompute's changed rows against the
// previous one's, and checks that the store falls back to writing every
// row when its results are not the base's any more (another recompute
// stored since, or a page deleted customers).
func testChangedResults(t *testing.T, s Store) {
	finish := func(id string, rs segmentation.ResultSet, want []segmentation.CustomerResult) {
		t.Helper()
		if err := s.StartOperation(ctx, op(id, t0)); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishOperation(ctx, op(id, t0), rs); err != nil {
			t.Fatal(err)
		}
		var got []segmentation.CustomerResult
		if err := s.LoadResults(ctx, func(r *segmentation.CustomerResult) error { got = append(got, *r); return nil }); err != nil {
			t.Fatal(err)
		}
		want = slices.Clone(want)
		for j := range want { // every row is the latest recompute's
			want[j].Operation = id
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("after recompute %s: %d results\n%+v\nwant %d\n%+v", id, len(got), got, len(want), want)
		}
	}
	gen, err := s.ResultsGeneration(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first := results(50, "a")
	finish("000", segmentation.ResultSet{Results: first, Generation: gen}, first)

	// One row changed, one customer gone, one new: only those are written.
	second := slices.Concat(first[:10], first[11:], []segmentation.CustomerResult{{Result: segmentation.Result{CustomerID: "c999999", Stage: segmentation.StageProspect}}})
	second[3].Monetary++
	second[5].Segments = nil
	finish("001", segmentation.ResultSet{Results: second, Generation: gen, Base: "000", BaseGeneration: gen,
		Changed: []int{3, 5, len(second) - 1}, Removed: []string{first[10].CustomerID}}, second)

	// A base that is not the latest recompute: every row is written.
	third := results(20, "b")
	finish("002", segmentation.ResultSet{Results: third, Generation: gen, Base: "000", BaseGeneration: gen, Changed: []int{0}}, third)

	// A page deleted a customer since the base: every row is written.
	if err := s.ApplyPage(ctx, []segmentation.Mutation{{Kind: segmentation.MutationDelete, ID: "nobody"}}, 1, nil); err != nil {
		t.Fatal(err)
	}
	now, err := s.ResultsGeneration(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fourth := results(5, "c")
	finish("003", segmentation.ResultSet{Results: fourth, Generation: now, Base: "002", BaseGeneration: gen}, fourth)
}

func testResults(t *testing.T, s Store) {
	for i, n := range []int{4321, 10} { // crosses batch sizes, then shrinks
		id := fmt.Sprintf("%03d", i)
		if err := s.StartOperation(ctx, op(id, t0)); err != nil {
			t.Fatal(err)
		}
		want := results(n, id)
		if err := s.FinishOperation(ctx, op(id, t0), segmentation.ResultSet{Results: want}); err != nil {
			t.Fatal(err)
		}
		var got []segmentation.CustomerResult
		err := s.LoadResults(ctx, func(r *segmentation.CustomerResult) error {
			c := *r
			got = append(got, c)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for j := range want { // each row names the recompute that wrote it
			want[j].Operation = id
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("run %d: LoadResults returned %d results, want %d equal to those written", i, len(got), len(want))
		}
		one, err := s.GetResult(ctx, want[3].CustomerID)
		if err != nil || !reflect.DeepEqual(one, want[3]) {
			t.Errorf("GetResult = %+v, %v; want %+v", one, err, want[3])
		}
	}
	if _, err := s.GetResult(ctx, "c004000"); !errors.Is(err, segmentation.ErrCustomerNotFound) {
		t.Errorf("GetResult(of an older recompute) = %v", err)
	}
}

func testSizeHistory(t *testing.T, s Store) {
	for i := range 3 {
		id := fmt.Sprintf("%03d", i)
		asOf := t0.Add(time.Duration(i) * 24 * time.Hour)
		if err := s.StartOperation(ctx, op(id, asOf)); err != nil {
			t.Fatal(err)
		}
		sizes := map[string]int64{"tiers/vip": int64(10 + i), "segments/a": int64(i)}
		if err := s.FinishOperation(ctx, op(id, asOf), segmentation.ResultSet{Sizes: sizes}); err != nil {
			t.Fatal(err)
		}
	}
	pts, err := s.SizeHistory(ctx, []string{"tiers/vip"}, time.Time{}, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []segmentation.SizePoint{
		{Operation: "001", Audience: "tiers/vip", AsOf: t0.Add(24 * time.Hour), Size: 11},
		{Operation: "002", Audience: "tiers/vip", AsOf: t0.Add(48 * time.Hour), Size: 12},
	}
	if !reflect.DeepEqual(pts, want) {
		t.Errorf("SizeHistory = %+v, want %+v", pts, want)
	}
	pts, _ = s.SizeHistory(ctx, nil, t0.Add(47*time.Hour), 10)
	if len(pts) != 2 || pts[0].Audience != "segments/a" || pts[1].Audience != "tiers/vip" {
		t.Errorf("SizeHistory(all, since) = %+v", pts)
	}
}
