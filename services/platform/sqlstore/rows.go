package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"strings"
)

// insertSizes are the row counts of the statements InsertRows uses,
// largest first: any count splits into a few of them, so each table's
// statements are prepared once per size (SQLite parses a statement of
// thousands of parameters slowly). 500 rows stay far under SQLite's 32,766
// and PostgreSQL's 65,535 parameters for rows of up to 65 columns.
var insertSizes = []int{500, 100, 20, 5, 1}

// InsertRows writes rows, each a value per column of cols (comma
// separated), into table in multi-row INSERT statements of tx ending with
// suffix (an ON CONFLICT clause, or ""): a page of a few hundred rows
// costs a few statements rather than one each.
func (db *DB) InsertRows(ctx context.Context, tx *sql.Tx, table, cols, suffix string, rows [][]any) error {
	for len(rows) > 0 {
		n := insertSizes[slices.IndexFunc(insertSizes, func(size int) bool { return size <= len(rows) })]
		one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(rows[0])), ",") + ")"
		args := make([]any, 0, n*len(rows[0]))
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		query := `INSERT INTO ` + table + ` (` + cols + `) VALUES ` + strings.TrimSuffix(strings.Repeat(one+",", n), ",") + " " + suffix
		st, err := db.TxStmt(ctx, tx, db.Rebind(query))
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
