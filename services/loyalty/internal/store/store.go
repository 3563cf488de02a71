// Package store implements the loyalty service's storage interfaces over
// SQL, one implementation for SQLite and PostgreSQL, with its schema
// migrations embedded. Balances change only inside transactions that hold
// the member's row: FOR UPDATE on PostgreSQL, and SQLite's single writer.
package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"time"

	"github.com/tenurehq/tenure/services/loyalty/internal/loyalty"
	"github.com/tenurehq/tenure/services/platform/idempotency"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
)

//go:embed migrations
var migrations embed.FS

// Store is the SQL implementation of loyalty.Store.
type Store struct {
	db     *sqlstore.DB
	forget *idempotency.Store
	// accounts are the event-log consumer's, kept between pages.
	accounts *accountCache
}

var _ loyalty.Store = (*Store)(nil)

// New returns a Store over db. Call Migrate before use.
func New(db *sqlstore.DB) *Store {
	return &Store{db: db, forget: idempotency.NewStore(db), accounts: newAccountCache()}
}

// Migrate applies the loyalty schema migrations and the idempotency
// store's, which erasure writes to.
func (s *Store) Migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	if err := s.db.Migrate(ctx, "loyalty", sub); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if err := s.forget.Migrate(ctx); err != nil {
		return fmt.Errorf("store: migrate idempotency keys: %w", err)
	}
	return nil
}

// queryer is a transaction or the pool.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// q rewrites placeholders for the dialect.
func (s *Store) q(query string) string { return s.db.Rebind(query) }

// forUpdate locks the rows a transaction reads on PostgreSQL; SQLite's
// write transactions already run one at a time.
func (s *Store) forUpdate() string {
	if s.db.Dialect == sqlstore.Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// unixNano is a time as stored: Unix nanoseconds, 0 for the zero time.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// timeOf reads a stored time.
func timeOf(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
