package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// ErrCopyUnsupported is returned by CopyRows on a connection that is not
// PostgreSQL's (and by ScanEach if a PostgreSQL DB's driver is not pgx).
var ErrCopyUnsupported = errors.New("sqlstore: COPY needs a PostgreSQL connection")

// CopyRows writes rows into table through PostgreSQL's COPY on conn,
// inside the transaction conn has open (see InConnTx), and returns how
// many it wrote. next fills vals, one value per column, with the next row
// and reports false after the last; vals is reused between rows.
func CopyRows(ctx context.Context, conn *sql.Conn, table string, columns []string, next func(vals []any) (bool, error)) (int64, error) {
	var n int64
	err := conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return ErrCopyUnsupported
		}
		src := &copySource{next: next, vals: make([]any, len(columns))}
		var err error
		n, err = c.Conn().CopyFrom(ctx, pgx.Identifier{table}, columns, src)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("sqlstore: copy into %s: %w", table, err)
	}
	return n, nil
}

// copySource adapts a row function to pgx.CopyFromSource, which encodes
// each row before asking for the next, so one values slice serves all.
type copySource struct {
	next func(vals []any) (bool, error)
	vals []any
	err  error
}

func (s *copySource) Next() bool {
	if s.err != nil {
		return false
	}
	ok, err := s.next(s.vals)
	if err != nil {
		s.err = err
		return false
	}
	return ok
}

func (s *copySource) Values() ([]any, error) { return s.vals, nil }
func (s *copySource) Err() error             { return s.err }

// ScanEach runs query and, for each row, scans its columns into dest and
// calls fn. On PostgreSQL it reads through pgx itself, which scans into
// typed destinations without first boxing every value in an interface (a
// large share of the cost of reading millions of rows through
// database/sql); dest must then hold pointers pgx can scan into, such as
// *string, *int64 and *float64.
func (db *DB) ScanEach(ctx context.Context, query string, args []any, dest []any, fn func() error) error {
	if db.Dialect != Postgres {
		return queryEach(ctx, db, query, args, dest, fn)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return db.ScanEachTx(ctx, conn, nil, query, args, dest, fn)
}

// ScanEachTx is ScanEach inside the transaction tx that InConnTx runs on
// conn, so the rows come from the transaction's snapshot.
func (db *DB) ScanEachTx(ctx context.Context, conn *sql.Conn, tx *sql.Tx, query string, args []any, dest []any, fn func() error) error {
	if db.Dialect != Postgres {
		return queryEach(ctx, tx, query, args, dest, fn)
	}
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return ErrCopyUnsupported
		}
		rows, err := c.Conn().Query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		return scanRows(rows, dest, fn)
	})
}

// queryEach runs query through database/sql on q and scans each row into
// dest, calling fn after each.
func queryEach(ctx context.Context, q interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}, query string, args []any, dest []any, fn func() error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	return scanRows(rows, dest, fn)
}

// scanRows scans each row into dest and calls fn after each.
func scanRows(rows Rows, dest []any, fn func() error) error {
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		if err := fn(); err != nil {
			return err
		}
	}
	return rows.Err()
}
