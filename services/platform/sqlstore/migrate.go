package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"
)

// migrateLockKey is the PostgreSQL advisory lock that serialises migrations
// of replicas starting at the same time.
const migrateLockKey = 7_346_221_901

// Migrate applies the migrations for db's dialect found in migrations
// under "sqlite/" or "postgres/". Files are named NNNN_name.sql and applied
// in name order, each in its own transaction, once: applied file names are
// recorded in schema_migrations, so several packages (a service and the
// idempotency store, say) can migrate the same database as long as their
// file names differ. Running Migrate again, or from several replicas at
// once, is safe.
func (db *DB) Migrate(ctx context.Context, migrations fs.FS) error {
	dir := db.Dialect.String()
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return fmt.Errorf("%w %s: %w", ErrNoMigrations, dir, err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		if !validMigrationName(e.Name()) {
			return fmt.Errorf("%w: %s", ErrBadMigration, e.Name())
		}
		names = append(names, e.Name())
	}
	if len(names) == 0 {
		return fmt.Errorf("%w: %s", ErrNoMigrations, dir)
	}
	slices.Sort(names)

	if err := db.InTx(ctx, func(tx *sql.Tx) error {
		if err := db.lockMigrations(ctx, tx); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version TEXT PRIMARY KEY,
			applied_at TEXT NOT NULL
		)`)
		return err
	}); err != nil {
		return fmt.Errorf("sqlstore: create schema_migrations: %w", err)
	}

	for _, name := range names {
		body, err := fs.ReadFile(migrations, path.Join(dir, name))
		if err != nil {
			return fmt.Errorf("sqlstore: read migration %s: %w", name, err)
		}
		err = db.InTx(ctx, func(tx *sql.Tx) error {
			if err := db.lockMigrations(ctx, tx); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRowContext(ctx, db.Rebind(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), name).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, db.Rebind(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`),
				name, time.Now().UTC().Format(time.RFC3339Nano))
			return err
		})
		if err != nil {
			return fmt.Errorf("sqlstore: migration %s/%s: %w", dir, name, err)
		}
	}
	return nil
}

func (db *DB) lockMigrations(ctx context.Context, tx *sql.Tx) error {
	if db.Dialect != Postgres {
		return nil // SQLite transactions are immediate: already exclusive
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLockKey))
	return err
}

// validMigrationName reports whether name looks like NNNN_name.sql.
func validMigrationName(name string) bool {
	digits := 0
	for digits < len(name) && name[digits] >= '0' && name[digits] <= '9' {
		digits++
	}
	return digits > 0 && digits < len(name) && name[digits] == '_' && len(name) > digits+len("_.sql")
}
