package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
)

// hangGuard bounds a test that would hang if the behaviour under test
// broke; it is not a timing assertion.
const hangGuard = 60 * time.Second

// seedItems inserts items with n = 0.
func seedItems(t *testing.T, db *sqlstore.DB, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if _, err := db.ExecContext(context.Background(), db.Rebind(`INSERT INTO items (id, n) VALUES (?, 0)`), id); err != nil {
			t.Fatalf("seed %s: %v", id, err)
		}
	}
}

func itemN(t *testing.T, db *sqlstore.DB, id string) int {
	t.Helper()
	return count(t, db, `SELECT n FROM items WHERE id = ?`, id)
}

func pgCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// TestInTxRetriesSerializationFailure makes a serializable transaction
// update a row another transaction changed after its snapshot: PostgreSQL
// fails it with 40001, and InTx runs it again, successfully.
func TestInTxRetriesSerializationFailure(t *testing.T) {
	db := migrated(t, sqlstoretest.Postgres(t))
	seedItems(t, db, "x")
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()

	var retried []error
	sqlstore.SetRetried(db, func(err error) { retried = append(retried, err) })
	attempts := 0
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		attempts++
		if _, err := tx.ExecContext(ctx, `SET TRANSACTION ISOLATION LEVEL SERIALIZABLE`); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT n FROM items WHERE id = 'x'`).Scan(&n); err != nil {
			return err
		}
		if attempts == 1 { // a concurrent writer commits after our snapshot
			if _, err := db.ExecContext(ctx, `UPDATE items SET n = n + 1 WHERE id = 'x'`); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE items SET n = $1 WHERE id = 'x'`, n+10)
		return err
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	if attempts != 2 {
		t.Errorf("attempts: got %d, want 2", attempts)
	}
	if len(retried) != 1 || pgCode(retried[0]) != "40001" {
		t.Errorf("retried errors: got %v, want one serialization failure (40001)", retried)
	}
	if got := itemN(t, db, "x"); got != 11 {
		t.Errorf("n: got %d, want 11 (the concurrent +1, then +10 on top of it)", got)
	}
}

// TestInTxRetriesDeadlock runs two transactions that lock two rows in
// opposite orders: PostgreSQL breaks the deadlock by failing one with
// 40P01, and InTx runs that one again, so both commit.
func TestInTxRetriesDeadlock(t *testing.T) {
	db := migrated(t, sqlstoretest.Postgres(t))
	seedItems(t, db, "a", "b")
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()

	var (
		mu      sync.Mutex
		retried []error
	)
	sqlstore.SetRetried(db, func(err error) {
		mu.Lock()
		defer mu.Unlock()
		retried = append(retried, err)
	})
	// Each transaction locks its first row, waits until the other has
	// locked its own, then asks for the other's row. Only the first
	// attempts wait: a retry goes straight through.
	var locked sync.WaitGroup
	locked.Add(2)
	var attempts atomic.Int32
	move := func(first, second string) func(tx *sql.Tx) error {
		var once sync.Once
		return func(tx *sql.Tx) error {
			attempts.Add(1)
			if _, err := tx.ExecContext(ctx, `UPDATE items SET n = n + 1 WHERE id = $1`, first); err != nil {
				return err
			}
			once.Do(func() { locked.Done(); locked.Wait() })
			_, err := tx.ExecContext(ctx, `UPDATE items SET n = n + 1 WHERE id = $1`, second)
			return err
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Go(func() { errs[0] = db.InTx(ctx, move("a", "b")) })
	wg.Go(func() { errs[1] = db.InTx(ctx, move("b", "a")) })
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("transaction %d: %v", i, err)
		}
	}
	// Usually one deadlock and one retry; on a loaded machine PostgreSQL
	// can report the deadlock again before the survivor commits. Every
	// retry must be for a deadlock, and each one is one more attempt.
	if len(retried) == 0 {
		t.Errorf("retried errors: none, want a deadlock (40P01)")
	}
	for _, err := range retried {
		if pgCode(err) != "40P01" {
			t.Errorf("retried error %v, want a deadlock (40P01)", err)
		}
	}
	if got, want := attempts.Load(), int32(2+len(retried)); got != want {
		t.Errorf("attempts: got %d, want %d (two first attempts and one per retry)", got, want)
	}
	for _, id := range []string{"a", "b"} {
		if got := itemN(t, db, id); got != 2 {
			t.Errorf("n of %s: got %d, want 2 (both transactions committed once)", id, got)
		}
	}
}

// busySQLite opens a second pool on dsn, as another process would, with
// one connection whose busy timeout is short, so a write transaction
// started while db holds the write lock fails with SQLITE_BUSY quickly.
func busySQLite(t *testing.T, dsn string) *sqlstore.DB {
	t.Helper()
	other, err := sqlstore.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open second pool: %v", err)
	}
	t.Cleanup(func() { _ = other.Close() })
	other.SetMaxOpenConns(1)
	if _, err := other.ExecContext(context.Background(), `PRAGMA busy_timeout = 20`); err != nil {
		t.Fatalf("busy_timeout: %v", err)
	}
	return other
}

// holdWriteLock starts a write transaction on db and keeps it open until
// release is closed; it returns once the lock is held, and the
// transaction's error on done.
func holdWriteLock(t *testing.T, db *sqlstore.DB, release <-chan struct{}) (done <-chan error) {
	t.Helper()
	held := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- db.InTx(context.Background(), func(tx *sql.Tx) error {
			if _, err := tx.Exec(`UPDATE items SET n = n + 1 WHERE id = 'x'`); err != nil {
				return err
			}
			close(held)
			<-release
			return nil
		})
	}()
	select {
	case <-held:
	case err := <-errc:
		t.Fatalf("hold write lock: %v", err)
	}
	return errc
}

func isBusy(err error) bool {
	var sqErr *sqlite.Error
	return errors.As(err, &sqErr) && sqErr.Code()&0xff == sqlite3.SQLITE_BUSY
}

// TestInTxRetriesSQLiteBusy: while another pool on the same file holds the
// write lock, InTx's transaction fails with SQLITE_BUSY; it is retried and
// commits once the lock is released.
func TestInTxRetriesSQLiteBusy(t *testing.T) {
	db, dsn := sqlstoretest.SQLiteDSN(t)
	migrated(t, db)
	seedItems(t, db, "x")
	other := busySQLite(t, dsn)
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()

	release := make(chan struct{})
	holder := holdWriteLock(t, db, release)
	var retried []error
	sqlstore.SetRetried(other, func(err error) {
		if len(retried) == 0 {
			close(release) // the first attempt failed: let the holder commit
		}
		retried = append(retried, err)
	})
	err := other.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE items SET n = n + 10 WHERE id = 'x'`)
		return err
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	if err := <-holder; err != nil {
		t.Fatalf("holder: %v", err)
	}
	if len(retried) == 0 || !isBusy(retried[0]) {
		t.Errorf("retried errors: got %v, want SQLITE_BUSY first", retried)
	}
	if got := itemN(t, db, "x"); got != 11 {
		t.Errorf("n: got %d, want 11", got)
	}
}

// TestInTxBackoffStopsOnCancel: a context cancelled while InTx waits to
// retry ends InTx with the context's error and no further attempt.
func TestInTxBackoffStopsOnCancel(t *testing.T) {
	db, dsn := sqlstoretest.SQLiteDSN(t)
	migrated(t, db)
	seedItems(t, db, "x")
	other := busySQLite(t, dsn)
	release := make(chan struct{})
	defer close(release)
	holdWriteLock(t, db, release)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	retries := 0
	sqlstore.SetRetried(other, func(error) {
		retries++
		cancel()
	})
	calls := 0
	err := other.InTx(ctx, func(tx *sql.Tx) error {
		calls++
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("InTx: got %v, want context.Canceled", err)
	}
	if !isBusy(err) {
		t.Errorf("InTx: got %v, want it to carry the SQLITE_BUSY that was being retried", err)
	}
	if retries != 1 || calls != 0 {
		t.Errorf("got %d retries and %d calls of fn, want 1 and 0", retries, calls)
	}
}
