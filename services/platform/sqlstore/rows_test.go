package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
)

// TestInsertRows writes counts that split into every statement size, and
// an ON CONFLICT suffix that keeps the rows already there.
func TestInsertRows(t *testing.T) {
	sqlstoretest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		migrated(t, db)
		ctx := context.Background()
		insert := func(from, to, n int) {
			t.Helper()
			var rows [][]any
			for i := from; i < to; i++ {
				rows = append(rows, []any{fmt.Sprintf("i%04d", i), n})
			}
			if err := db.InTx(ctx, func(tx *sql.Tx) error {
				return db.InsertRows(ctx, tx, "items", "id, n", "ON CONFLICT (id) DO NOTHING", rows)
			}); err != nil {
				t.Fatalf("InsertRows %d to %d: %v", from, to, err)
			}
		}
		insert(0, 0, 1)
		insert(0, 627, 1)   // 500 + 100 + 20 + 7
		insert(620, 630, 2) // the first 7 are there already
		if got := count(t, db, `SELECT COUNT(*) FROM items`); got != 630 {
			t.Errorf("rows: got %d, want 630", got)
		}
		if got := count(t, db, `SELECT SUM(n) FROM items`); got != 627+3*2 {
			t.Errorf("sum: got %d, want %d", got, 627+3*2)
		}
	})
}

// TestExecValues sets each row's own value in counts that split into every
// statement size, keeps a value where the list gives NULL, and ignores keys
// that match no row.
func TestExecValues(t *testing.T) {
	sqlstoretest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		migrated(t, db)
		ctx := context.Background()
		var rows, updates [][]any
		for i := range 627 {
			rows = append(rows, []any{fmt.Sprintf("i%04d", i), 1})
			var n any = i // a NULL keeps the stored 1
			if i%100 == 0 {
				n = nil
			}
			updates = append(updates, []any{fmt.Sprintf("i%04d", i), n})
		}
		updates = append(updates, []any{"missing", 5})
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			if err := db.InsertRows(ctx, tx, "items", "id, n", "", rows); err != nil {
				return err
			}
			return db.ExecValues(ctx, tx, "id, n", []string{"TEXT", "BIGINT"},
				`UPDATE items SET n = COALESCE(v.n, items.n) FROM v WHERE items.id = v.id`, updates)
		})
		if err != nil {
			t.Fatalf("ExecValues: %v", err)
		}
		if got := count(t, db, `SELECT COUNT(*) FROM items`); got != 627 {
			t.Errorf("rows: got %d, want 627 (no row added)", got)
		}
		// 0+1+…+626, less the seven multiples of 100, which keep 1.
		want := 626*627/2 - (100 + 200 + 300 + 400 + 500 + 600) + 7
		if got := count(t, db, `SELECT SUM(n) FROM items`); got != want {
			t.Errorf("sum: got %d, want %d", got, want)
		}
		if got := count(t, db, `SELECT n FROM items WHERE id = ?`, "i0300"); got != 1 {
			t.Errorf("i0300: got %d, want 1 (kept where the list gives NULL)", got)
		}
		var gone [][]any
		for _, r := range rows[:126] {
			gone = append(gone, r[:1])
		}
		err = db.InTx(ctx, func(tx *sql.Tx) error {
			return db.ExecValues(ctx, tx, "id", []string{"TEXT"}, `DELETE FROM items WHERE id IN (SELECT id FROM v)`, gone)
		})
		if got := count(t, db, `SELECT COUNT(*) FROM items`); err != nil || got != 501 {
			t.Errorf("after deleting 126 rows: %d left, %v; want 501", got, err)
		}
	})
}
