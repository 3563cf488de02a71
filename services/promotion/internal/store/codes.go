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

// InsertCodes implements promotion.CodeStore. On PostgreSQL the codes go
// through COPY into a temporary table and on into codes; on SQLite through
// multi-row inserts. Either way codes already taken are skipped and
// returned, to be replaced.
func (s *Store) InsertCodes(ctx context.Context, codes []promotion.Code) ([]string, error) {
	var taken []string
	err := s.db.InConnTx(ctx, func(conn *sql.Conn, tx *sql.Tx) error {
		inserted := make(map[string]bool, len(codes))
		var err error
		if s.db.Dialect == sqlstore.Postgres {
			err = s.copyCodes(ctx, conn, tx, codes, inserted)
		} else {
			err = s.insertCodes(ctx, tx, codes, inserted)
		}
		if err != nil {
			return err
		}
		taken = nil
		for _, c := range codes {
			if !inserted[c.Code] {
				taken = append(taken, c.Code)
			}
		}
		return nil
	})
	return taken, err
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

func (s *Store) copyCodes(ctx context.Context, conn *sql.Conn, tx *sql.Tx, codes []promotion.Code, inserted map[string]bool) error {
	if _, err := tx.ExecContext(ctx, `CREATE TEMPORARY TABLE IF NOT EXISTS codes_in (LIKE codes INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`); err != nil {
		return err
	}
	i := 0
	if _, err := sqlstore.CopyRows(ctx, conn, "codes_in", codeCols, func(vals []any) (bool, error) {
		if i == len(codes) {
			return false, nil
		}
		c := codes[i]
		vals[0], vals[1], vals[2], vals[3], vals[4], vals[5] = c.Code, c.CampaignID, c.PromotionID, c.MaxUses, int64(0), c.CustomerID
		i++
		return true, nil
	}); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `INSERT INTO codes SELECT * FROM codes_in ON CONFLICT (code) DO NOTHING RETURNING code`)
	if err != nil {
		return err
	}
	return collect(rows, inserted)
}

func (s *Store) insertCodes(ctx context.Context, tx *sql.Tx, codes []promotion.Code, inserted map[string]bool) error {
	const batch = 1000 // 5 parameters a row, under SQLite's 32,766
	// In code order, the inserts walk the B-trees once instead of all over.
	codes = slices.Clone(codes)
	slices.SortFunc(codes, func(a, b promotion.Code) int { return strings.Compare(a.Code, b.Code) })
	for len(codes) > 0 {
		n := min(batch, len(codes))
		var b strings.Builder
		b.WriteString(`INSERT INTO codes (code, campaign_id, promotion_id, max_uses, uses, customer_id) VALUES `)
		args := make([]any, 0, 5*n)
		for i, c := range codes[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, 0, ?)")
			args = append(args, c.Code, c.CampaignID, c.PromotionID, c.MaxUses, c.CustomerID)
		}
		b.WriteString(` ON CONFLICT (code) DO NOTHING RETURNING code`)
		st, err := s.db.TxStmt(ctx, tx, s.q(b.String()))
		if err != nil {
			return err
		}
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return err
		}
		if err := collect(rows, inserted); err != nil {
			return err
		}
		codes = codes[n:]
	}
	return nil
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
