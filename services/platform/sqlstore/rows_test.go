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
		insert(0, 627, 1)   // 500 + 100 + 20 + 5 + 1 + 1
		insert(620, 630, 2) // the first 7 are there already
		if got := count(t, db, `SELECT COUNT(*) FROM items`); got != 630 {
			t.Errorf("rows: got %d, want 630", got)
		}
		if got := count(t, db, `SELECT SUM(n) FROM items`); got != 627+3*2 {
			t.Errorf("sum: got %d, want %d", got, 627+3*2)
		}
	})
}
