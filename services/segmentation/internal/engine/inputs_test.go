package engine_test

import (
	"context"
	"io"

	"log/slog"
	"maps"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"github.com/tenurehq/tenure/services/segmentation/internal/engine"
	"github.com/tenurehq/tenure/services/segmentation/internal/rules"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
	"github.com/tenurehq/tenure/services/segmentation/internal/store"
)

// countingStore counts input loads and keeps the last result set stored.
type countingStore struct {
	engine.Store
	loads atomic.Int64
	last  segmentation.ResultSet
}

func (c *countingStore) LoadInputs(ctx context.Context) (int64, []segmentation.Customer, error) {
	c.loads.Add(1)
	return c.Store.LoadInputs(ctx)
}

func (c *countingStore) FinishOperation(ctx context.Context, op segmentation.Operation, rs segmentation.ResultSet) error {
	c.last = rs
	return c.Store.FinishOperation(ctx, op, rs)
}

// TestInputTableFollowsPages feeds pages to a running engine as the event
// consumer does (upserts, a new customer, a delete, an erasure): its
// recomputes take the inputs from memory, without reading them back from
// the store, write only the rows that changed, and the stored results and
// memberships equal those of a recompute that loads everything from the
// store and rewrites every row. A page the engine did not see makes the
// next recompute load the inputs from the store again.
func TestInputTableFollowsPages(t *testing.T) {
	sqlstoretest.Engines(t, testInputTableFollowsPages)
}

func testInputTableFollowsPages(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	st := store.New(db)
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	buyer := func(id string, orders, net int64, daysAgo int) segmentation.Mutation {
		return segmentation.Mutation{Kind: segmentation.MutationUpsert, ID: id, Features: &segmentation.Features{
			OrderCount: orders, FirstOrderTime: at.AddDate(0, 0, -60), LastOrderTime: at.AddDate(0, 0, -daysAgo),
			NetMinor: net, Currency: "EUR", TopCategories: []string{"home"}}}
	}
	var first []segmentation.Mutation
	for i, id := range []string{"ann", "bob", "cat", "dan", "fay", "gus", "hal", "ivy", "jon", "kim"} {
		first = append(first, buyer(id, int64(1+i%3), int64(1000*(i+1)), 5*i))
	}
	first = append(first, segmentation.Mutation{Kind: segmentation.MutationUpsert, ID: "pat", SetTags: true, Tags: []string{"vip"}})
	if err := st.ApplyPage(ctx, first, 1, nil); err != nil {
		t.Fatal(err)
	}
	env, err := rules.NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	svc := segmentation.NewService(st, engine.RuleChecker(env))
	for id, rule := range map[string]string{"buyers": "features.order_count >= 2", "vips": `"vip" in tags`, "best": "rfm.r_score >= 4"} {
		if _, err := svc.CreateSegment(ctx, segmentation.SegmentDef{ID: id, Kind: segmentation.SegmentKindRule, Rule: rule}); err != nil {
			t.Fatal(err)
		}
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cs := &countingStore{Store: st}
	e := engine.New(engine.Config{Store: cs, Settings: segmentation.SettingsSource{Store: st}, Rules: env, Logger: quiet})
	t.Cleanup(e.Close)
	recompute := func(e *engine.Engine) segmentation.Operation {
		t.Helper()
		op, err := e.Start(ctx, at, segmentation.TriggerAPI)
		if err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the recompute's snapshot", func() bool { _, cur := e.Snapshot(); return cur.ID == op.ID })
		return op
	}
	op1 := recompute(e)
	if n := cs.loads.Load(); n != 1 || cs.last.Base != "" {
		t.Fatalf("first recompute: %d input loads, base %q; want 1 load and every row written", n, cs.last.Base)
	}

	// What the consumer does with a page: store it, then tell the engine.
	apply := func(muts []segmentation.Mutation, from, to int64, tell bool) {
		t.Helper()
		if err := st.ApplyPage(ctx, muts, to, nil); err != nil {
			t.Fatal(err)
		}
		if tell {
			e.Applied(muts, from, to)
			if err := e.Forget(ctx, muts); err != nil {
				t.Fatal(err)
			}
		}
	}
	apply([]segmentation.Mutation{
		buyer("cat", 5, 90000, 0),
		{Kind: segmentation.MutationUpsert, ID: "dan", SetTags: true, Tags: []string{"vip"}},
		buyer("eve", 2, 5000, 1),
		{Kind: segmentation.MutationDelete, ID: "bob"},
		{Kind: segmentation.MutationRekey, ID: "ann", NewID: "anon-1"},
	}, 1, 2, true)
	op2 := recompute(e)
	if n := cs.loads.Load(); n != 1 {
		t.Errorf("recompute after a page the engine was told: %d input loads in all, want 1 (inputs from memory)", n)
	}
	if cs.last.Base != op1.ID || len(cs.last.Changed) == 0 || len(cs.last.Changed) > 10 ||
		!slices.Equal(cs.last.Removed, []string{"ann", "bob"}) {
		t.Errorf("second recompute wrote base %q, %d changed rows, removed %v; want the changes to %s's rows only, removing [ann bob]",
			cs.last.Base, len(cs.last.Changed), cs.last.Removed, op1.ID)
	}
	incremental := storedResults(t, st)
	for id, r := range incremental {
		if r.Operation != op2.ID {
			t.Errorf("%s's result is from %q, want the latest recompute %s (rows it did not change included)", id, r.Operation, op2.ID)
		}
	}

	// A recompute that loads every input from the store and writes every row.
	fresh := engine.New(engine.Config{Store: st, Settings: segmentation.SettingsSource{Store: st}, Rules: env, Logger: quiet})
	t.Cleanup(fresh.Close)
	recompute(fresh)
	full := storedResults(t, st)
	if !maps.EqualFunc(incremental, full, resultsEqual) {
		t.Errorf("results written by changes:\n%v\nrewritten from the store:\n%v", incremental, full)
	}
	if _, ok := full["anon-1"]; !ok || len(full) != 11 {
		t.Errorf("results of %v; want 11 customers, anon-1 among them", slices.Sorted(maps.Keys(full)))
	}

	// A page another replica stored, which this engine never saw, and a
	// page that does not follow the last one it saw (a gap): each time the
	// next recompute reads the inputs from the store again.
	for k, c := range []struct {
		what     string
		id       string
		from, to int64
		tell     bool
	}{{"a page the engine missed", "kim", 2, 3, false}, {"a gap", "jon", 5, 6, true}} {
		orders := int64(7 + k)
		apply([]segmentation.Mutation{buyer(c.id, orders, 1, 40)}, c.from, c.to, c.tell)
		recompute(e)
		if n := cs.loads.Load(); n != int64(2+k) {
			t.Errorf("recompute after %s: %d input loads in all, want %d", c.what, n, 2+k)
		}
		if got := storedResults(t, st)[c.id]; got.Frequency != orders {
			t.Errorf("%s's frequency after %s = %d, want %d", c.id, c.what, got.Frequency, orders)
		}
	}
}

// storedResults returns every stored result by customer id.
func storedResults(t *testing.T, st *store.Store) map[string]segmentation.CustomerResult {
	t.Helper()
	out := map[string]segmentation.CustomerResult{}
	if err := st.LoadResults(context.Background(), func(r *segmentation.CustomerResult) error {
		c := *r
		c.Segments = slices.Clone(r.Segments)
		out[r.CustomerID] = c
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// resultsEqual compares two stored results but for their operation.
func resultsEqual(a, b segmentation.CustomerResult) bool {
	return a.Result == b.Result && a.Currency == b.Currency && slices.Equal(a.Segments, b.Segments)
}
