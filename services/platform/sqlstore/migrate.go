package sqlstore

import (
	"context"
	"database/sql"
	"errors"
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

// Migrate applies component's migrations for db's dialect, found in
// migrations under "sqlite/" or "postgres/". Files are named NNNN_name.sql
// and applied in name order, each in its own transaction, once: applied
// files are recorded in schema_migrations under (component, file name), so
// several packages (a service and the idempotency store, say) can migrate
// the same database even when their file names are the same. component
// must be stable across releases: it is part of the record. Running
// Migrate again, or from several replicas at once, is safe.
func (db *DB) Migrate(ctx context.Context, component string, migrations fs.FS) error {
	if component == "" {
		return ErrNoComponent
	}
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

	var legacy bool
	if err := db.InTx(ctx, func(tx *sql.Tx) error {
		if err := db.lockMigrations(ctx, tx); err != nil {
			return err
		}
		var err error
		legacy, err = db.upgradeSchemaMigrations(ctx, tx)
		return err
	}); err != nil {
		return fmt.Errorf("sqlstore: prepare schema_migrations: %w", err)
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
			if err := tx.QueryRowContext(ctx, db.Rebind(`SELECT COUNT(*) FROM schema_migrations
				WHERE component = ? AND version = ?`), component, name).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			// Wall time: when this process really applied the migration.
			appliedAt := time.Now().UTC().Format(time.RFC3339Nano)
			claimed := false
			if legacy {
				claimed, appliedAt, err = db.claimLegacy(ctx, tx, name, appliedAt)
				if err != nil {
					return err
				}
			}
			if !claimed {
				if _, err := tx.ExecContext(ctx, string(body)); err != nil {
					return err
				}
			}
			_, err := tx.ExecContext(ctx, db.Rebind(`INSERT INTO schema_migrations (component, version, applied_at)
				VALUES (?, ?, ?)`), component, name, appliedAt)
			return err
		})
		if err != nil {
			return fmt.Errorf("sqlstore: migration %s %s/%s: %w", component, dir, name, err)
		}
	}
	return nil
}

// upgradeSchemaMigrations creates schema_migrations keyed by (component,
// version). A table from before components (keyed by file name alone) is
// moved to schema_migrations_legacy first. It reports whether
// schema_migrations_legacy exists.
func (db *DB) upgradeSchemaMigrations(ctx context.Context, tx *sql.Tx) (legacy bool, err error) {
	exists, err := db.tableExists(ctx, tx, "schema_migrations")
	if err != nil {
		return false, err
	}
	if exists {
		hasComponent, err := db.hasColumn(ctx, tx, "schema_migrations", "component")
		if err != nil {
			return false, err
		}
		if !hasComponent {
			for _, stmt := range []string{
				`CREATE TABLE schema_migrations_legacy (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`,
				`INSERT INTO schema_migrations_legacy (version, applied_at) SELECT version, applied_at FROM schema_migrations`,
				`DROP TABLE schema_migrations`,
			} {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return false, err
				}
			}
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		component  TEXT NOT NULL,
		version    TEXT NOT NULL,
		applied_at TEXT NOT NULL,
		PRIMARY KEY (component, version)
	)`); err != nil {
		return false, err
	}
	return db.tableExists(ctx, tx, "schema_migrations_legacy")
}

// claimLegacy takes over a migration recorded by file name alone, before
// components existed: the first component that has a file of that name
// owns the record (file names were unique per database then, or the
// second file would never have run). It returns the recorded time.
func (db *DB) claimLegacy(ctx context.Context, tx *sql.Tx, name, now string) (bool, string, error) {
	var appliedAt string
	err := tx.QueryRowContext(ctx, db.Rebind(`SELECT applied_at FROM schema_migrations_legacy WHERE version = ?`), name).Scan(&appliedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return false, now, nil
	}
	if err != nil {
		return false, now, err
	}
	if _, err := tx.ExecContext(ctx, db.Rebind(`DELETE FROM schema_migrations_legacy WHERE version = ?`), name); err != nil {
		return false, now, err
	}
	return true, appliedAt, nil
}

func (db *DB) tableExists(ctx context.Context, tx *sql.Tx, table string) (bool, error) {
	var n int
	var err error
	if db.Dialect == Postgres {
		err = tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_name = $1`, table).Scan(&n)
	} else {
		err = tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, table).Scan(&n)
	}
	return n > 0, err
}

func (db *DB) hasColumn(ctx context.Context, tx *sql.Tx, table, column string) (bool, error) {
	var n int
	var err error
	if db.Dialect == Postgres {
		err = tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2`, table, column).Scan(&n)
	} else {
		err = tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?`, table, column).Scan(&n)
	}
	return n > 0, err
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
