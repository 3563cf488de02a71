package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"strings"
)

// insertSizes are the row counts of the statements InsertRows uses,
// largest first: any count splits into a few of them and a remainder, so
// each table's statements are prepared once per size (SQLite parses a
// statement of thousands of parameters slowly). 500 rows stay far under
// SQLite's 32,766 and PostgreSQL's 65,535 parameters for rows of up to 65
// columns.
var insertSizes = []int{500, 100, smallestChunk}

// smallestChunk: fewer rows than this go in one statement of their own
// size (a transaction writing a few rows makes one statement, not several).
const smallestChunk = 20

// InsertRows writes rows, each a value per column of cols (comma
// separated), into table in multi-row INSERT statements of tx ending with
// suffix (an ON CONFLICT clause, or ""): a page of a few hundred rows
// costs a few statements rather than one each.
func (db *DB) InsertRows(ctx context.Context, tx *sql.Tx, table, cols, suffix string, rows [][]any) error {
	return db.inChunks(ctx, tx, rows, func(n int) string {
		one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(rows[0])), ",") + ")"
		return `INSERT INTO ` + table + ` (` + cols + `) VALUES ` + strings.TrimSuffix(strings.Repeat(one+",", n), ",") + " " + suffix
	})
}

// ExecValues runs stmt, a statement that reads the list v (such as
// "UPDATE t SET a = v.a FROM v WHERE t.id = v.id", or "DELETE FROM t WHERE
// id IN (SELECT id FROM v)"), once per few hundred of rows: v's columns
// are cols (comma separated), of the SQL types types, one value each per
// row. In an UPDATE, rows whose key matches no row change nothing, and no
// two rows may have the same key.
func (db *DB) ExecValues(ctx context.Context, tx *sql.Tx, cols string, types []string, stmt string, rows [][]any) error {
	return db.inChunks(ctx, tx, rows, func(n int) string {
		// PostgreSQL types a list of parameters as text unless one row
		// says otherwise: the first row's casts type every column.
		first := make([]string, len(types))
		for i, t := range types {
			first[i] = "CAST(? AS " + t + ")"
		}
		list := "(" + strings.Join(first, ", ") + ")" +
			strings.Repeat(", ("+strings.TrimSuffix(strings.Repeat("?, ", len(types)), ", ")+")", n-1)
		return `WITH v (` + cols + `) AS (VALUES ` + list + `) ` + stmt
	})
}

// inChunks runs the statement query(n) for rows n at a time, n one of
// insertSizes, with the rows' values in order as its arguments.
func (db *DB) inChunks(ctx context.Context, tx *sql.Tx, rows [][]any, query func(n int) string) error {
	for len(rows) > 0 {
		n := len(rows)
		if n >= smallestChunk {
			n = insertSizes[slices.IndexFunc(insertSizes, func(size int) bool { return size <= len(rows) })]
		}
		args := make([]any, 0, n*len(rows[0]))
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		st, err := db.TxStmt(ctx, tx, db.Rebind(query(n)))
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}
