// Package store implements the promotion service's storage interfaces over
// SQL, one implementation for SQLite and PostgreSQL, with its schema
// migrations embedded. Limits, budgets and stock change only by guarded
// single writes (`… WHERE used + n <= limit`) inside the redemption's one
// transaction, so they hold across replicas.
package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"strings"

	"github.com/tenurehq/tenure/services/platform/idempotency"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/promotion/internal/promotion"
)

//go:embed migrations
var migrations embed.FS

// Store is the SQL implementation of promotion.Store.
type Store struct {
	db     *sqlstore.DB
	forget *idempotency.Store
}

var _ promotion.Store = (*Store)(nil)

// New returns a Store over db. Call Migrate before use.
func New(db *sqlstore.DB) *Store { return &Store{db: db, forget: idempotency.NewStore(db)} }

// Migrate applies the promotion schema migrations and the idempotency
// store's, which erasure writes to.
func (s *Store) Migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	if err := s.db.Migrate(ctx, "promotion", sub); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if err := s.forget.Migrate(ctx); err != nil {
		return fmt.Errorf("store: migrate idempotency keys: %w", err)
	}
	return nil
}

// q rewrites placeholders for the dialect.
func (s *Store) q(query string) string { return s.db.Rebind(query) }

// inList returns the placeholders of an IN list of ids, "(?, ?, …)", and
// ids as its arguments. ids must not be empty.
func inList(ids []string) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return "(?" + strings.Repeat(", ?", len(ids)-1) + ")", args
}

// forUpdate locks the rows a transaction reads on PostgreSQL; SQLite's
// write transactions already run one at a time.
func (s *Store) forUpdate() string {
	if s.db.Dialect == sqlstore.Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// exec runs a statement of tx, prepared on its connection, and returns the
// rows it affected.
func (s *Store) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (int64, error) {
	st, err := s.db.TxStmt(ctx, tx, s.q(query))
	if err != nil {
		return 0, err
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// bump moves the catalogue version, in the transaction of a change.
func (s *Store) bump(ctx context.Context, tx *sql.Tx) error {
	_, err := s.exec(ctx, tx, `UPDATE catalog_version SET version = version + 1 WHERE id = 1`)
	return err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
