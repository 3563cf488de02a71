package eventlog_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/platform/backoff"
	"github.com/tenurehq/tenure/services/platform/eventlog"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fast keeps reconnects quick in tests.
var fast = backoff.Backoff{Min: time.Millisecond, Max: 5 * time.Millisecond}

var errInjected = errors.New("injected failure before commit")

// recorder is a Handler that records every applied event, with whether it
// came with features, in the page's transaction; while fail is set, pages
// fail after their writes, before the commit.
type recorder struct {
	db     *sqlstore.DB
	fail   atomic.Bool
	failed atomic.Int64 // pages failed by fail
	// failures receives a value for each page failed by fail, when there
	// is room.
	failures chan struct{}
}

func newRecorder(t *testing.T, db *sqlstore.DB) *recorder {
	t.Helper()
	for _, q := range []string{
		`CREATE TABLE event_cursor (id INTEGER PRIMARY KEY, sequence BIGINT NOT NULL)`,
		`INSERT INTO event_cursor (id, sequence) VALUES (1, 0)`,
		`CREATE TABLE applied (sequence BIGINT NOT NULL, with_features INTEGER NOT NULL)`,
	} {
		if _, err := db.ExecContext(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	return &recorder{db: db, failures: make(chan struct{}, 16)}
}

func (r *recorder) Cursor(ctx context.Context) (int64, error) {
	var seq int64
	err := r.db.QueryRowContext(ctx, `SELECT sequence FROM event_cursor WHERE id = 1`).Scan(&seq)
	return seq, err
}

func (r *recorder) Apply(ctx context.Context, events []*profilev1.StreamEventsResponse) error {
	lock := ""
	if r.db.Dialect == sqlstore.Postgres {
		lock = " FOR UPDATE"
	}
	return r.db.InTx(ctx, func(tx *sql.Tx) error {
		var cur int64
		if err := tx.QueryRowContext(ctx, `SELECT sequence FROM event_cursor WHERE id = 1`+lock).Scan(&cur); err != nil {
			return err
		}
		for _, ev := range events {
			if seq := ev.GetEvent().GetSequence(); seq > cur {
				withFeatures := 0
				if ev.GetFeatures() != nil {
					withFeatures = 1
				}
				if _, err := tx.ExecContext(ctx, r.db.Rebind(`INSERT INTO applied (sequence, with_features) VALUES (?, ?)`), seq, withFeatures); err != nil {
					return err
				}
			}
		}
		last := events[len(events)-1].GetEvent().GetSequence()
		if _, err := tx.ExecContext(ctx, r.db.Rebind(`UPDATE event_cursor SET sequence = ? WHERE id = 1 AND sequence < ?`), last, last); err != nil {
			return err
		}
		if r.fail.Load() {
			r.failed.Add(1)
			select {
			case r.failures <- struct{}{}:
			default:
			}
			return errInjected
		}
		return nil
	})
}

// checkAppliedOnce fails unless events 1..last were each applied exactly
// once, with features if withFeatures, and the cursor is last.
func (r *recorder) checkAppliedOnce(t *testing.T, last int64, withFeatures bool) {
	t.Helper()
	ctx := context.Background()
	rows, err := r.db.QueryContext(ctx, `SELECT sequence, with_features FROM applied ORDER BY sequence`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var want int64 = 1
	for rows.Next() {
		var seq, wf int64
		if err := rows.Scan(&seq, &wf); err != nil {
			t.Fatal(err)
		}
		switch {
		case seq < want:
			t.Fatalf("event %d applied twice", seq)
		case seq > want:
			t.Fatalf("event %d never applied (next applied: %d)", want, seq)
		case (wf == 1) != withFeatures:
			t.Fatalf("event %d applied with features %v, want %v", seq, wf == 1, withFeatures)
		}
		want++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want-1 != last {
		t.Fatalf("applied events 1..%d, want 1..%d", want-1, last)
	}
	if cur, err := r.Cursor(ctx); err != nil || cur != last {
		t.Fatalf("cursor = %d, %v; want %d", cur, err, last)
	}
}

func newConsumer(t *testing.T, cfg eventlog.Config) *eventlog.Consumer {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	if cfg.Backoff == (backoff.Backoff{}) {
		cfg.Backoff = fast
	}
	c, err := eventlog.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// run starts c in the background; the returned function stops it and
// fails the test if Run returned an error.
func run(t *testing.T, c *eventlog.Consumer) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run = %v, want nil after cancel", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// waitCaughtUp waits, through the API under test, until h has applied
// profile's whole log.
func waitCaughtUp(t *testing.T, client profilev1.ProfileServiceClient, h eventlog.CursorReader) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := eventlog.WaitCaughtUp(ctx, client, h, 2*time.Millisecond); err != nil {
		t.Fatal(err)
	}
}

// TestResume stops a consumer and starts another on the same database:
// it asks for the log after the stored cursor and applies the rest once.
func TestResume(t *testing.T) {
	sqlstoretest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		log, client, stopLog := startLogServer()
		t.Cleanup(stopLog)
		rec := newRecorder(t, db)
		log.append(20)
		first := newConsumer(t, eventlog.Config{Client: client, Handler: rec, PageSize: 6})
		stop := run(t, first)
		waitCaughtUp(t, client, rec)
		stop()

		last := log.append(15)
		second := newConsumer(t, eventlog.Config{Client: client, Handler: rec})
		run(t, second)
		waitCaughtUp(t, client, rec)
		rec.checkAppliedOnce(t, last, false)
		if afters := log.streamAfters(); afters[0] != 0 || afters[len(afters)-1] != 20 {
			t.Errorf("streams started after %v, want the first after 0 and the last after the stored cursor 20", afters)
		}
	})
}

// TestReconnectsAfterStreamEnds has profile end every stream after a few
// events, as replicas that shut down do: the consumer reconnects each time,
// after the cursor it stored, and applies the whole log once.
func TestReconnectsAfterStreamEnds(t *testing.T) {
	log, client, stopLog := startLogServer()
	t.Cleanup(stopLog)
	log.breakAfter = 7
	last := log.append(50)
	rec := newRecorder(t, sqlstoretest.SQLite(t))
	c := newConsumer(t, eventlog.Config{Client: client, Handler: rec})
	run(t, c)
	waitCaughtUp(t, client, rec)
	rec.checkAppliedOnce(t, last, false)
	afters := log.streamAfters()
	if len(afters) < 50/7 {
		t.Fatalf("%d streams for 50 events ended every 7, want at least %d", len(afters), 50/7)
	}
	for i := 1; i < len(afters); i++ {
		if afters[i] <= afters[i-1] && afters[i-1] < last {
			t.Fatalf("streams started after %v: a reconnect did not resume after the applied events", afters)
		}
	}
}

// TestFailureBeforeCommit fails every page after its writes and before its
// commit: the cursor does not move, nothing is applied, the consumer keeps
// retrying from the stored cursor, and once pages commit again every event
// is applied once.
func TestFailureBeforeCommit(t *testing.T) {
	sqlstoretest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		log, client, stopLog := startLogServer()
		t.Cleanup(stopLog)
		rec := newRecorder(t, db)
		first := log.append(30)
		c := newConsumer(t, eventlog.Config{Client: client, Handler: rec, PageSize: 8})
		stop := run(t, c)
		waitCaughtUp(t, client, rec)
		stop()

		last := log.append(40)
		rec.fail.Store(true)
		stop = run(t, newConsumer(t, eventlog.Config{Client: client, Handler: rec, PageSize: 8}))
		for range 5 {
			select {
			case <-rec.failures:
			case <-time.After(20 * time.Second):
				t.Fatalf("%d failed pages in 20 s, want 5 retries", rec.failed.Load())
			}
		}
		stop()
		rec.checkAppliedOnce(t, first, false)
		for _, after := range log.streamAfters()[1:] {
			if after != first {
				t.Fatalf("streams started after %v, want every retry after the stored cursor %d", log.streamAfters(), first)
			}
		}

		rec.fail.Store(false)
		c = newConsumer(t, eventlog.Config{Client: client, Handler: rec, PageSize: 8})
		run(t, c)
		waitCaughtUp(t, client, rec)
		rec.checkAppliedOnce(t, last, false)
	})
}

// TestKillAndRestart kills consumers at random moments (mid-stream,
// mid-page, between pages) while profile keeps logging, and has two
// replicas consume the same database at once: every event is applied
// exactly once.
func TestKillAndRestart(t *testing.T) {
	sqlstoretest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		log, client, stopLog := startLogServer()
		t.Cleanup(stopLog)
		rec := newRecorder(t, db)
		log.append(100)
		cfg := eventlog.Config{Client: client, Handler: rec, PageSize: 13, IncludeFeatures: true}
		var wg sync.WaitGroup
		for replica := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(replica), 2))
				for range 40 {
					if replica == 0 { // profile keeps logging
						log.append(25)
					}
					ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rng.IntN(3000))*time.Microsecond)
					if err := newConsumer(t, cfg).Run(ctx); err != nil {
						t.Error(err)
					}
					cancel()
				}
			}()
		}
		wg.Wait()
		c := newConsumer(t, cfg)
		run(t, c)
		waitCaughtUp(t, client, rec)
		rec.checkAppliedOnce(t, 1100, true)
	})
}

// TestWaitCaughtUp waits for a log head the consumer has not reached: it
// fails with the deadline, saying how far the consumer got, and succeeds
// once the consumer runs.
func TestWaitCaughtUp(t *testing.T) {
	log, client, stopLog := startLogServer()
	t.Cleanup(stopLog)
	log.append(5)
	rec := newRecorder(t, sqlstoretest.SQLite(t))
	ctx, cancel := context.WithCancel(context.Background())
	err := eventlog.WaitCaughtUp(ctx, client, cancelOnCursor{rec, cancel}, time.Millisecond)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "caught up to 0 of profile's 5 events") {
		t.Fatalf("WaitCaughtUp before consuming = %v, want context.Canceled naming 0 of 5 events", err)
	}
	c := newConsumer(t, eventlog.Config{Client: client, Handler: rec})
	run(t, c)
	waitCaughtUp(t, client, rec)
	rec.checkAppliedOnce(t, 5, false)
}

// cancelOnCursor cancels a context once it has read the cursor.
type cancelOnCursor struct {
	*recorder
	cancel context.CancelFunc
}

func (c cancelOnCursor) Cursor(ctx context.Context) (int64, error) {
	defer c.cancel()
	return c.recorder.Cursor(ctx)
}

func TestNewRequiresClientAndHandler(t *testing.T) {
	_, client, stopLog := startLogServer()
	t.Cleanup(stopLog)
	for name, cfg := range map[string]eventlog.Config{
		"no client":  {Handler: &recorder{}},
		"no handler": {Client: client},
	} {
		if _, err := eventlog.New(cfg); err == nil {
			t.Errorf("%s: New succeeded, want an error", name)
		}
	}
}
