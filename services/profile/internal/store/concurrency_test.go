package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"github.com/tenurehq/tenure/services/profile/internal/profile"
	"github.com/tenurehq/tenure/services/profile/internal/store"
)

// hangGuard bounds tests that would hang (or stall until a deadline) if a
// transaction waited for a second connection; it is not a timing
// assertion.
const hangGuard = 2 * time.Minute

var fold = profile.FoldFunc((*profile.Features).Apply)

var base = time.Date(2025, 5, 1, 8, 0, 0, 0, time.UTC)

func activeCustomer(id string) profile.Customer {
	return profile.Customer{ID: id, FullName: "Customer " + id, State: profile.StateActive, CreateTime: base, UpdateTime: base}
}

// updatedEvent is the CustomerEventFunc of the tests: one customer_updated
// (or customer_deleted) event per write, named after the revision.
func updatedEvent(before, after profile.Customer) (profile.Event, bool) {
	if after.ID == "" {
		return profile.Event{ID: "deleted-" + before.ID, CustomerID: before.ID,
			OccurredAt: base, RecordTime: base, Payload: profile.CustomerDeleted{}}, true
	}
	return profile.Event{
		ID: fmt.Sprintf("updated-%s-%d", after.ID, after.Revision), CustomerID: after.ID,
		OccurredAt: after.UpdateTime, RecordTime: after.UpdateTime,
		Payload: profile.CustomerUpdated{Tags: after.Tags},
	}, true
}

func orderEvent(id, customer string, n int) profile.Event {
	at := base.Add(time.Duration(n) * time.Minute)
	price := int64(100 + n%700)
	return profile.Event{
		ID: id, CustomerID: customer, OccurredAt: at, RecordTime: at.Add(time.Second),
		Payload: profile.OrderPlaced{
			OrderID: "o-" + id,
			Lines: []profile.OrderLine{{SKU: "sku", Category: fmt.Sprintf("cat-%d", n%5), Quantity: 1,
				UnitPrice: profile.Money{Currency: "GBP", Minor: price}}},
			Total:   profile.Money{Currency: "GBP", Minor: price},
			Channel: []string{"web", "app"}[n%2],
		},
	}
}

// TestWritersOnOneConnection runs every write and read of the store on a
// pool of one connection: a transaction that needed a second connection
// would wait for ever (here: until the guard's deadline).
func TestWritersOnOneConnection(t *testing.T) {
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			db, _ := eng.open(t)
			s := migrated(t, db)
			db.SetMaxOpenConns(1)
			ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
			defer cancel()
			must := func(what string, err error) {
				t.Helper()
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
			}

			_, err := s.CreateCustomer(ctx, activeCustomer("a"), updatedEvent)
			must("CreateCustomer", err)
			_, err = s.UpdateCustomer(ctx, "a", func(c *profile.Customer) error {
				c.Tags = []string{"vip"}
				return nil
			}, updatedEvent)
			must("UpdateCustomer", err)
			res, err := s.AppendEvents(ctx, []profile.Event{orderEvent("e1", "a", 1), orderEvent("e2", "b", 2)}, fold)
			must("AppendEvents", err)
			_, err = s.AppendEvents(ctx, []profile.Event{orderEvent("e1", "a", 1), orderEvent("e3", "b", 3)}, fold)
			must("AppendEvents with a duplicate", err)
			_, err = s.CreateCustomer(ctx, activeCustomer("b"), updatedEvent) // completes the provisional b
			must("CreateCustomer of a provisional customer", err)
			_, err = s.CreateCustomer(ctx, activeCustomer("d"), updatedEvent)
			must("CreateCustomer", err)
			must("DeleteCustomer", s.DeleteCustomer(ctx, "d", func(profile.Customer) error { return nil }, updatedEvent))
			_, err = s.EraseCustomer(ctx, "b", profile.Event{ID: "erased-b", CustomerID: "b", OccurredAt: base, RecordTime: base,
				Payload: profile.CustomerErased{AnonymousID: "anon-b"}})
			must("EraseCustomer", err)
			_, err = s.GetCustomer(ctx, "a")
			must("GetCustomer", err)
			_, err = s.CustomerFeatures(ctx, []string{"a", "anon-b"})
			must("CustomerFeatures", err)
			_, err = s.ListCustomerEvents(ctx, "a", 0, 10)
			must("ListCustomerEvents", err)
			head, err := s.HeadSequence(ctx)
			must("HeadSequence", err)
			log, err := s.ListEvents(ctx, 0, 100)
			must("ListEvents", err)
			// created a, updated a, e1, e2, e3, updated b, created d, deleted d, erased b
			if len(log) != 9 || log[len(log)-1].Sequence != head {
				t.Errorf("log: got %d events ending at %d, head %d; want 9 ending at the head", len(log), log[len(log)-1].Sequence, head)
			}
			if res[0].Sequence == 0 || res[1].Sequence <= res[0].Sequence {
				t.Errorf("AppendEvents results: got %+v, want increasing sequences", res)
			}
		})
	}
}

// follower reads the whole log in sequence order, as a consumer of
// StreamEvents does, and records what it saw.
type follower struct {
	s    *store.Store
	last int64
	seen map[string]int
	errs []error
}

// poll reads the log after the last event seen; it reports whether it got
// any.
func (f *follower) poll(ctx context.Context) bool {
	page, err := f.s.ListEvents(ctx, f.last, 50)
	if err != nil {
		f.errs = append(f.errs, err)
		return false
	}
	for _, e := range page {
		if e.Sequence <= f.last {
			f.errs = append(f.errs, fmt.Errorf("sequence %d after %d", e.Sequence, f.last))
		}
		f.last = e.Sequence
		f.seen[e.ID]++
	}
	return len(page) > 0
}

// TestConcurrentWritesBeyondPool runs more writers than the pool has
// connections (event batches, and profile updates with their system
// events, many on the same customers) while a follower reads the log: the
// follower must see every event exactly once, in sequence order, and every
// customer's features must be exactly the fold of its events.
func TestConcurrentWritesBeyondPool(t *testing.T) {
	const (
		poolSize      = 4
		batchWriters  = 10
		batches       = 8
		batchSize     = 40
		updaters      = 6
		updates       = 12
		customers     = 30
		knownCustomer = 10 // c00…c09 exist from the start; the rest appear with their first event
	)
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			db, _ := eng.open(t)
			s := migrated(t, db)
			db.SetMaxOpenConns(poolSize)
			ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
			defer cancel()
			customerID := func(n int) string { return fmt.Sprintf("c%02d", n) }
			for c := range knownCustomer {
				if _, err := s.CreateCustomer(ctx, activeCustomer(customerID(c)), nil); err != nil {
					t.Fatal(err)
				}
			}

			var (
				wg   sync.WaitGroup
				mu   sync.Mutex
				errs []error
			)
			report := func(err error) {
				mu.Lock()
				defer mu.Unlock()
				errs = append(errs, err)
			}
			for w := range batchWriters {
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(w), 1))
					var previous []profile.Event
					for b := range batches {
						var events []profile.Event
						for i := range batchSize {
							n := (w*batches+b)*batchSize + i
							events = append(events, orderEvent(fmt.Sprintf("w%d-b%d-e%d", w, b, i), customerID(rng.IntN(customers)), n))
						}
						events = append(events, previous...) // duplicates, accepted once
						if _, err := s.AppendEvents(ctx, events, fold); err != nil {
							report(fmt.Errorf("AppendEvents: %w", err))
						}
						previous = events[:batchSize/4]
					}
				})
			}
			for u := range updaters {
				wg.Go(func() {
					for r := range updates {
						_, err := s.UpdateCustomer(ctx, customerID((u+r)%knownCustomer), func(c *profile.Customer) error {
							c.Tags = []string{fmt.Sprintf("u%d-r%d", u, r)}
							c.UpdateTime = base.Add(time.Duration(r) * time.Second)
							return nil
						}, updatedEvent)
						if err != nil {
							report(fmt.Errorf("UpdateCustomer: %w", err))
						}
					}
				})
			}
			writersDone := make(chan struct{})
			go func() { wg.Wait(); close(writersDone) }()
			f := &follower{s: s, seen: map[string]int{}}
			for running := true; running; {
				select {
				case <-writersDone:
					running = false
				default:
					f.poll(ctx)
				}
			}
			for f.poll(ctx) {
			}

			for _, err := range append(errs, f.errs...) {
				t.Error(err)
			}
			want := batchWriters*batches*batchSize + updaters*updates
			if len(f.seen) != want {
				t.Errorf("follower saw %d distinct events, want %d", len(f.seen), want)
			}
			for id, n := range f.seen {
				if n != 1 {
					t.Errorf("follower saw %s %d times, want once", id, n)
				}
			}
			for c := range customers {
				checkFeatures(t, ctx, s, customerID(c))
			}
		})
	}
}

// checkFeatures compares a customer's stored features with the fold of
// its events in the log.
func checkFeatures(t *testing.T, ctx context.Context, s *store.Store, id string) {
	t.Helper()
	events, err := s.ListCustomerEvents(ctx, id, 0, 10_000)
	if err != nil {
		t.Fatalf("ListCustomerEvents(%s): %v", id, err)
	}
	var want profile.Features
	for _, e := range events {
		fold(&want, e)
	}
	c, err := s.GetCustomer(ctx, id)
	if err != nil {
		t.Fatalf("GetCustomer(%s): %v", id, err)
	}
	got, _ := json.Marshal(c.Features)
	wantJSON, _ := json.Marshal(want)
	if string(got) != string(wantJSON) {
		t.Errorf("features of %s:\n got %s\nwant %s", id, got, wantJSON)
	}
}

// TestUpdateDuringBatchLoad is the shape of a stall seen in production:
// more concurrent batch writers than pool connections, then the first
// profile update since start. The update and the batches must all finish
// (within the guard's deadline).
func TestUpdateDuringBatchLoad(t *testing.T) {
	const (
		loops     = 18 // more than the pool's 16 connections
		batchSize = 500
	)
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			db, _ := eng.open(t)
			s := migrated(t, db)
			ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
			defer cancel()
			if _, err := s.CreateCustomer(ctx, activeCustomer("patched"), nil); err != nil {
				t.Fatal(err)
			}

			stop := make(chan struct{})
			var (
				loopsDone, warm sync.WaitGroup
				mu              sync.Mutex
				errs            []error
			)
			warm.Add(loops)
			for l := range loops {
				loopsDone.Go(func() {
					for b := 0; ; b++ {
						events := make([]profile.Event, batchSize)
						for i := range events {
							n := b*batchSize + i
							events[i] = orderEvent(fmt.Sprintf("l%d-%d", l, n), fmt.Sprintf("l%d-c%d", l, n%50), n)
						}
						_, err := s.AppendEvents(ctx, events, fold)
						if b == 0 {
							warm.Done()
						}
						if err != nil {
							mu.Lock()
							errs = append(errs, err)
							mu.Unlock()
							return
						}
						select {
						case <-stop:
							return
						default:
						}
					}
				})
			}
			warm.Wait() // every loop has written, and keeps writing
			_, err := s.UpdateCustomer(ctx, "patched", func(c *profile.Customer) error {
				c.FullName = "Patched"
				return nil
			}, updatedEvent)
			close(stop)
			loopsDone.Wait()
			if err != nil {
				t.Errorf("UpdateCustomer during the batch load: %v", err)
			}
			for _, err := range errs {
				t.Errorf("AppendEvents: %v", err)
			}
		})
	}
}

// TestReadersStopBelowWritesInFlight: on PostgreSQL a batch of another
// customer commits while an earlier batch, holding a lower sequence, is
// still in flight. Readers of the log must not get past that lower
// sequence until it commits, or a consumer resuming after the higher one
// would never see it.
func TestReadersStopBelowWritesInFlight(t *testing.T) {
	db, _ := sqlstoretest.PostgresDSN(t)
	s := migrated(t, db)
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	mustList := func() []string {
		t.Helper()
		evs, err := s.ListEvents(ctx, 0, 10)
		if err != nil {
			t.Fatalf("ListEvents: %v", err)
		}
		var ids []string
		for _, e := range evs {
			ids = append(ids, e.ID)
		}
		return ids
	}
	mustHead := func() int64 {
		t.Helper()
		head, err := s.HeadSequence(ctx)
		if err != nil {
			t.Fatalf("HeadSequence: %v", err)
		}
		return head
	}

	// The slow batch stops inside its event insert, after its event took
	// its sequence.
	slow, release := appendHeld(t, ctx, db, s, orderEvent("slow", "a", 1))
	res, err := s.AppendEvents(ctx, []profile.Event{orderEvent("fast", "b", 2)}, fold)
	if err != nil {
		t.Fatalf("fast AppendEvents (another customer, while the slow one is in flight): %v", err)
	}
	if got := mustList(); len(got) != 0 {
		t.Errorf("log while a lower sequence is in flight: got %v, want nothing yet", got)
	}
	if head := mustHead(); head != 0 {
		t.Errorf("head while a lower sequence is in flight: got %d, want 0", head)
	}

	release()
	if err := <-slow; err != nil {
		t.Fatalf("slow AppendEvents: %v", err)
	}
	if got, want := mustList(), []string{"slow", "fast"}; !slices.Equal(got, want) {
		t.Errorf("log: got %v, want %v", got, want)
	}
	if head := mustHead(); head != res[0].Sequence {
		t.Errorf("head: got %d, want %d", head, res[0].Sequence)
	}
}

// holdInsert makes the transactions that insert event id into the log
// wait inside that insert (after the event took its sequence and its
// place in the unique index of event ids) until release is called: a
// trigger of the test's database waits for an advisory lock the test
// holds.
func holdInsert(t *testing.T, ctx context.Context, db *sqlstore.DB, id string) (release func()) {
	t.Helper()
	holder, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = holder.Close() })
	for _, stmt := range []string{
		`SELECT pg_advisory_lock(4242)`,
		`CREATE FUNCTION hold_insert() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.event_id = '` + id + `' THEN PERFORM pg_advisory_xact_lock_shared(4242); END IF;
			RETURN NEW;
		END $$`,
		`CREATE TRIGGER hold_insert AFTER INSERT ON events FOR EACH ROW EXECUTE FUNCTION hold_insert()`,
	} {
		if _, err := holder.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	return func() {
		if _, err := holder.ExecContext(ctx, `SELECT pg_advisory_unlock(4242)`); err != nil {
			t.Fatal(err)
		}
	}
}

// appendHeld starts appending e and returns once the append is held
// inside its insert (holdInsert); done gets its error after release.
func appendHeld(t *testing.T, ctx context.Context, db *sqlstore.DB, s *store.Store, e profile.Event) (done <-chan error, release func()) {
	t.Helper()
	release = holdInsert(t, ctx, db, e.ID)
	errc := make(chan error, 1)
	go func() {
		_, err := s.AppendEvents(ctx, []profile.Event{e}, fold)
		errc <- err
	}()
	waitForLockWait(t, ctx, db)
	return errc, release
}

// TestAppendEventIDTakenMeanwhile: a batch for customer b looks its event
// id up while a batch for customer a has inserted the same id and not yet
// committed. Once that one commits, b's insert fails on the unique id, and
// b's append runs again: its event is a duplicate, and b is not created.
func TestAppendEventIDTakenMeanwhile(t *testing.T) {
	db, _ := sqlstoretest.PostgresDSN(t)
	s := migrated(t, db)
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	first, release := appendHeld(t, ctx, db, s, orderEvent("e1", "a", 1))
	second := make(chan []profile.AppendResult, 1)
	go func() {
		res, err := s.AppendEvents(ctx, []profile.Event{orderEvent("e1", "b", 1)}, fold)
		if err != nil {
			t.Errorf("AppendEvents for b: %v", err)
		}
		second <- res
	}()
	waitForLockWaits(t, ctx, db, 2) // b waits for a's uncommitted e1
	release()
	if err := <-first; err != nil {
		t.Fatalf("AppendEvents for a: %v", err)
	}
	if res := <-second; len(res) != 1 || !res[0].Duplicate {
		t.Errorf("results for b: got %+v, want one duplicate", res)
	}
	if _, err := s.GetCustomer(ctx, "b"); !errors.Is(err, profile.ErrCustomerNotFound) {
		t.Errorf("customer b: got %v, want not found", err)
	}
	if c, err := s.GetCustomer(ctx, "a"); err != nil || c.Features.OrderCount != 1 {
		t.Errorf("customer a: got %d orders (%v), want 1", c.Features.OrderCount, err)
	}
}

// TestAppendRecreatesCustomerDeletedMeanwhile: a customer deleted after an
// append found it and before the append locked it is created again as
// provisional, with the append's event folded in.
func TestAppendRecreatesCustomerDeletedMeanwhile(t *testing.T) {
	db, _ := sqlstoretest.PostgresDSN(t)
	s := migrated(t, db)
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	if _, err := s.CreateCustomer(ctx, activeCustomer("x"), nil); err != nil {
		t.Fatal(err)
	}

	// Another transaction holds x's row, as DeleteCustomer does before
	// it deletes.
	deleter, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer deleter.Rollback()
	if _, err := deleter.ExecContext(ctx, `SELECT 1 FROM customers WHERE customer_id = 'x' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	appended := make(chan error, 1)
	go func() {
		_, err := s.AppendEvents(ctx, []profile.Event{orderEvent("e1", "x", 1)}, fold)
		appended <- err
	}()
	waitForLockWait(t, ctx, db)
	if _, err := deleter.ExecContext(ctx, `DELETE FROM customers WHERE customer_id = 'x'`); err != nil {
		t.Fatal(err)
	}
	if err := deleter.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-appended; err != nil {
		t.Fatalf("AppendEvents: %v", err)
	}
	c, err := s.GetCustomer(ctx, "x")
	if err != nil {
		t.Fatalf("GetCustomer: %v", err)
	}
	if c.State != profile.StateProvisional || c.Features.OrderCount != 1 {
		t.Errorf("customer: got state %v with %d orders, want provisional with 1", c.State, c.Features.OrderCount)
	}
}

// waitForLockWait returns once a session of db's database waits for a
// lock held by another.
func waitForLockWait(t *testing.T, ctx context.Context, db *sqlstore.DB) {
	t.Helper()
	waitForLockWaits(t, ctx, db, 1)
}

// waitForLockWaits returns once n sessions of db's database wait for
// locks.
func waitForLockWaits(t *testing.T, ctx context.Context, db *sqlstore.DB, n int) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		var waiting int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatalf("pg_stat_activity: %v", err)
		}
		if waiting >= n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no session waits for a lock: %v", ctx.Err())
		case <-tick.C:
		}
	}
}
