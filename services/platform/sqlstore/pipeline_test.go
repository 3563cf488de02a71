package sqlstore_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
)

// pipelineDB returns a migrated database per engine whose pool has one
// connection, so a transaction that left its connection unusable (still
// in a transaction, or with unread results) makes the next one fail.
func pipelineDB(t *testing.T, fn func(t *testing.T, ctx context.Context, db *sqlstore.DB)) {
	sqlstoretest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		migrated(t, db)
		db.SetMaxOpenConns(1)
		ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
		defer cancel()
		fn(t, ctx, db)
	})
}

// queryN reads n of item id in tx (-1: no such item).
func queryN(ctx context.Context, db *sqlstore.DB, tx *sqlstore.Tx, id string) (int, error) {
	n := -1
	err := tx.Query(ctx, func(rows sqlstore.Rows) error {
		for rows.Next() {
			if err := rows.Scan(&n); err != nil {
				return err
			}
		}
		return nil
	}, db.Rebind(`SELECT n FROM items WHERE id = ?`), id)
	if err != nil {
		return 0, err
	}
	return n, tx.Flush(ctx)
}

// TestPipelinedTxCommits: statements run in order, a Query's rows are
// there after Flush, and all of them are committed together.
func TestPipelinedTxCommits(t *testing.T) {
	pipelineDB(t, func(t *testing.T, ctx context.Context, db *sqlstore.DB) {
		var seen int
		err := db.InPipelinedTx(ctx, func(tx *sqlstore.Tx) error {
			if err := tx.Exec(ctx, db.Rebind(`INSERT INTO items (id, n) VALUES (?, ?)`), "a", 1); err != nil {
				return err
			}
			if err := tx.Exec(ctx, db.Rebind(`UPDATE items SET n = n + 10 WHERE id = ?`), "a"); err != nil {
				return err
			}
			var err error
			if seen, err = queryN(ctx, db, tx, "a"); err != nil {
				return err
			}
			return tx.Exec(ctx, db.Rebind(`INSERT INTO items (id, n) VALUES (?, ?)`), "b", 2)
		})
		if err != nil {
			t.Fatalf("InPipelinedTx: %v", err)
		}
		if seen != 11 {
			t.Errorf("n of a read in the transaction: got %d, want 11 (insert and update ran first)", seen)
		}
		if got := itemN(t, db, "a"); got != 11 {
			t.Errorf("n of a after commit: got %d, want 11", got)
		}
		if got := itemN(t, db, "b"); got != 2 {
			t.Errorf("n of b after commit: got %d, want 2 (the last Exec is sent with the commit)", got)
		}
	})
}

// TestPipelinedTxRollsBack: when fn fails, or a statement held back fails
// at the commit, nothing of the transaction stays, the error says why, and
// the connection serves the next transaction.
func TestPipelinedTxRollsBack(t *testing.T) {
	pipelineDB(t, func(t *testing.T, ctx context.Context, db *sqlstore.DB) {
		seedItems(t, db, "taken")
		insert := db.Rebind(`INSERT INTO items (id, n) VALUES (?, ?)`)
		errStop := errors.New("stop")
		err := db.InPipelinedTx(ctx, func(tx *sqlstore.Tx) error {
			if err := tx.Exec(ctx, insert, "a", 1); err != nil {
				return err
			}
			if _, err := queryN(ctx, db, tx, "a"); err != nil {
				return err
			}
			return errStop
		})
		if !errors.Is(err, errStop) {
			t.Errorf("fn failing: got %v, want its error", err)
		}
		// A duplicate key held back until the commit: the statements
		// queued before and after it are not kept either.
		err = db.InPipelinedTx(ctx, func(tx *sqlstore.Tx) error {
			for _, id := range []string{"b", "taken", "c"} {
				if err := tx.Exec(ctx, insert, id, 1); err != nil {
					return err
				}
			}
			return nil
		})
		if !db.IsUniqueViolation(err) {
			t.Errorf("duplicate key at commit: got %v, want a unique violation", err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM items`); n != 1 {
			t.Errorf("items after the failed transactions: got %d, want 1 (only the seeded one)", n)
		}
		err = db.InPipelinedTx(ctx, func(tx *sqlstore.Tx) error { return tx.Exec(ctx, insert, "d", 4) })
		if err != nil {
			t.Fatalf("transaction after the failed ones: %v", err)
		}
		if got := itemN(t, db, "d"); got != 4 {
			t.Errorf("n of d: got %d, want 4", got)
		}
	})
}

// TestPipelinedTxRetriesDeadlock: two pipelined transactions lock two rows
// in opposite orders; PostgreSQL fails one with a deadlock, and
// InPipelinedTx runs it again, so both commit.
func TestPipelinedTxRetriesDeadlock(t *testing.T) {
	db := migrated(t, sqlstoretest.Postgres(t))
	seedItems(t, db, "a", "b")
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	var retried atomic.Int32
	sqlstore.SetRetried(db, func(err error) {
		if pgCode(err) != "40P01" {
			t.Errorf("retried error %v, want a deadlock (40P01)", err)
		}
		retried.Add(1)
	})
	var locked sync.WaitGroup
	locked.Add(2)
	move := func(first, second string) func(tx *sqlstore.Tx) error {
		var once sync.Once
		lock := `SELECT n FROM items WHERE id = $1 FOR UPDATE`
		return func(tx *sqlstore.Tx) error {
			for i, id := range []string{first, second} {
				if i == 1 {
					once.Do(func() { locked.Done(); locked.Wait() })
				}
				err := tx.Query(ctx, func(sqlstore.Rows) error { return nil }, lock, id)
				if err == nil {
					err = tx.Flush(ctx)
				}
				if err != nil {
					return err
				}
			}
			return tx.Exec(ctx, `UPDATE items SET n = n + 1 WHERE id = ANY($1::text[])`, []string{first, second})
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Go(func() { errs[0] = db.InPipelinedTx(ctx, move("a", "b")) })
	wg.Go(func() { errs[1] = db.InPipelinedTx(ctx, move("b", "a")) })
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("transaction %d: %v", i, err)
		}
	}
	if retried.Load() == 0 {
		t.Errorf("retried errors: none, want a deadlock (40P01)")
	}
	for _, id := range []string{"a", "b"} {
		if got := itemN(t, db, id); got != 2 {
			t.Errorf("n of %s: got %d, want 2 (both transactions committed once)", id, got)
		}
	}
}
