package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// ErrPipelineUnsupported is returned by InPipelinedTx on a PostgreSQL DB
// whose driver is not pgx.
var ErrPipelineUnsupported = errors.New("sqlstore: pipelined transactions need the pgx driver")

// Tx is a transaction that sends statements in as few round trips as it
// can. In a transaction of InPipelinedTx on PostgreSQL, BEGIN and the
// statements are held back and sent together, in one round trip, by Flush
// or by the commit (pgx's pipeline mode): a transaction that reads once and
// then writes costs two round trips however many statements it runs.
// Otherwise (SQLite, or a database/sql transaction given to WrapTx) each
// statement runs at once and Flush does nothing. Either way each statement
// is prepared once per connection (TxStmt, or pgx's statement cache).
type Tx struct {
	db    *DB
	sql   *sql.Tx   // nil in a pipelined PostgreSQL transaction
	pg    *pgx.Conn // the pipelined transaction's connection
	batch *pgx.Batch
	begun bool // BEGIN has been queued
}

// Rows are what the scan function of Tx.Query reads: the rows of
// *sql.Rows or of pgx.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// WrapTx returns tx, a transaction of db (see InTx), as a Tx whose
// statements run at once, so code written for Tx also serves transactions
// that need *sql.Tx for something else.
func (db *DB) WrapTx(tx *sql.Tx) *Tx {
	return &Tx{db: db, sql: tx}
}

// SQL returns the database/sql transaction behind t, or nil in a pipelined
// PostgreSQL transaction.
func (t *Tx) SQL() *sql.Tx { return t.sql }

// Exec runs query (in the dialect's placeholders) with args. In a
// pipelined transaction it is only queued: its error, if any, is returned
// by the next Flush or by the commit, and it is not run if an earlier
// statement fails.
func (t *Tx) Exec(ctx context.Context, query string, args ...any) error {
	if t.sql == nil {
		t.queue(query, args...)
		return nil
	}
	st, err := t.db.TxStmt(ctx, t.sql, query)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(ctx, args...)
	return err
}

// Query runs query (in the dialect's placeholders) with args and calls
// scan with its rows. In a pipelined transaction it is queued like Exec,
// and scan runs when the next Flush or the commit reads the results; an
// error scan returns is returned there.
func (t *Tx) Query(ctx context.Context, scan func(rows Rows) error, query string, args ...any) error {
	if t.sql == nil {
		t.queue(query, args...).Query(func(rows pgx.Rows) error { return scan(rows) })
		return nil
	}
	st, err := t.db.TxStmt(ctx, t.sql, query)
	if err != nil {
		return err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if err := scan(rows); err != nil {
		return err
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}

// Flush sends the statements queued so far and reads their results (a
// pipelined transaction's round trip), and returns the first error.
func (t *Tx) Flush(ctx context.Context) error {
	if t.batch == nil {
		return nil
	}
	br := t.pg.SendBatch(ctx, t.batch)
	t.batch = nil
	return br.Close()
}

// queue adds a statement to the next round trip, after BEGIN if the
// transaction has not begun.
func (t *Tx) queue(query string, args ...any) *pgx.QueuedQuery {
	if t.batch == nil {
		t.batch = &pgx.Batch{}
	}
	if !t.begun {
		t.batch.Queue("BEGIN")
		t.begun = true
	}
	return t.batch.Queue(query, args...)
}

// commit sends the queued statements with COMMIT.
func (t *Tx) commit(ctx context.Context) error {
	if !t.begun {
		return nil // nothing was run
	}
	t.queue("COMMIT").Exec(func(tag pgconn.CommandTag) error {
		if tag.String() != "COMMIT" {
			return pgx.ErrTxCommitRollback // an earlier statement failed
		}
		return nil
	})
	if err := t.Flush(ctx); err != nil {
		t.rollback(ctx) // COMMIT is skipped after a failed statement
		return fmt.Errorf("sqlstore: commit: %w", err)
	}
	return nil
}

// rollback ends the transaction if it is still open. If that fails the
// connection is left in its transaction, and the pool discards it.
func (t *Tx) rollback(ctx context.Context) {
	t.batch = nil
	if t.pg.PgConn().TxStatus() != 'I' {
		_, _ = t.pg.Exec(ctx, "ROLLBACK")
	}
}

// InPipelinedTx is InTx (one transaction, committed when fn returns nil,
// run again on transient conflicts) for a transaction through Tx, which on
// PostgreSQL pipelines its statements. fn must not use the transaction
// after it returns.
func (db *DB) InPipelinedTx(ctx context.Context, fn func(tx *Tx) error) error {
	if db.Dialect != Postgres {
		return db.InTx(ctx, func(tx *sql.Tx) error { return fn(db.WrapTx(tx)) })
	}
	return classify(db.retry(ctx, func() error { return db.runPipelined(ctx, fn) }))
}

// runPipelined runs fn once in a pipelined transaction on a connection of
// its own. A panic in fn makes database/sql discard the connection, and
// the open transaction with it.
func (db *DB) runPipelined(ctx context.Context, fn func(tx *Tx) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: connect: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return ErrPipelineUnsupported
		}
		t := &Tx{db: db, pg: c.Conn()}
		if err := fn(t); err != nil {
			t.rollback(ctx)
			return err
		}
		return t.commit(ctx)
	})
}
