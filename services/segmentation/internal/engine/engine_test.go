package engine_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/election"
	"github.com/tenurehq/tenure/services/platform/etcdtest"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"github.com/tenurehq/tenure/services/segmentation/internal/engine"
	"github.com/tenurehq/tenure/services/segmentation/internal/rules"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
	"github.com/tenurehq/tenure/services/segmentation/internal/store"
)

// blockingStore holds LoadInputs until release is closed.
type blockingStore struct {
	engine.Store
	loading chan struct{}
	release chan struct{}
}

func (b *blockingStore) LoadInputs(ctx context.Context) (int64, []segmentation.Customer, error) {
	b.loading <- struct{}{}
	<-b.release
	return b.Store.LoadInputs(ctx)
}

func TestOneRecomputeAtATime(t *testing.T) {
	ctx := context.Background()
	cli := etcdtest.Client(t, etcdtest.Start(t))
	st := store.New(sqlstoretest.SQLite(t))
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.ApplyPage(ctx, []segmentation.Mutation{{Kind: segmentation.MutationUpsert, ID: "a", Features: &segmentation.Features{
		OrderCount: 1, FirstOrderTime: time.Unix(1e9, 0), LastOrderTime: time.Unix(1e9, 0), NetMinor: 100}}}, 1, nil); err != nil {
		t.Fatal(err)
	}
	env, err := rules.NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	locker, err := election.NewLocker(cli, "segmentation-recompute")
	if err != nil {
		t.Fatal(err)
	}
	newEngine := func(s engine.Store) *engine.Engine {
		e := engine.New(engine.Config{Store: s, Settings: segmentation.SettingsSource{Store: st}, Rules: env, Locker: locker, Logger: quiet})
		t.Cleanup(e.Close)
		return e
	}
	blocking := &blockingStore{Store: st, loading: make(chan struct{}), release: make(chan struct{})}
	first, second := newEngine(blocking), newEngine(st) // two replicas

	op, err := first.Start(ctx, time.Time{}, segmentation.TriggerAPI)
	if err != nil {
		t.Fatal(err)
	}
	<-blocking.loading
	for name, e := range map[string]*engine.Engine{"same replica": first, "other replica": second} {
		_, err := e.Start(ctx, time.Time{}, segmentation.TriggerAPI)
		var ip *segmentation.InProgressError
		if !errors.As(err, &ip) || ip.Operation != op.Name() {
			t.Errorf("%s: Start = %v, want in progress naming %s", name, err, op.Name())
		}
	}
	close(blocking.release)
	waitUntil(t, "the first recompute to finish", func() bool {
		got, err := st.GetOperation(ctx, op.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Done() && (got.State != segmentation.OperationSucceeded || got.CustomersTotal != 1) {
			t.Fatalf("operation = %+v", got)
		}
		return got.Done()
	})
	// The lock is released: the other replica can run the next one.
	waitUntil(t, "the other replica to start a recompute", func() bool {
		_, err := second.Start(ctx, time.Time{}, segmentation.TriggerSchedule)
		if err != nil && !errors.Is(err, segmentation.ErrRecomputeInProgress) {
			t.Fatal(err)
		}
		return err == nil
	})
}

// waitUntil polls cond until it holds, failing the test after 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestScoresProvenance queries a replica whose snapshot is older than the
// stored results: the scores and the operation they name must agree.
func TestScoresProvenance(t *testing.T) {
	ctx := context.Background()
	st := store.New(sqlstoretest.SQLite(t))
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	first := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := st.ApplyPage(ctx, []segmentation.Mutation{{Kind: segmentation.MutationUpsert, ID: "a", Features: &segmentation.Features{
		OrderCount: 1, FirstOrderTime: first.Add(-day), LastOrderTime: first.Add(-day), NetMinor: 100, Currency: "GBP"}}}, 1, nil); err != nil {
		t.Fatal(err)
	}
	env, err := rules.NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	newEngine := func() *engine.Engine {
		e := engine.New(engine.Config{Store: st, Settings: segmentation.SettingsSource{Store: st}, Rules: env, Logger: quiet})
		t.Cleanup(e.Close)
		return e
	}
	writer, reader := newEngine(), newEngine()
	run := func(asOf time.Time) segmentation.Operation {
		op, err := writer.Start(ctx, asOf, segmentation.TriggerAPI)
		if err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the recompute", func() bool {
			got, err := st.GetOperation(ctx, op.ID)
			if err != nil {
				t.Fatal(err)
			}
			op = got
			return got.Done()
		})
		return op
	}
	op1 := run(first)
	if err := reader.Restore(ctx); err != nil {
		t.Fatal(err)
	}
	op2 := run(first.Add(10 * day)) // the reader has not synced
	if _, snapOp := reader.Snapshot(); snapOp.ID != op1.ID {
		t.Fatalf("reader snapshot from %s, want the older %s", snapOp.ID, op1.ID)
	}
	sc, err := reader.CustomerScores(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if sc.Operation.ID != op2.ID || !sc.Operation.AsOf.Equal(op2.AsOf) || sc.RecencyDays != 11 {
		t.Errorf("scores: recency %d from operation %s as of %v; want 11 from %s as of %v",
			sc.RecencyDays, sc.Operation.ID, sc.Operation.AsOf, op2.ID, op2.AsOf)
	}
}

// TestSyncForgets erases and deletes customers through the store alone (as
// another replica's consumer would): Sync makes the snapshot forget them.
func TestSyncForgets(t *testing.T) {
	ctx := context.Background()
	st := store.New(sqlstoretest.SQLite(t))
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var muts []segmentation.Mutation
	for _, id := range []string{"a", "b", "c"} {
		muts = append(muts, segmentation.Mutation{Kind: segmentation.MutationUpsert, ID: id, Features: &segmentation.Features{
			OrderCount: 2, FirstOrderTime: at, LastOrderTime: at, NetMinor: 100, Currency: "GBP"}})
	}
	if err := st.ApplyPage(ctx, muts, 1, nil); err != nil {
		t.Fatal(err)
	}
	env, err := rules.NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	svc := segmentation.NewService(st, engine.RuleChecker(env))
	if _, err := svc.CreateSegment(ctx, segmentation.SegmentDef{ID: "two", Kind: segmentation.SegmentKindRule, Rule: "features.order_count == 2"}); err != nil {
		t.Fatal(err)
	}
	e := engine.New(engine.Config{Store: st, Settings: segmentation.SettingsSource{Store: st}, Rules: env, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(e.Close)
	op, err := e.Start(ctx, at.Add(time.Hour), segmentation.TriggerAPI)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the recompute", func() bool { _, cur := e.Snapshot(); return cur.ID == op.ID })
	if err := st.ApplyPage(ctx, []segmentation.Mutation{{Kind: segmentation.MutationRekey, ID: "a", NewID: "anon-1"},
		{Kind: segmentation.MutationDelete, ID: "b"}}, 2, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	got, _, err := e.Check(ctx, []string{"a", "b", "c", "anon-1"}, []string{"segments/two"})
	if err != nil {
		t.Fatal(err)
	}
	if got[0] || got[1] || !got[2] || !got[3] { // one audience: one answer per customer
		t.Errorf("after erasing a and deleting b: %v, want a, b out and c, anon-1 in", got)
	}
}

// TestMonetaryTotalSaturates scores customers whose net spends add up past
// the int64 limit: the report's total stays at the limit instead of
// wrapping negative.
func TestMonetaryTotalSaturates(t *testing.T) {
	ctx := context.Background()
	st := store.New(sqlstoretest.SQLite(t))
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var muts []segmentation.Mutation
	for i := range 10 {
		muts = append(muts, segmentation.Mutation{Kind: segmentation.MutationUpsert, ID: fmt.Sprintf("c%d", i), Features: &segmentation.Features{
			OrderCount: 1, FirstOrderTime: at, LastOrderTime: at, NetMinor: 1_000_000_000_000_000_000, Currency: "GBP"}})
	}
	if err := st.ApplyPage(ctx, muts, 1, nil); err != nil {
		t.Fatal(err)
	}
	env, err := rules.NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	e := engine.New(engine.Config{Store: st, Settings: segmentation.SettingsSource{Store: st}, Rules: env,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(e.Close)
	op, err := e.Start(ctx, at, segmentation.TriggerAPI)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the recompute", func() bool {
		if op, err = st.GetOperation(ctx, op.ID); err != nil {
			t.Fatal(err)
		}
		return op.Done()
	})
	if op.Report == nil {
		t.Fatalf("operation %+v has no report", op)
	}
	if got := op.Report.MonetaryTotal["GBP"]; got != math.MaxInt64 {
		t.Fatalf("monetary total = %d, want %d", got, int64(math.MaxInt64))
	}
}
