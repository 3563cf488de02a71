package consumer_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/backoff"
	"github.com/tenurehq/tenure/services/platform/bootstrap"
	"github.com/tenurehq/tenure/services/platform/eventlog"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	typev1 "github.com/tenurehq/tenure/gen/tenure/type/v1"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	profileapp "github.com/tenurehq/tenure/services/profile/app"
	"github.com/tenurehq/tenure/services/segmentation/internal/consumer"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
	"github.com/tenurehq/tenure/services/segmentation/internal/store"
	"google.golang.org/protobuf/types/known/timestamppb"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func startProfile(t *testing.T) profilev1.ProfileServiceClient {
	t.Helper()
	cfg := profileapp.Config{Config: bootstrap.Config{ListenAddr: "127.0.0.1:0", DSN: "sqlite:" + filepath.Join(t.TempDir(), "profile.db"), LogLevel: "error", ShutdownTimeout: 5 * time.Second, Auth: stacktest.AuthConfig(t)}}
	a, cleanup, err := profileapp.New(context.Background(), cfg, profileapp.Deps{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = a.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; cleanup() })
	return profilev1.NewProfileServiceClient(stacktest.Dial(t, a.Addr()))
}

// loggedStore is a store whose every applied page is recorded, in the
// page's transaction, in an apply log, and whose pages fail before commit
// while fail is set.
type loggedStore struct {
	*store.Store
	db   *sqlstore.DB
	fail atomic.Bool
}

var errInjected = errors.New("injected failure before commit")

// opener opens a fresh, empty database.
type opener func(testing.TB) *sqlstore.DB

// engines are the storage engines the consumer is tested on.
var engines = []struct {
	name string
	open opener
}{{"sqlite", sqlstoretest.SQLite}, {"postgres", sqlstoretest.Postgres}}

func newStore(t *testing.T, open opener) *loggedStore {
	t.Helper()
	ls := &loggedStore{db: open(t)}
	insert := ls.db.Rebind(`INSERT INTO apply_log (from_seq, to_seq) VALUES (?, ?)`)
	ls.Store = store.New(ls.db, store.WithBeforeCommit(func(ctx context.Context, tx *sql.Tx, from, to int64) error {
		if _, err := tx.ExecContext(ctx, insert, from, to); err != nil {
			return err
		}
		if ls.fail.Load() {
			return errInjected
		}
		return nil
	}))
	ctx := context.Background()
	if err := ls.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := ls.db.ExecContext(ctx, `CREATE TABLE apply_log (from_seq BIGINT NOT NULL, to_seq BIGINT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	return ls
}

// applyLog returns the applied pages' ranges (from, to], in order.
func (ls *loggedStore) applyLog(t *testing.T) [][2]int64 {
	t.Helper()
	rows, err := ls.db.QueryContext(context.Background(), `SELECT from_seq, to_seq FROM apply_log ORDER BY from_seq, to_seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][2]int64
	for rows.Next() {
		var r [2]int64
		if err := rows.Scan(&r[0], &r[1]); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// checkAppliedOnce fails unless the applied pages cover events 1..last
// exactly once each: every event was applied, none twice.
func checkAppliedOnce(t *testing.T, ls *loggedStore, last int64) {
	t.Helper()
	var next int64
	for _, r := range ls.applyLog(t) {
		if r[0] != next || r[1] <= r[0] {
			t.Fatalf("applied pages %v: page (%d, %d] after event %d: events skipped or applied twice", ls.applyLog(t), r[0], r[1], next)
		}
		next = r[1]
	}
	if next != last {
		t.Fatalf("applied events up to %d, want %d", next, last)
	}
}

func gbp(m int64) *typev1.Money { return &typev1.Money{CurrencyCode: "GBP", AmountMinor: m} }

// writer records random activity in profile: orders, refunds, views, tag
// changes, and creates and deletes of customers without events.
type writer struct {
	pc     profilev1.ProfileServiceClient
	rng    *rand.Rand
	n      int
	last   int64
	erased int
}

func (w *writer) batch(t *testing.T, size int) {
	t.Helper()
	ctx := context.Background()
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	events := make([]*profilev1.Event, size)
	for i := range events {
		w.n++
		id := fmt.Sprintf("ev-%06d", w.n)
		cust := fmt.Sprintf("c%03d", w.rng.IntN(60))
		e := &profilev1.Event{EventId: id, CustomerId: cust, OccurredAt: timestamppb.New(base.Add(time.Duration(w.rng.IntN(1e6)) * time.Second))}
		switch k := w.rng.IntN(10); {
		case k < 5:
			amt := int64(100 + w.rng.IntN(9000))
			e.Payload = &profilev1.Event_OrderPlaced{OrderPlaced: &profilev1.OrderPlaced{OrderId: "o" + id, Total: gbp(amt),
				Channel: []string{"web", "app"}[w.rng.IntN(2)],
				Lines:   []*profilev1.OrderLine{{Sku: "s", Category: fmt.Sprintf("cat%d", w.rng.IntN(4)), Quantity: 1, UnitPrice: gbp(amt)}}}}
		case k < 6:
			e.Payload = &profilev1.Event_OrderRefunded{OrderRefunded: &profilev1.OrderRefunded{Amount: gbp(int64(50 + w.rng.IntN(200)))}}
		default:
			e.Payload = &profilev1.Event_ProductViewed{ProductViewed: &profilev1.ProductViewed{Sku: "s", Category: "cat1"}}
		}
		events[i] = e
	}
	resp, err := w.pc.BatchRecordEvents(ctx, &profilev1.BatchRecordEventsRequest{Events: events})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range resp.GetResults() {
		w.last = max(w.last, r.GetSequence())
	}
	// Profile changes: tags on an existing customer, a short-lived customer.
	cust := fmt.Sprintf("c%03d", w.rng.IntN(60))
	if r, err := w.pc.AddCustomerTags(ctx, &profilev1.AddCustomerTagsRequest{Name: "customers/" + cust, Tags: []string{fmt.Sprintf("t%d", w.rng.IntN(3))}}); err == nil {
		_ = r
	}
	tmp := fmt.Sprintf("tmp-%d", w.n)
	if _, err := w.pc.CreateCustomer(ctx, &profilev1.CreateCustomerRequest{CustomerId: tmp, Customer: &profilev1.Customer{Tags: []string{"x"}}}); err != nil {
		t.Fatal(err)
	}
	switch w.rng.IntN(3) {
	case 0:
		if _, err := w.pc.DeleteCustomer(ctx, &profilev1.DeleteCustomerRequest{Name: "customers/" + tmp}); err != nil {
			t.Fatal(err)
		}
	case 1: // an order, then erasure: the inputs move to the anonymous id
		if _, err := w.pc.BatchRecordEvents(ctx, &profilev1.BatchRecordEventsRequest{Events: []*profilev1.Event{{
			EventId: "tmp-order-" + tmp, CustomerId: tmp, OccurredAt: timestamppb.New(base),
			Payload: &profilev1.Event_OrderPlaced{OrderPlaced: &profilev1.OrderPlaced{OrderId: "o-" + tmp, Total: gbp(500), Channel: "web",
				Lines: []*profilev1.OrderLine{{Sku: "s", Category: "cat0", Quantity: 1, UnitPrice: gbp(500)}}}},
		}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.pc.EraseCustomer(ctx, &profilev1.EraseCustomerRequest{Name: "customers/" + tmp}); err != nil {
			t.Fatal(err)
		}
		w.erased++
	}
}

// head returns the sequence of the profile log's last event.
func head(t *testing.T, pc profilev1.ProfileServiceClient) int64 {
	t.Helper()
	resp, err := pc.GetEventLogHead(context.Background(), &profilev1.GetEventLogHeadRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetHeadSequence()
}

// config is the event-log consumer configuration segmentation runs with,
// over inputs (forgetting through forget, if set), with short backoffs.
func config(pc profilev1.ProfileServiceClient, inputs consumer.Inputs, forget consumer.Forgetter, pageSize int) eventlog.Config {
	return eventlog.Config{Client: pc, Handler: consumer.New(inputs, forget, quiet), IncludeFeatures: true, Logger: quiet,
		PageSize: pageSize, Backoff: backoff.Backoff{Min: time.Millisecond, Max: 5 * time.Millisecond}}
}

func newConsumer(t *testing.T, cfg eventlog.Config) *eventlog.Consumer {
	t.Helper()
	c, err := eventlog.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func runUntil(t *testing.T, c *eventlog.Consumer, s segmentation.InputStore, seq int64) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		cur, err := s.Cursor(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if cur >= seq {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cursor %d, want %d", cur, seq)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func snapshot(t *testing.T, s segmentation.InputStore) []segmentation.Customer {
	t.Helper()
	cs, err := s.LoadCustomers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// TestKillAndRestart consumes while profile keeps receiving events, killing
// the consumer at random moments (mid-stream, mid-page, between pages), and
// compares the result with an uninterrupted run on a fresh database, on
// each storage engine.
func TestKillAndRestart(t *testing.T) {
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) { testKillAndRestart(t, eng.open) })
	}
}

func testKillAndRestart(t *testing.T, open opener) {
	pc := startProfile(t)
	w := &writer{pc: pc, rng: rand.New(rand.NewPCG(1, 2))}
	w.batch(t, 300)

	interrupted := newStore(t, open)
	cfg := config(pc, interrupted, nil, 37)
	var wg sync.WaitGroup
	wg.Add(1)
	stopWriting := make(chan struct{})
	go func() {
		defer wg.Done()
		for i := 0; i < 15; i++ {
			select {
			case <-stopWriting:
				return
			default:
			}
			w.batch(t, 200)
		}
	}()
	rng := rand.New(rand.NewPCG(3, 4))
	restarts := 0
	writing := true
	for writing || restarts < 30 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rng.IntN(4000))*time.Microsecond)
		if err := newConsumer(t, cfg).Run(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
		restarts++
		if writing {
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
				writing = false
			default:
			}
		}
	}
	close(stopWriting)
	last := head(t, pc)
	runUntil(t, newConsumer(t, cfg), interrupted, last)

	fresh := newStore(t, open)
	runUntil(t, newConsumer(t, config(pc, fresh, nil, 0)), fresh, last)

	checkAppliedOnce(t, interrupted, last)
	checkAppliedOnce(t, fresh, last)
	got, want := snapshot(t, interrupted), snapshot(t, fresh)
	if len(want) < 60 {
		t.Fatalf("uninterrupted run has %d customers, want at least 60", len(want))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after %d restarts: %d customers differ from an uninterrupted run's %d", restarts, len(got), len(want))
		for i := range min(len(got), len(want)) {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Errorf("first difference: %+v\nwant %+v", got[i], want[i])
				break
			}
		}
	}
	var withOrders int
	for _, c := range want {
		if c.Features.OrderCount > 0 && c.ID[0] == 'c' {
			withOrders++
			if c.Features.Currency != "GBP" || c.Features.LastOrderTime.IsZero() {
				t.Fatalf("customer %s has orders but features %+v", c.ID, c.Features)
			}
		}
	}
	if withOrders != 60 {
		t.Errorf("%d customers with orders, want 60", withOrders)
	}
	if w.erased == 0 {
		t.Error("the writer erased no customer")
	}
	t.Logf("%d restarts, %d events, %d customers, %d erased", restarts, last, len(want), w.erased)
}

// TestFailureBeforeCommit fails every page after its mutations and cursor
// are written and before the commit: the cursor must not move and nothing
// may be applied; once pages commit again, the result equals an
// uninterrupted run.
func TestFailureBeforeCommit(t *testing.T) {
	ctx := context.Background()
	pc := startProfile(t)
	w := &writer{pc: pc, rng: rand.New(rand.NewPCG(5, 6))}
	w.batch(t, 100)
	ls := newStore(t, sqlstoretest.SQLite)
	cfg := config(pc, ls, nil, 20)
	first := head(t, pc)
	runUntil(t, newConsumer(t, cfg), ls, first)
	cursor, customers, log := first, snapshot(t, ls), ls.applyLog(t)

	for range 3 {
		w.batch(t, 100)
	}
	last := head(t, pc)
	ls.fail.Store(true)
	var attempts atomic.Int64
	// The forgetter is never called: no page commits.
	failing := config(pc, countingStore{ls, &attempts}, forbidden{t}, 20)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- newConsumer(t, failing).Run(rctx) }()
	for deadline := time.Now().Add(10 * time.Second); attempts.Load() < 5; {
		if time.Now().After(deadline) {
			t.Fatalf("%d apply attempts", attempts.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got, err := ls.Cursor(ctx); err != nil || got != cursor {
		t.Fatalf("cursor after failed pages = %d, %v; want %d", got, err, cursor)
	}
	if got := snapshot(t, ls); !reflect.DeepEqual(got, customers) {
		t.Fatal("failed pages changed the customers")
	}
	if got := ls.applyLog(t); !reflect.DeepEqual(got, log) {
		t.Fatalf("apply log after failed pages = %v, want %v", got, log)
	}

	ls.fail.Store(false)
	runUntil(t, newConsumer(t, cfg), ls, last)
	checkAppliedOnce(t, ls, last)
	fresh := newStore(t, sqlstoretest.SQLite)
	runUntil(t, newConsumer(t, config(pc, fresh, nil, 0)), fresh, last)
	if got, want := snapshot(t, ls), snapshot(t, fresh); !reflect.DeepEqual(got, want) {
		t.Errorf("after recovery: %d customers differ from an uninterrupted run's %d", len(got), len(want))
	}
}

// forbidden is a Forgetter that must not be called.
type forbidden struct{ t *testing.T }

func (f forbidden) Applied([]segmentation.Mutation, int64, int64) {
	f.t.Error("Applied called for a page that failed")
}

func (f forbidden) Forget(context.Context, []segmentation.Mutation) error {
	f.t.Error("Forget called for a page that failed")
	return nil
}

// countingStore counts ApplyPage calls that fail with the injected error.
type countingStore struct {
	*loggedStore
	n *atomic.Int64
}

func (c countingStore) ApplyPage(ctx context.Context, muts []segmentation.Mutation, cursor int64, sequences []int64) error {
	err := c.loggedStore.ApplyPage(ctx, muts, cursor, sequences)
	if errors.Is(err, errInjected) {
		c.n.Add(1)
	}
	return err
}
