package store

import (
	"context"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/loyalty/internal/loyalty"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
)

// TestExpireSkipsMemberEmptiedWhileLocked: a member whose due buckets
// another transaction empties while the expiry job waits for the
// member's lock gets no expire entry, and its entry number stays the other
// transaction's; the members around it are expired. Only PostgreSQL lets
// the job wait inside its batch (SQLite's writers run one at a time).
func TestExpireSkipsMemberEmptiedWhileLocked(t *testing.T) {
	ctx := context.Background()
	db := sqlstoretest.Postgres(t)
	s := New(db)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	asOf := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	seedMembers(t, s, 3, asOf) // m00000000–m00000002: entry number 5, five due buckets of 10
	const emptied = "m00000001"

	// A change to the member, as a redemption makes: it numbers an entry
	// and takes the due buckets' points, and holds the member until it
	// commits.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	for _, q := range []string{`UPDATE members SET seq = seq + 1 WHERE member_id = $1`,
		`UPDATE buckets SET remaining = 0 WHERE member_id = $1`} {
		if _, err := tx.ExecContext(ctx, q, emptied); err != nil {
			t.Fatal(err)
		}
	}

	type result struct {
		op  loyalty.Operation
		err error
	}
	done := make(chan result, 1)
	go func() {
		op, err := loyalty.NewService(s, func() time.Time { return asOf }).RunJob(ctx, loyalty.JobExpire, asOf, false)
		done <- result{op, err}
	}()
	waitForLockWait(t, s)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.op.State != loyalty.OpSucceeded || r.op.MembersChanged != 2 || r.op.Points != 100 {
		t.Fatalf("job = %+v, %v; want 2 members and 100 points expired", r.op, r.err)
	}
	for id, want := range map[string]int64{"m00000000": 6, emptied: 6, "m00000002": 6} {
		a, err := s.ReadAccount(ctx, id, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		es, err := s.ListEntries(ctx, id, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		var left int64
		for _, b := range a.Buckets {
			left += b.Remaining
		}
		expired := len(es) == 1 && es[0].Type == loyalty.EntryExpire && es[0].Seq == 6 && es[0].Points == -50
		if a.Member.Seq != want || left != 0 || expired == (id == emptied) {
			t.Errorf("%s: entry number %d, %d points left, entries %+v; want number %d, nothing left, expired %v",
				id, a.Member.Seq, left, es, want, id != emptied)
		}
	}
}

// waitForLockWait returns once a session of s's database waits for a
// row lock.
func waitForLockWait(t *testing.T, s *Store) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		var n int
		err := s.db.QueryRowContext(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
	}
	t.Fatal("the job never waited for the member's lock")
}
