// Package sqlstore is the storage plumbing shared by Tenure's services: it
// opens SQLite or PostgreSQL behind database/sql, applies embedded schema
// migrations per component, rewrites placeholders for the dialect, runs
// transactions with retry on transient conflicts (InTx, InConnTx), caches
// prepared statements so that a transaction's statements run on its own
// connection and never reach the pool (TxStmt), streams rows (ScanEach)
// and bulk-loads them with COPY on PostgreSQL (CopyRows).
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/tenurehq/tenure/services/platform/backoff"
	"modernc.org/sqlite"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect is the SQL engine behind a DB.
type Dialect int

// The supported engines.
const (
	SQLite Dialect = iota + 1
	Postgres
)

// String returns the dialect's name as used for migration directories.
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	default:
		return fmt.Sprintf("Dialect(%d)", int(d))
	}
}

// Sentinel errors.
var (
	ErrUnsupportedDSN = errors.New("sqlstore: unsupported dsn")
	ErrNoMigrations   = errors.New("sqlstore: no migrations for dialect")
	ErrBadMigration   = errors.New("sqlstore: bad migration file name")
	ErrNoComponent    = errors.New("sqlstore: migration component name is empty")
)

// DB is a database handle that knows its dialect.
type DB struct {
	*sql.DB
	Dialect Dialect

	// writeSem serialises write transactions of this process on SQLite,
	// where only one writer can proceed at a time anyway; waiting on a
	// channel is much cheaper and fairer than SQLite's busy polling.
	// Other processes on the same file are still handled by busy_timeout.
	writeSem chan struct{}

	stmtMu sync.RWMutex
	stmts  map[string]*sql.Stmt
	// wanted holds the queries TxStmt met before Prepared did: true until
	// they are prepared for the whole DB after the transaction that wanted
	// them, false if that failed (a query only valid in its transaction).
	wanted  map[string]bool
	pending atomic.Int64 // how many wanted queries are true

	// retried, if set, is called with each error InTx is about to retry
	// (tests use it to act between attempts).
	retried func(err error)
}

// Prepared returns query (in the dialect's placeholders) prepared once for
// the life of db. database/sql prepares it again on each pooled connection
// the first time that connection runs it, so hot statements skip parsing
// and planning. The statements are closed by Close.
//
// Prepared takes a connection from the pool the first time it sees query,
// so never call it inside a transaction: a transaction that holds a lock
// and waits for a second connection can wait for ever when the other
// connections wait for its lock. Use TxStmt there.
func (db *DB) Prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	if st := db.cached(query); st != nil {
		return st, nil
	}
	// Prepare without holding stmtMu: waiting for a connection under it
	// would stall every TxStmt, including those of transactions that the
	// connections in use wait for.
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	db.stmtMu.Lock()
	defer db.stmtMu.Unlock()
	if prev, ok := db.stmts[query]; ok {
		_ = st.Close() // another goroutine was first
		return prev, nil
	}
	if db.stmts == nil {
		db.stmts = map[string]*sql.Stmt{}
	}
	db.stmts[query] = st
	delete(db.wanted, query)
	return st, nil
}

func (db *DB) cached(query string) *sql.Stmt {
	db.stmtMu.RLock()
	defer db.stmtMu.RUnlock()
	return db.stmts[query]
}

// TxStmt returns query (in the dialect's placeholders) prepared on tx's own
// connection, for use in tx only; it never takes a connection from the
// pool. A query Prepared already knows reuses that statement, which is
// prepared once per connection; any other is prepared for this transaction
// and, after the transaction InTx runs it in ends, once for the whole DB,
// so the next transactions reuse it. (On PostgreSQL the pgx driver also
// caches the statements of plain tx.ExecContext and tx.QueryContext calls
// per connection; TxStmt matters most on SQLite, where the driver parses
// every statement it is given as text.)
func (db *DB) TxStmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	if st := db.cached(query); st != nil {
		return tx.StmtContext(ctx, st), nil
	}
	st, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	db.stmtMu.Lock()
	if _, seen := db.wanted[query]; !seen {
		if db.wanted == nil {
			db.wanted = map[string]bool{}
		}
		db.wanted[query] = true
		db.pending.Add(1)
	}
	db.stmtMu.Unlock()
	return st, nil
}

// prepareWanted prepares, through the pool, the queries TxStmt asked for.
// InTx calls it once its transaction has ended and released its
// connection.
func (db *DB) prepareWanted(ctx context.Context) {
	if db.pending.Load() == 0 || ctx.Err() != nil {
		return
	}
	db.stmtMu.Lock()
	var queries []string
	for q, want := range db.wanted {
		if want {
			queries = append(queries, q)
			db.wanted[q] = false // whatever happens, try once
		}
	}
	db.pending.Store(0)
	db.stmtMu.Unlock()
	for _, q := range queries {
		_, _ = db.Prepared(ctx, q) // on failure each transaction prepares q for itself
	}
}

// Close closes the prepared statements and the database.
func (db *DB) Close() error {
	db.stmtMu.Lock()
	for q, st := range db.stmts {
		_ = st.Close()
		delete(db.stmts, q)
	}
	clear(db.wanted)
	db.stmtMu.Unlock()
	return db.DB.Close()
}

// sqlitePragmas are appended to every SQLite DSN. Besides the contract's
// WAL, busy timeout, foreign keys, synchronous=NORMAL and immediate
// transactions, they size the page cache (32 MiB) and memory map, keep
// temporary tables and statement journals in memory, and checkpoint the WAL
// every 64 MiB instead of every 4 MiB: batch appends touch many pages, and
// checkpointing less often writes each hot page back once, not many times.
const sqlitePragmas = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-32768)&_pragma=mmap_size(1073741824)&_pragma=temp_store(MEMORY)&_pragma=wal_autocheckpoint(16384)&_txlock=immediate"

// Open connects to the database named by dsn: "postgres://…" or
// "postgresql://…" opens PostgreSQL through pgx; "sqlite:PATH", "file:PATH"
// or a bare path opens a SQLite file in WAL mode with a 10 s busy timeout,
// foreign keys on and immediate (write-locking) transactions.
func Open(ctx context.Context, dsn string) (*DB, error) {
	var (
		driver, source string
		dialect        Dialect
	)
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		driver, source, dialect = "pgx", dsn, Postgres
	case dsn == "":
		return nil, fmt.Errorf("%w: empty", ErrUnsupportedDSN)
	case urlScheme(dsn) != "" && !strings.HasPrefix(dsn, "sqlite:") && !strings.HasPrefix(dsn, "file:"):
		// A mistyped "postgress://…" must not quietly create a SQLite file.
		// Only the scheme is quoted: the rest may hold a password.
		return nil, fmt.Errorf("%w: unknown scheme %q; use postgres://…, sqlite:PATH, file:PATH or a plain path",
			ErrUnsupportedDSN, urlScheme(dsn))
	default:
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" {
			return nil, fmt.Errorf("%w: %q has no path", ErrUnsupportedDSN, dsn)
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		driver, source, dialect = "sqlite", path+sep+sqlitePragmas, SQLite
	}
	sqlDB, err := sql.Open(driver, source)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open %s: %w", dialect, err)
	}
	db := &DB{DB: sqlDB, Dialect: dialect}
	switch dialect {
	case SQLite:
		sqlDB.SetMaxOpenConns(8)
		sqlDB.SetMaxIdleConns(8)
		sqlDB.SetConnMaxIdleTime(0)
		db.writeSem = make(chan struct{}, 1)
	case Postgres:
		sqlDB.SetMaxOpenConns(16)
		sqlDB.SetMaxIdleConns(16)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("sqlstore: connect %s: %w", dialect, err)
	}
	return db, nil
}

// Rebind rewrites '?' placeholders to $1, $2, … for PostgreSQL and returns
// the query unchanged for SQLite. Question marks inside single-quoted
// literals, quoted identifiers and comments ("--" and /* */, which nest)
// are left alone; dollar-quoted strings and escape strings (E'…') are not
// recognised.
func (db *DB) Rebind(query string) string {
	if db.Dialect != Postgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(query) {
				if query[j] == c {
					if j+1 < len(query) && query[j+1] == c { // doubled quote escape
						j += 2
						continue
					}
					break
				}
				j++
			}
			end := min(j+1, len(query))
			b.WriteString(query[i:end])
			i = end - 1
		case c == '-' && i+1 < len(query) && query[i+1] == '-':
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+j+1])
			i += j
		case c == '/' && i+1 < len(query) && query[i+1] == '*':
			end := blockCommentEnd(query, i)
			b.WriteString(query[i:end])
			i = end - 1
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(fmt.Sprint(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// blockCommentEnd returns the offset just past the /* */ comment that
// starts at query[i], or len(query) if it is not closed. Comments nest, as
// in PostgreSQL.
func blockCommentEnd(query string, i int) int {
	depth := 0
	for j := i; j+1 < len(query); {
		switch query[j : j+2] {
		case "/*":
			depth++
			j += 2
		case "*/":
			depth--
			j += 2
			if depth == 0 {
				return j
			}
		default:
			j++
		}
	}
	return len(query)
}

// maxAttempts bounds how often InTx runs fn when the engine reports a
// transient conflict.
const maxAttempts = 8

// InTx runs fn in a transaction: it commits when fn returns nil and rolls
// back when fn returns an error or panics (the panic is re-raised). When
// the engine reports a serialization failure, a deadlock or a busy
// database, the whole of fn is run again in a new transaction, a few
// times, so fn must not have side effects outside the transaction. Text
// PostgreSQL cannot store gives an error matching ErrUnstorableText.
//
// On SQLite the transactions of one DB run one at a time (SQLite has a
// single writer anyway), so fn must not call InTx or write through db
// itself.
func (db *DB) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return classify(db.inTx(ctx, false, func(_ *sql.Conn, tx *sql.Tx) error { return fn(tx) }))
}

// InConnTx is InTx that also passes the connection the transaction runs
// on, for driver-level work inside the transaction (see CopyRows).
func (db *DB) InConnTx(ctx context.Context, fn func(conn *sql.Conn, tx *sql.Tx) error) error {
	return classify(db.inTx(ctx, true, fn))
}

func (db *DB) inTx(ctx context.Context, withConn bool, fn func(conn *sql.Conn, tx *sql.Tx) error) error {
	return db.retry(ctx, func() error { return db.runTx(ctx, withConn, fn) })
}

// retry runs attempt, one transaction, again while it fails with a
// transient conflict, and prepares the statements TxStmt met after each.
func (db *DB) retry(ctx context.Context, attempt func() error) error {
	var err error
	// 2–4 ms before the second attempt, doubling up to 64–128 ms.
	bo := backoff.Backoff{Min: 4 * time.Millisecond, Max: 128 * time.Millisecond}
	for n := 0; n < maxAttempts; n++ {
		if n > 0 {
			if db.retried != nil {
				db.retried(err)
			}
			if werr := bo.Wait(ctx); werr != nil {
				return errors.Join(err, werr)
			}
		}
		err = attempt()
		db.prepareWanted(ctx)
		if err == nil || !db.isRetryable(err) {
			return err
		}
	}
	return err
}

func (db *DB) runTx(ctx context.Context, withConn bool, fn func(conn *sql.Conn, tx *sql.Tx) error) (err error) {
	if db.writeSem != nil {
		select {
		case db.writeSem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-db.writeSem }()
	}
	var (
		conn *sql.Conn
		tx   *sql.Tx
	)
	if withConn {
		if conn, err = db.Conn(ctx); err != nil {
			return fmt.Errorf("sqlstore: connect: %w", err)
		}
		defer conn.Close()
		tx, err = conn.BeginTx(ctx, nil)
	} else {
		tx, err = db.BeginTx(ctx, nil)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: begin: %w", err)
	}
	done := false
	defer func() {
		if !done {
			_ = tx.Rollback()
		}
	}()
	if err := fn(conn, tx); err != nil {
		done = true
		if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("sqlstore: rollback: %w", rerr))
		}
		return err
	}
	done = true
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: commit: %w", err)
	}
	return nil
}

func (db *DB) isRetryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "40001", "40P01": // serialization_failure, deadlock_detected
			return true
		}
		return false
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return true
		}
	}
	return false
}

// IsUniqueViolation reports whether err is a unique or primary-key
// constraint violation.
func (db *DB) IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return true
		}
	}
	return false
}

// urlScheme returns the URL scheme dsn starts with ("postgres" in
// "postgres://…"), or "" when it has none. A single letter before the
// colon is a Windows drive, not a scheme.
func urlScheme(dsn string) string {
	scheme, _, ok := strings.Cut(dsn, ":")
	if !ok || len(scheme) < 2 {
		return ""
	}
	for i, r := range scheme {
		isLetter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		isOther := r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.'
		if !isLetter && (i == 0 || !isOther) {
			return ""
		}
	}
	return scheme
}
