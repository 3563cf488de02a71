package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/promotion/internal/promotion"
)

var codeCols = []string{"code", "campaign_id", "promotion_id", "max_uses", "uses", "customer_id"}

// errCodesTaken stops the fast insert of codes when one of them is taken.
var errCodesTaken = errors.New("store: a code is taken")

// InsertCodes implements promotion.CodeStore. Random codes are almost
// never taken, so the codes are first written in one pass that only counts
// them (COPY straight into the table on PostgreSQL, INSERT OR IGNORE on
// SQLite); when one is taken, that transaction is rolled back and the codes
// are written again in a pass that skips the taken ones and returns them,
// to be replaced.
func (s *Store) InsertCodes(ctx context.Context, codes []promotion.Code, progress *promotion.Operation) ([]string, error) {
	taken, err := s.insertCodesTx(ctx, codes, progress, false)
	if errors.Is(err, errCodesTaken) {
		taken, err = s.insertCodesTx(ctx, codes, progress, true)
	}
	return taken, err
}

// insertCodesTx inserts codes in one transaction, with the progress, and
// returns the taken ones; unless exact, it fails with errCodesTaken when a
// code is taken.
func (s *Store) insertCodesTx(ctx context.Context, codes []promotion.Code, progress *promotion.Operation, exact bool) ([]string, error) {
	var (
		taken []string
		done  int64
	)
	err := s.db.InConnTx(ctx, func(conn *sql.Conn, tx *sql.Tx) error {
		var err error
		switch {
		case s.db.Dialect == sqlstore.Postgres && !exact:
			err = s.copyCodes(ctx, conn, codes)
		case s.db.Dialect == sqlstore.Postgres:
			taken, err = s.copyCodesSkipping(ctx, conn, tx, codes)
		default:
			taken, err = s.insertCodes(ctx, tx, codes, exact)
		}
		if err != nil || progress == nil {
			return err
		}
		done = progress.Done + int64(len(codes)-len(taken))
		_, err = s.exec(ctx, tx, `UPDATE operations SET done_count = ? WHERE operation_id = ?`, done, progress.ID)
		return err
	})
	if err == nil && progress != nil {
		progress.Done = done
	}
	return taken, err
}

// copyCodes copies codes straight into the table; a taken one fails the
// COPY with errCodesTaken.
func (s *Store) copyCodes(ctx context.Context, conn *sql.Conn, codes []promotion.Code) error {
	_, err := sqlstore.CopyRows(ctx, conn, "codes", codeCols, codeRows(codes))
	if s.db.IsUniqueViolation(err) {
		return errCodesTaken
	}
	return err
}

// copyCodesSkipping copies codes into a temporary table and on into codes,
// skipping and returning the taken ones.
func (s *Store) copyCodesSkipping(ctx context.Context, conn *sql.Conn, tx *sql.Tx, codes []promotion.Code) ([]string, error) {
	if _, err := tx.ExecContext(ctx, `CREATE TEMPORARY TABLE IF NOT EXISTS codes_in (LIKE codes INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`); err != nil {
		return nil, err
	}
	if _, err := sqlstore.CopyRows(ctx, conn, "codes_in", codeCols, codeRows(codes)); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `INSERT INTO codes SELECT * FROM codes_in ON CONFLICT (code) DO NOTHING RETURNING code`)
	if err != nil {
		return nil, err
	}
	inserted := make(map[string]bool, len(codes))
	if err := collect(rows, inserted); err != nil {
		return nil, err
	}
	return notIn(codes, inserted), nil
}

// codeRows returns the row function of CopyRows for codes.
func codeRows(codes []promotion.Code) func(vals []any) (bool, error) {
	i := 0
	return func(vals []any) (bool, error) {
		if i == len(codes) {
			return false, nil
		}
		c := codes[i]
		vals[0], vals[1], vals[2], vals[3], vals[4], vals[5] = c.Code, c.CampaignID, c.PromotionID, c.MaxUses, int64(0), c.CustomerID
		i++
		return true, nil
	}
}

// insertCodes inserts codes 1000 a statement with INSERT OR IGNORE; exact,
// it returns the taken ones (RETURNING the inserted), otherwise it fails
// with errCodesTaken when a statement inserts fewer rows than it was
// given. OR IGNORE, rather than ON CONFLICT (code) DO NOTHING, also turns
// the NOT NULL checks (which never fail here) from aborting into skipping,
// so SQLite needs no statement journal: with one, every statement of the
// transaction copied each page it changed into the journal first.
func (s *Store) insertCodes(ctx context.Context, tx *sql.Tx, codes []promotion.Code, exact bool) ([]string, error) {
	const batch = 1000 // 5 parameters a row, under SQLite's 32,766
	// In code order, the inserts walk the B-trees once instead of all over.
	sorted := slices.Clone(codes)
	slices.SortFunc(sorted, func(a, b promotion.Code) int { return strings.Compare(a.Code, b.Code) })
	inserted := make(map[string]bool)
	for rest := sorted; len(rest) > 0; {
		n := min(batch, len(rest))
		st, args, err := s.insertCodesStmt(ctx, tx, rest[:n], exact)
		if err != nil {
			return nil, err
		}
		if exact {
			err = queryCodes(ctx, st, args, inserted)
		} else {
			err = execCodes(ctx, st, args, n)
		}
		if err != nil {
			return nil, err
		}
		rest = rest[n:]
	}
	if !exact {
		return nil, nil
	}
	return notIn(codes, inserted), nil
}

// insertCodesStmt returns the insert of codes and its arguments.
func (s *Store) insertCodesStmt(ctx context.Context, tx *sql.Tx, codes []promotion.Code, returning bool) (*sql.Stmt, []any, error) {
	var b strings.Builder
	b.WriteString(`INSERT OR IGNORE INTO codes (code, campaign_id, promotion_id, max_uses, uses, customer_id) VALUES `)
	args := make([]any, 0, 5*len(codes))
	for i, c := range codes {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, 0, ?)")
		args = append(args, c.Code, c.CampaignID, c.PromotionID, c.MaxUses, c.CustomerID)
	}
	if returning {
		b.WriteString(` RETURNING code`)
	}
	st, err := s.db.TxStmt(ctx, tx, s.q(b.String()))
	return st, args, err
}

// execCodes runs an insert of n codes, failing with errCodesTaken when it
// inserts fewer.
func execCodes(ctx context.Context, st *sql.Stmt, args []any, n int) error {
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return err
	}
	if got, err := res.RowsAffected(); err != nil || got != int64(n) {
		return errors.Join(errCodesTaken, err)
	}
	return nil
}

// queryCodes runs an insert RETURNING code and adds the codes to inserted.
func queryCodes(ctx context.Context, st *sql.Stmt, args []any, inserted map[string]bool) error {
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	return collect(rows, inserted)
}

// collect adds the codes rows returns to inserted.
func collect(rows *sql.Rows, inserted map[string]bool) error {
	defer rows.Close()
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return err
		}
		inserted[c] = true
	}
	return rows.Err()
}

// notIn returns the codes not in inserted, in their order.
func notIn(codes []promotion.Code, inserted map[string]bool) []string {
	var taken []string
	for _, c := range codes {
		if !inserted[c.Code] {
			taken = append(taken, c.Code)
		}
	}
	return taken
}

// ListCodes implements promotion.CodeStore.
func (s *Store) ListCodes(ctx context.Context, campaignID, promotionID, after string, limit int) ([]promotion.Code, error) {
	return s.codes(ctx, `SELECT code, campaign_id, promotion_id, max_uses, uses, customer_id FROM codes
		WHERE campaign_id = ? AND promotion_id = ? AND code > ? ORDER BY code LIMIT ?`, campaignID, promotionID, after, limit)
}

// codes runs a query of codes' columns.
func (s *Store) codes(ctx context.Context, query string, args ...any) ([]promotion.Code, error) {
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []promotion.Code
	for rows.Next() {
		var c promotion.Code
		if err := rows.Scan(&c.Code, &c.CampaignID, &c.PromotionID, &c.MaxUses, &c.Uses, &c.CustomerID); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

const opCols = `operation_id, campaign_id, promotion_id, state, done_count, total, error, create_ns, end_ns`

// CreateOperation implements promotion.CodeStore.
func (s *Store) CreateOperation(ctx context.Context, op *promotion.Operation) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO operations (`+opCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`), op.ID, op.CampaignID,
		op.PromotionID, int(op.State), op.Done, op.Total, op.Error, sqlstore.Nanos(op.CreateTime), sqlstore.Nanos(op.EndTime))
	return err
}

// UpdateOperation implements promotion.CodeStore.
func (s *Store) UpdateOperation(ctx context.Context, op *promotion.Operation) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE operations SET state = ?, done_count = ?, error = ?, end_ns = ? WHERE operation_id = ?`),
		int(op.State), op.Done, op.Error, sqlstore.Nanos(op.EndTime), op.ID)
	return err
}

// GetOperation implements promotion.CodeStore.
func (s *Store) GetOperation(ctx context.Context, id string) (*promotion.Operation, error) {
	var op promotion.Operation
	var state int
	var cr, end int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT `+opCols+` FROM operations WHERE operation_id = ?`), id).Scan(&op.ID, &op.CampaignID,
		&op.PromotionID, &state, &op.Done, &op.Total, &op.Error, &cr, &end)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", promotion.ErrOperationNotFound, id)
	}
	if err != nil {
		return nil, err
	}
	op.State, op.CreateTime, op.EndTime = promotion.OpState(state), sqlstore.FromNanos(cr), sqlstore.FromNanos(end)
	return &op, nil
}
