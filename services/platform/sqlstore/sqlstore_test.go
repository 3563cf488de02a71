package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"

	"github.com/tenurehq/tenure/services/platform/apierr"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
)

var testMigrations = fstest.MapFS{
	"sqlite/0001_counters.sql": {Data: []byte(`
		CREATE TABLE counters (id TEXT PRIMARY KEY, used INTEGER NOT NULL, lim INTEGER NOT NULL);
		INSERT INTO counters (id, used, lim) VALUES ('seed', 0, 1);`)},
	"sqlite/0002_items.sql": {Data: []byte(`CREATE TABLE items (id TEXT PRIMARY KEY, n INTEGER NOT NULL);`)},
	"postgres/0001_counters.sql": {Data: []byte(`
		CREATE TABLE counters (id TEXT PRIMARY KEY, used BIGINT NOT NULL, lim BIGINT NOT NULL);
		INSERT INTO counters (id, used, lim) VALUES ('seed', 0, 1);`)},
	"postgres/0002_items.sql": {Data: []byte(`CREATE TABLE items (id TEXT PRIMARY KEY, n BIGINT NOT NULL);`)},
}

// dsnEngines open a fresh database per engine and return its DSN, for
// tests that open a second pool (a second replica) on it.
var dsnEngines = []struct {
	name string
	open func(testing.TB) (*sqlstore.DB, string)
}{
	{"sqlite", sqlstoretest.SQLiteDSN},
	{"postgres", sqlstoretest.PostgresDSN},
}

func migrated(t *testing.T, db *sqlstore.DB) *sqlstore.DB {
	t.Helper()
	if err := db.Migrate(context.Background(), "test", testMigrations); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return db
}

func count(t *testing.T, db *sqlstore.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), db.Rebind(query), args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestMigrate(t *testing.T) {
	sqlstoretest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		for i := range 3 {
			if err := db.Migrate(ctx, "test", testMigrations); err != nil {
				t.Fatalf("Migrate run %d: %v", i+1, err)
			}
		}
		if got := count(t, db, `SELECT COUNT(*) FROM schema_migrations`); got != 2 {
			t.Errorf("schema_migrations rows: got %d, want 2", got)
		}
		// The seed row is inserted once, so the first migration ran once.
		if got := count(t, db, `SELECT COUNT(*) FROM counters`); got != 1 {
			t.Errorf("counters rows: got %d, want 1", got)
		}

		// Another package's migrations share the table, even with a file
		// name the first package also uses.
		more := fstest.MapFS{
			db.Dialect.String() + "/0001_counters.sql": {Data: []byte(`CREATE TABLE other (id TEXT PRIMARY KEY);`)},
		}
		for range 2 {
			if err := db.Migrate(ctx, "other", more); err != nil {
				t.Fatalf("Migrate other: %v", err)
			}
		}
		if got := count(t, db, `SELECT COUNT(*) FROM other`); got != 0 {
			t.Errorf("other rows: got %d, want 0", got)
		}
		if got := count(t, db, `SELECT COUNT(*) FROM schema_migrations`); got != 3 {
			t.Errorf("schema_migrations rows: got %d, want 3", got)
		}
		if got := count(t, db, `SELECT COUNT(*) FROM schema_migrations WHERE component = ? AND version = ?`, "other", "0001_counters.sql"); got != 1 {
			t.Errorf("schema_migrations rows for other/0001_counters.sql: got %d, want 1", got)
		}
	})
}

// TestMigrateLegacy upgrades a database migrated before components: its
// schema_migrations rows are keyed by file name alone. A component whose
// file name is recorded there does not run that file again; other files
// still run.
func TestMigrateLegacy(t *testing.T) {
	sqlstoretest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		for _, stmt := range []string{
			`CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`,
			`INSERT INTO schema_migrations (version, applied_at) VALUES ('0001_counters.sql', '2025-01-02T03:04:05Z')`,
			`CREATE TABLE counters (id TEXT PRIMARY KEY, used INTEGER NOT NULL, lim INTEGER NOT NULL)`,
		} {
			if _, err := db.ExecContext(ctx, stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
		for i := range 2 {
			if err := db.Migrate(ctx, "test", testMigrations); err != nil {
				t.Fatalf("Migrate run %d: %v", i+1, err)
			}
		}
		// The seed row of 0001 is absent: the recorded file did not run again.
		if got := count(t, db, `SELECT COUNT(*) FROM counters`); got != 0 {
			t.Errorf("counters rows: got %d, want 0", got)
		}
		if got := count(t, db, `SELECT COUNT(*) FROM items`); got != 0 {
			t.Errorf("items rows: got %d, want 0", got)
		}
		var appliedAt string
		if err := db.QueryRowContext(ctx, db.Rebind(`SELECT applied_at FROM schema_migrations WHERE component = ? AND version = ?`),
			"test", "0001_counters.sql").Scan(&appliedAt); err != nil {
			t.Fatalf("read claimed row: %v", err)
		}
		if appliedAt != "2025-01-02T03:04:05Z" {
			t.Errorf("applied_at: got %q, want the legacy row's 2025-01-02T03:04:05Z", appliedAt)
		}
		if got := count(t, db, `SELECT COUNT(*) FROM schema_migrations`); got != 2 {
			t.Errorf("schema_migrations rows: got %d, want 2", got)
		}
		if got := count(t, db, `SELECT COUNT(*) FROM schema_migrations_legacy`); got != 0 {
			t.Errorf("schema_migrations_legacy rows: got %d, want 0 (claimed)", got)
		}

		// Once claimed, the name is free for another component.
		other := fstest.MapFS{
			db.Dialect.String() + "/0001_counters.sql": {Data: []byte(`CREATE TABLE other (id TEXT PRIMARY KEY);`)},
		}
		if err := db.Migrate(ctx, "other", other); err != nil {
			t.Fatalf("Migrate other: %v", err)
		}
		if got := count(t, db, `SELECT COUNT(*) FROM other`); got != 0 {
			t.Errorf("other rows: got %d, want 0", got)
		}
	})
}

func TestMigrateErrors(t *testing.T) {
	tests := []struct {
		name string
		fsys fstest.MapFS
		want error
	}{
		{"no directory", fstest.MapFS{"other/0001_x.sql": {Data: []byte("SELECT 1")}}, sqlstore.ErrNoMigrations},
		{"bad name", fstest.MapFS{"sqlite/init.sql": {Data: []byte("SELECT 1")}}, sqlstore.ErrBadMigration},
		{"no component", testMigrations, sqlstore.ErrNoComponent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := sqlstoretest.SQLite(t)
			component := "test"
			if tt.want == sqlstore.ErrNoComponent {
				component = ""
			}
			if err := db.Migrate(context.Background(), component, tt.fsys); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}

	t.Run("failing migration is not recorded", func(t *testing.T) {
		db := sqlstoretest.SQLite(t)
		bad := fstest.MapFS{"sqlite/0001_bad.sql": {Data: []byte("CREATE TABLE t (id TEXT); NOT SQL")}}
		if err := db.Migrate(context.Background(), "test", bad); err == nil {
			t.Fatal("got nil error, want a syntax error")
		}
		if got := count(t, db, `SELECT COUNT(*) FROM schema_migrations`); got != 0 {
			t.Errorf("schema_migrations rows: got %d, want 0", got)
		}
	})
}

func TestInTx(t *testing.T) {
	errBoom := errors.New("boom")
	sqlstoretest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		migrated(t, db)
		ctx := context.Background()
		insert := func(id string) func(tx *sql.Tx) error {
			return func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, db.Rebind(`INSERT INTO items (id, n) VALUES (?, ?)`), id, 1)
				return err
			}
		}
		tests := []struct {
			name    string
			fn      func(tx *sql.Tx) error
			wantErr error
			panics  bool
			wantRow bool
		}{
			{name: "commit", fn: insert("commit"), wantRow: true},
			{name: "rollback", fn: func(tx *sql.Tx) error {
				if err := insert("rollback")(tx); err != nil {
					return err
				}
				return errBoom
			}, wantErr: errBoom},
			{name: "panic", fn: func(tx *sql.Tx) error {
				if err := insert("panic")(tx); err != nil {
					return err
				}
				panic(errBoom)
			}, panics: true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var err error
				func() {
					defer func() {
						r := recover()
						if (r != nil) != tt.panics {
							t.Errorf("recovered %v, want panic %v", r, tt.panics)
						}
					}()
					err = db.InTx(ctx, tt.fn)
				}()
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("InTx: got %v, want %v", err, tt.wantErr)
				}
				got := count(t, db, `SELECT COUNT(*) FROM items WHERE id = ?`, tt.name) == 1
				if got != tt.wantRow {
					t.Errorf("row present: got %v, want %v", got, tt.wantRow)
				}
			})
		}
		// The pool is still usable after the panic: no connection leaked
		// in an open transaction.
		if err := db.InTx(ctx, insert("after")); err != nil {
			t.Fatalf("InTx after panic: %v", err)
		}
	})
}

func TestIsUniqueViolation(t *testing.T) {
	sqlstoretest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		migrated(t, db)
		ctx := context.Background()
		q := db.Rebind(`INSERT INTO items (id, n) VALUES (?, ?)`)
		if _, err := db.ExecContext(ctx, q, "a", 1); err != nil {
			t.Fatal(err)
		}
		_, err := db.ExecContext(ctx, q, "a", 2)
		if !db.IsUniqueViolation(err) {
			t.Errorf("IsUniqueViolation(%v) = false, want true", err)
		}
		if db.IsUniqueViolation(errors.New("other")) {
			t.Error("IsUniqueViolation(other) = true, want false")
		}
	})
}

// TestUnstorableText: text PostgreSQL cannot store (SQLSTATE 22021 for a
// NUL in text, 22P05 for \u0000 in jsonb) fails InTx with
// ErrUnstorableText, which service error tables answer as INVALID_TEXT
// rather than INTERNAL; other errors keep their identity.
func TestUnstorableText(t *testing.T) {
	db := sqlstoretest.Postgres(t)
	migrated(t, db)
	ctx := context.Background()
	table := &apierr.Table{Domain: "test.tenure.dev", Logger: slog.New(slog.DiscardHandler)}
	for _, tt := range []struct {
		name, query string
		arg         any
	}{
		{"NUL in text", `INSERT INTO items (id, n) VALUES ($1, 1)`, "a\x00b"},
		{"invalid UTF-8 in text", `INSERT INTO items (id, n) VALUES ($1, 1)`, "a\xffb"},
		{"NUL escape in jsonb", `SELECT $1::jsonb`, `{"a":"\u0000"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := db.InTx(ctx, func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, tt.query, tt.arg)
				return err
			})
			if !errors.Is(err, sqlstore.ErrUnstorableText) || !errors.Is(err, apierr.ErrInvalidText) {
				t.Fatalf("InTx = %v, want ErrUnstorableText", err)
			}
			st := table.Status(ctx, err)
			if st.Code() != codes.InvalidArgument || len(st.Details()) == 0 ||
				st.Details()[0].(*errdetails.ErrorInfo).GetReason() != "INVALID_TEXT" {
				t.Errorf("status %v, want INVALID_ARGUMENT with reason INVALID_TEXT", st.Proto())
			}
		})
	}
	err := db.InConnTx(ctx, func(_ *sql.Conn, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO items (id, n) VALUES ($1, NULL)`, "x")
		return err
	})
	if err == nil || errors.Is(err, sqlstore.ErrUnstorableText) {
		t.Errorf("InConnTx with a NOT NULL violation = %v, want an error other than ErrUnstorableText", err)
	}
}

// TestGuardedIncrement checks the platform's limit pattern: many
// goroutines, spread over two connection pools (two replicas), increment
// through a guarded UPDATE in InTx and the counter ends exactly at its
// limit.
func TestGuardedIncrement(t *testing.T) {
	const (
		limit   = 50
		workers = 16
		tries   = 10 // per worker: 160 attempts for 50 slots
	)
	for _, eng := range dsnEngines {
		t.Run(eng.name, func(t *testing.T) {
			db, dsn := eng.open(t)
			migrated(t, db)
			ctx := context.Background()
			replica, err := sqlstore.Open(ctx, dsn)
			if err != nil {
				t.Fatalf("open replica: %v", err)
			}
			defer replica.Close()
			pools := []*sqlstore.DB{db, replica}
			if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO counters (id, used, lim) VALUES (?, 0, ?)`), "c", limit); err != nil {
				t.Fatal(err)
			}
			var (
				wg      sync.WaitGroup
				mu      sync.Mutex
				granted int
				errs    []error
			)
			for w := range workers {
				db := pools[w%len(pools)]
				wg.Go(func() {
					for range tries {
						var ok bool
						err := db.InTx(ctx, func(tx *sql.Tx) error {
							res, err := tx.ExecContext(ctx, db.Rebind(`UPDATE counters SET used = used + 1 WHERE id = ? AND used < lim`), "c")
							if err != nil {
								return err
							}
							n, err := res.RowsAffected()
							ok = n == 1
							return err
						})
						mu.Lock()
						if err != nil {
							errs = append(errs, err)
						} else if ok {
							granted++
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if len(errs) > 0 {
				t.Fatalf("%d InTx errors, first: %v", len(errs), errs[0])
			}
			if granted != limit {
				t.Errorf("granted: got %d, want %d", granted, limit)
			}
			if got := count(t, db, `SELECT used FROM counters WHERE id = ?`, "c"); got != limit {
				t.Errorf("used: got %d, want %d", got, limit)
			}
		})
	}
}

func TestRebind(t *testing.T) {
	tests := []struct {
		name, in, postgres string
	}{
		{"none", "SELECT 1", "SELECT 1"},
		{"several", "SELECT * FROM t WHERE a = ? AND b IN (?, ?)", "SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)"},
		{"quoted literal", "SELECT '?', ? FROM t WHERE c = 'it''s?'", "SELECT '?', $1 FROM t WHERE c = 'it''s?'"},
		{"quoted identifier", `SELECT "a?b" FROM t WHERE x = ?`, `SELECT "a?b" FROM t WHERE x = $1`},
		{"comment", "SELECT ? -- why?\nFROM t WHERE y = ?", "SELECT $1 -- why?\nFROM t WHERE y = $2"},
		{"block comment", "SELECT ? /* why? /* nested? */ ? */ FROM t WHERE y = ?", "SELECT $1 /* why? /* nested? */ ? */ FROM t WHERE y = $2"},
	}
	pg := &sqlstore.DB{Dialect: sqlstore.Postgres}
	lite := &sqlstore.DB{Dialect: sqlstore.SQLite}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pg.Rebind(tt.in); got != tt.postgres {
				t.Errorf("postgres: got %q, want %q", got, tt.postgres)
			}
			if got := lite.Rebind(tt.in); got != tt.in {
				t.Errorf("sqlite: got %q, want %q", got, tt.in)
			}
		})
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		dsn     string
		want    sqlstore.Dialect
		wantErr bool
	}{
		{"sqlite prefix", "sqlite:" + filepath.Join(dir, "a.db"), sqlstore.SQLite, false},
		{"file uri", "file:" + filepath.Join(dir, "b.db"), sqlstore.SQLite, false},
		{"bare path", filepath.Join(dir, "c.db"), sqlstore.SQLite, false},
		{"empty", "", 0, true},
		{"sqlite without path", "sqlite:", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := sqlstore.Open(context.Background(), tt.dsn)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Open(%q): got error %v, want error %v", tt.dsn, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			defer db.Close()
			if db.Dialect != tt.want {
				t.Errorf("dialect: got %v, want %v", db.Dialect, tt.want)
			}
			var mode string
			if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
				t.Fatal(err)
			}
			if mode != "wal" {
				t.Errorf("journal_mode: got %q, want wal", mode)
			}
			var fk int
			if err := db.QueryRow(`PRAGMA foreign_keys`).Scan(&fk); err != nil {
				t.Fatal(err)
			}
			if fk != 1 {
				t.Errorf("foreign_keys: got %d, want 1", fk)
			}
		})
	}
}

// TestMigrateConcurrent starts several replicas at once on a fresh
// database: each migration is applied exactly once.
func TestMigrateConcurrent(t *testing.T) {
	for _, eng := range dsnEngines {
		t.Run(eng.name, func(t *testing.T) {
			db, dsn := eng.open(t)
			ctx := context.Background()
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			for range 4 {
				wg.Go(func() {
					replica, err := sqlstore.Open(ctx, dsn)
					if err != nil {
						errs <- err
						return
					}
					defer replica.Close()
					errs <- replica.Migrate(ctx, "test", testMigrations)
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("Migrate: %v", err)
				}
			}
			if got := count(t, db, `SELECT COUNT(*) FROM counters`); got != 1 {
				t.Errorf("counters rows: got %d, want 1 (first migration ran once)", got)
			}
		})
	}
}

func TestOpenRejectsUnknownScheme(t *testing.T) {
	for _, dsn := range []string{"postgress://u:secret@h/db", "pg://h/db", "mysql://u:secret@h/db", "postgres:/h/db"} {
		t.Run(dsn, func(t *testing.T) {
			db, err := sqlstore.Open(context.Background(), dsn)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%q) succeeded, want ErrUnsupportedDSN", dsn)
			}
			if !errors.Is(err, sqlstore.ErrUnsupportedDSN) {
				t.Errorf("Open(%q) = %v, want ErrUnsupportedDSN", dsn, err)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q repeats the password", err)
			}
		})
	}
}
