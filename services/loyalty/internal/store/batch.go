package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
)

// batchRows is the most rows one multi-row statement writes or one IN
// list names: far under SQLite's 32,766 and PostgreSQL's 65,535 parameters
// at the widest row (entries, 17 columns).
const batchRows = 500

// writeSizes are the row counts of the multi-row statements CreateAll
// uses, largest first, as sqlstore.InsertRows (which writeRows uses) does:
// any count splits into a few of them, and each table's statements are
// prepared once per size (SQLite parses a statement of thousands of
// parameters slowly).
var writeSizes = []int{batchRows, 100, 20, 5, 1}

// writeRows writes rows into table's columns cols in multi-row statements,
// ending each with suffix (an ON CONFLICT clause or nothing). Plain inserts
// of many rows go through COPY on PostgreSQL when the ledger has its
// connection.
func (l *txLedger) writeRows(ctx context.Context, table, cols, suffix string, rows [][]any) error {
	if suffix == "" && len(rows) >= copyMin && l.conn != nil && l.s.db.Dialect == sqlstore.Postgres {
		return l.copyRows(ctx, table, cols, rows)
	}
	if err := l.s.db.InsertRows(ctx, l.tx, table, cols, suffix, rows); err != nil {
		return fmt.Errorf("store: write %s: %w", table, err)
	}
	return nil
}

// copyMin is the fewest rows writeRows copies rather than inserts: one
// row goes faster through a prepared statement.
const copyMin = 2

// copyRows writes rows into table's columns cols with COPY.
func (l *txLedger) copyRows(ctx context.Context, table, cols string, rows [][]any) error {
	names := strings.Split(cols, ",")
	for i := range names {
		names[i] = strings.TrimSpace(names[i])
	}
	i := 0
	_, err := sqlstore.CopyRows(ctx, l.conn, table, names, func(vals []any) (bool, error) {
		if i == len(rows) {
			return false, nil
		}
		copy(vals, rows[i])
		i++
		return true, nil
	})
	return err
}

// inList is "(?, ?, …)" for batchRows values: every IN list has that
// length, padded by repeating its last value, so one prepared statement
// serves every batch.
var inList = "(" + strings.TrimSuffix(strings.Repeat("?,", batchRows), ",") + ")"

// chunks calls fn with ids in slices of batchRows, the last padded by
// repeating its last id.
func chunks(ids []string, fn func(part []any) error) error {
	for start := 0; start < len(ids); start += batchRows {
		part := ids[start:min(start+batchRows, len(ids))]
		args := make([]any, batchRows)
		for i := range args {
			args[i] = part[min(i, len(part)-1)]
		}
		if err := fn(args); err != nil {
			return err
		}
	}
	return nil
}

// query runs a query through a statement prepared once on the
// transaction's connection.
func (l *txLedger) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := l.s.db.TxStmt(ctx, l.tx, l.s.q(query))
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}
