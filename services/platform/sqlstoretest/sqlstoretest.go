// Package sqlstoretest gives tests fresh, isolated databases on both
// engines: a SQLite file in a temporary directory and a throw-away
// PostgreSQL database.
package sqlstoretest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/testenv"
)

// DefaultPostgresDSN is the server used when TENURE_TEST_POSTGRES_DSN is
// not set.
const DefaultPostgresDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// SQLite returns a database in a new file under t.TempDir(), closed in
// t.Cleanup.
func SQLite(t testing.TB) *sqlstore.DB {
	t.Helper()
	db, _ := SQLiteDSN(t)
	return db
}

// SQLiteDSN is like SQLite but also returns the DSN of the file, so a test
// can open a second, independent connection pool (a second replica) on it.
func SQLiteDSN(t testing.TB) (*sqlstore.DB, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "test.db")
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db, dsn
}

// Postgres returns a connection to a new database tenure_test_<random> on
// the server named by TENURE_TEST_POSTGRES_DSN (default
// DefaultPostgresDSN); the database is dropped in t.Cleanup. When the
// server is unreachable the test is skipped, or fails in CI (see
// testenv.CI).
func Postgres(t testing.TB) *sqlstore.DB {
	t.Helper()
	db, _ := postgres(t)
	return db
}

// PostgresDSN is like Postgres but also returns the DSN of the new
// database, so a test can open a second, independent connection pool (a
// second replica) on it.
func PostgresDSN(t testing.TB) (*sqlstore.DB, string) {
	t.Helper()
	return postgres(t)
}

func postgres(t testing.TB) (*sqlstore.DB, string) {
	t.Helper()
	adminDSN := os.Getenv("TENURE_TEST_POSTGRES_DSN")
	if adminDSN == "" {
		adminDSN = DefaultPostgresDSN
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	admin, err := sql.Open("pgx", adminDSN)
	if err != nil {
		testenv.Missing(t, "postgres unavailable: %v", err)
	}
	defer admin.Close()
	if err := admin.PingContext(ctx); err != nil {
		testenv.Missing(t, "postgres unavailable at %s: %v", sqlstore.RedactDSN(adminDSN), err)
	}

	var b [8]byte
	_, _ = rand.Read(b[:])
	name := "tenure_test_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	u, err := url.Parse(adminDSN)
	if err != nil {
		t.Fatalf("parse TENURE_TEST_POSTGRES_DSN: %v", err)
	}
	u.Path = "/" + name
	dsn := u.String()

	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		dropDatabase(t, adminDSN, name)
		t.Fatalf("open %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = db.Close()
		dropDatabase(t, adminDSN, name)
	})
	return db, dsn
}

func dropDatabase(t testing.TB, adminDSN, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := sql.Open("pgx", adminDSN)
	if err != nil {
		t.Errorf("drop database %s: %v", name, err)
		return
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		t.Errorf("drop database %s: %v", name, err)
	}
}

// Engines runs fn as the subtests "sqlite" and "postgres", each with a
// fresh database.
func Engines(t *testing.T, fn func(t *testing.T, db *sqlstore.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// EnginesDSN is like Engines but also gives fn the DSN of the database, for
// the services a test starts on it.
func EnginesDSN(t *testing.T, fn func(t *testing.T, db *sqlstore.DB, dsn string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { db, dsn := SQLiteDSN(t); fn(t, db, dsn) })
	t.Run("postgres", func(t *testing.T) { db, dsn := PostgresDSN(t); fn(t, db, dsn) })
}

// BenchEngines runs fn as the sub-benchmarks "sqlite" and "postgres"; open
// returns a fresh database of that engine, for a benchmark that needs a new
// one per iteration.
func BenchEngines(b *testing.B, fn func(b *testing.B, open func() *sqlstore.DB)) {
	b.Helper()
	b.Run("sqlite", func(b *testing.B) { fn(b, func() *sqlstore.DB { return SQLite(b) }) })
	b.Run("postgres", func(b *testing.B) { fn(b, func() *sqlstore.DB { return Postgres(b) }) })
}
