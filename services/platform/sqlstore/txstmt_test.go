package sqlstore_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
)

// TestTxStmtSingleConnection: TxStmt never needs a second connection, so a
// transaction on a one-connection pool can prepare new statements (one
// taking a connection from the pool would wait for ever). After the
// transaction the statement is prepared for the whole DB and the next
// transactions reuse it.
func TestTxStmtSingleConnection(t *testing.T) {
	sqlstoretest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		migrated(t, db)
		seedItems(t, db, "x")
		db.SetMaxOpenConns(1)
		ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
		defer cancel()

		query := db.Rebind(`UPDATE items SET n = n + ? WHERE id = ?`)
		for round := range 3 {
			err := db.InTx(ctx, func(tx *sql.Tx) error {
				st, err := db.TxStmt(ctx, tx, query)
				if err != nil {
					return err
				}
				for range 2 {
					if _, err := st.ExecContext(ctx, 1, "x"); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatalf("round %d: InTx: %v", round, err)
			}
		}
		if got := itemN(t, db, "x"); got != 6 {
			t.Errorf("n: got %d, want 6", got)
		}
		if db.Dialect == sqlstore.Postgres {
			// The pool's one connection holds the query prepared once.
			if n := count(t, db, `SELECT COUNT(*) FROM pg_prepared_statements WHERE statement = ?`, query); n != 1 {
				t.Errorf("statements prepared for the query on the connection: got %d, want 1", n)
			}
		}
	})
}
