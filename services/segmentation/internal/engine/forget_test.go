package engine_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
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

// pausingStore stops a recompute at one point (after its inputs are
// loaded, or after its results are stored) until release is closed, and
// counts the snapshot reloads (LoadResults calls) made after that.
type pausingStore struct {
	engine.Store
	afterLoad bool // pause after LoadInputs; otherwise after FinishOperation
	paused    chan struct{}
	release   chan struct{}
	released  atomic.Bool
	reloads   atomic.Int64
}

func (p *pausingStore) pause() {
	close(p.paused)
	<-p.release
	p.released.Store(true)
}

func (p *pausingStore) LoadInputs(ctx context.Context) (int64, []segmentation.Customer, error) {
	cur, cs, err := p.Store.LoadInputs(ctx)
	if p.afterLoad {
		p.pause()
	}
	return cur, cs, err
}

func (p *pausingStore) FinishOperation(ctx context.Context, op segmentation.Operation, rs segmentation.ResultSet) error {
	err := p.Store.FinishOperation(ctx, op, rs)
	if !p.afterLoad {
		p.pause()
	}
	return err
}

func (p *pausingStore) LoadResults(ctx context.Context, fn func(*segmentation.CustomerResult) error) error {
	if p.released.Load() {
		p.reloads.Add(1)
	}
	return p.Store.LoadResults(ctx, fn)
}

// TestForgetDuringRecompute erases one customer and deletes another while
// a recompute runs, between the moment it loaded its inputs and the moment
// it stored its results, and just after it stored them: either way the
// erased customer's scores and segments answer under its anonymous id
// only, the deleted customer is gone, and every other customer keeps its
// scores, on this replica and on one started afterwards; the erased id is
// not kept once the recompute is over.
func TestForgetDuringRecompute(t *testing.T) {
	for _, pause := range []struct {
		name      string
		afterLoad bool
	}{{"after loading inputs", true}, {"after storing results", false}} {
		t.Run(pause.name, func(t *testing.T) {
			sqlstoretest.Engines(t, func(t *testing.T, db *sqlstore.DB) { testForgetDuringRecompute(t, db, pause.afterLoad) })
		})
	}
}

func testForgetDuringRecompute(t *testing.T, db *sqlstore.DB, afterLoad bool) {
	ctx := context.Background()
	st := store.New(db)
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var muts []segmentation.Mutation
	for i, id := range []string{"ann", "bob", "cat", "dan"} {
		muts = append(muts, segmentation.Mutation{Kind: segmentation.MutationUpsert, ID: id, Features: &segmentation.Features{
			OrderCount: 2, FirstOrderTime: at.AddDate(0, 0, -30), LastOrderTime: at.AddDate(0, 0, -i), NetMinor: int64(100 * (i + 1)), Currency: "GBP"}})
	}
	if err := st.ApplyPage(ctx, muts, 1, nil); err != nil {
		t.Fatal(err)
	}
	env, err := rules.NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := segmentation.NewService(st, engine.RuleChecker(env))
	if _, err := svc.CreateSegment(ctx, segmentation.SegmentDef{ID: "buyers", Kind: segmentation.SegmentKindRule, Rule: "features.order_count >= 2"}); err != nil {
		t.Fatal(err)
	}
	ps := &pausingStore{Store: st, afterLoad: afterLoad, paused: make(chan struct{}), release: make(chan struct{})}
	e := engine.New(engine.Config{Store: ps, Settings: segmentation.SettingsSource{Store: st}, Rules: env, Logger: quiet})
	t.Cleanup(e.Close)
	op, err := e.Start(ctx, at.Add(time.Hour), segmentation.TriggerAPI)
	if err != nil {
		t.Fatal(err)
	}
	<-ps.paused
	// What the consumer does for a page that erases ann and deletes bob.
	forget := []segmentation.Mutation{{Kind: segmentation.MutationRekey, ID: "ann", NewID: "anon-1"}, {Kind: segmentation.MutationDelete, ID: "bob"}}
	if err := st.ApplyPage(ctx, forget, 2, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.Forget(ctx, forget); err != nil {
		t.Fatal(err)
	}
	close(ps.release)
	waitUntil(t, "the recompute's snapshot", func() bool { _, cur := e.Snapshot(); return cur.ID == op.ID })
	if ps.reloads.Load() == 0 {
		t.Error("the recompute installed its own snapshot: customers forgotten while it ran were not reloaded")
	}

	checkForgotten(t, e, op.ID)
	var kept int
	if err := db.QueryRowContext(ctx, db.Rebind(`SELECT COUNT(*) FROM rekeys WHERE old_id = ?`), "ann").Scan(&kept); err != nil || kept != 0 {
		t.Errorf("erased id kept in %d re-key rows (%v) after the recompute, want none", kept, err)
	}
	other := engine.New(engine.Config{Store: st, Settings: segmentation.SettingsSource{Store: st}, Rules: env, Logger: quiet})
	t.Cleanup(other.Close)
	if err := other.Restore(ctx); err != nil {
		t.Fatal(err)
	}
	checkForgotten(t, other, op.ID)
}

// checkForgotten checks e's answers after ann was erased to anon-1 and bob
// deleted during recompute opID.
func checkForgotten(t *testing.T, e *engine.Engine, opID string) {
	t.Helper()
	ctx := context.Background()
	for _, id := range []string{"ann", "bob"} {
		if sc, err := e.CustomerScores(ctx, id); !errors.Is(err, segmentation.ErrCustomerNotFound) {
			t.Errorf("CustomerScores(%s) = %+v, %v; want ErrCustomerNotFound", id, sc, err)
		}
	}
	want := map[string]int64{"anon-1": 100, "cat": 300, "dan": 400} // net spend, as loaded by the recompute
	for id, monetary := range want {
		sc, err := e.CustomerScores(ctx, id)
		if err != nil {
			t.Errorf("CustomerScores(%s): %v", id, err)
			continue
		}
		if !sc.Scored || sc.Frequency != 2 || sc.Monetary != monetary || sc.Operation.ID != opID || !slices.Equal(sc.SegmentIDs, []string{"buyers"}) {
			t.Errorf("CustomerScores(%s) = scored %v, F %d, M %d from %s in %v; want scored, F 2, M %d from %s in [buyers]",
				id, sc.Scored, sc.Frequency, sc.Monetary, sc.Operation.ID, sc.SegmentIDs, monetary, opID)
		}
	}
	ids := []string{"ann", "anon-1", "bob", "cat", "dan"}
	got, _, err := e.Check(ctx, ids, []string{"segments/buyers"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []bool{false, true, false, true, true}) {
		t.Errorf("buyers membership of %v = %v, want anon-1, cat, dan only", ids, got)
	}
	members, _, size, err := e.Members(ctx, "segments/buyers", 0, "")
	if err != nil || size != 3 || !slices.Equal(members, []string{"anon-1", "cat", "dan"}) {
		t.Errorf("buyers members = %v (size %d), %v; want [anon-1 cat dan]", members, size, err)
	}
}
