package store

import (
	"context"
	"fmt"
	"strings"
)

// batchRows is the most rows one multi-row statement writes or one IN
// list names: far under SQLite's 32,766 and PostgreSQL's 65,535 parameters
// at the widest row (entries, 17 columns).
const batchRows = 500

// writeRows writes rows into table's columns cols in statements of up to
// batchRows rows each, ending each with suffix (an ON CONFLICT clause or
// nothing).
func (l *txLedger) writeRows(ctx context.Context, table, cols, suffix string, rows [][]any) error {
	for start := 0; start < len(rows); start += batchRows {
		chunk := rows[start:min(start+batchRows, len(rows))]
		one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(chunk[0])), ",") + ")"
		var args []any
		for _, r := range chunk {
			args = append(args, r...)
		}
		query := `INSERT INTO ` + table + ` (` + cols + `) VALUES ` + strings.TrimSuffix(strings.Repeat(one+",", len(chunk)), ",") + " " + suffix
		if _, err := l.tx.ExecContext(ctx, l.s.q(query), args...); err != nil {
			return fmt.Errorf("store: write %s: %w", table, err)
		}
	}
	return nil
}

// inList is "(?, ?, …)" for n values.
func inList(n int) string {
	return "(" + strings.TrimSuffix(strings.Repeat("?,", n), ",") + ")"
}

// chunks calls fn with ids in slices of up to batchRows.
func chunks(ids []string, fn func(part []any) error) error {
	for start := 0; start < len(ids); start += batchRows {
		part := ids[start:min(start+batchRows, len(ids))]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		if err := fn(args); err != nil {
			return err
		}
	}
	return nil
}
