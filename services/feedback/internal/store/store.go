// Package store implements the feedback storage interfaces over SQL, one
// implementation for SQLite and PostgreSQL, with its schema migrations
// embedded.
package store

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"

	"github.com/tenurehq/tenure/services/feedback/internal/feedback"
	"github.com/tenurehq/tenure/services/platform/idempotency"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
)

//go:embed migrations
var migrations embed.FS

// Store is the SQL implementation of the feedback storage interfaces.
type Store struct{ db *sqlstore.DB }

var _ feedback.Store = (*Store)(nil)

// New returns a Store over db. Call Migrate before use.
func New(db *sqlstore.DB) *Store { return &Store{db: db} }

// Migrate applies the feedback schema migrations.
func (s *Store) Migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	if err := s.db.Migrate(ctx, "feedback", sub); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	// ApplyErasures forgets idempotency keys: their table must exist even
	// where the service's runtime has not created it (tests, tools).
	if err := idempotency.NewStore(s.db).Migrate(ctx); err != nil {
		return fmt.Errorf("store: migrate idempotency keys: %w", err)
	}
	return nil
}

func (s *Store) q(query string) string { return s.db.Rebind(query) }

func (s *Store) forUpdate() string {
	if s.db.Dialect == sqlstore.Postgres {
		return " FOR UPDATE"
	}
	return ""
}

type scanner interface{ Scan(...any) error }

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// nanos and fromNanos store timestamps as Unix nanoseconds, 0 for none.
var nanos, fromNanos = sqlstore.Nanos, sqlstore.FromNanos

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func encode(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("store: encode: %w", err)
	}
	return string(b), nil
}

func decode(data string, v any) error {
	if err := json.Unmarshal([]byte(data), v); err != nil {
		return fmt.Errorf("store: decode: %w", err)
	}
	return nil
}

// exists maps a unique violation to feedback.ErrAlreadyExists.
func (s *Store) exists(err error, what, id string) error {
	if s.db.IsUniqueViolation(err) {
		return fmt.Errorf("%w: %s %s", feedback.ErrAlreadyExists, what, id)
	}
	if err != nil {
		return fmt.Errorf("store: create %s: %w", what, err)
	}
	return nil
}
