package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/tenurehq/tenure/services/segmentation/internal/recommend"
)

//go:embed historymigrations
var historyMigrations embed.FS

// historyComponent is the migration record of the purchase history's
// schema, kept apart from the rest of segmentation's.
const historyComponent = "segmentation-purchase-history"

// MigrateHistory applies the purchase history's schema migrations.
func (s *Store) MigrateHistory(ctx context.Context) error {
	sub, err := fs.Sub(historyMigrations, "historymigrations")
	if err != nil {
		return err
	}
	if err := s.db.Migrate(ctx, historyComponent, sub); err != nil {
		return fmt.Errorf("store: migrate purchase history: %w", err)
	}
	return nil
}

// Row kinds of purchase_history.
const (
	historyOrderLine = 1
	historyView      = 2
)

// HistoryCursor returns the sequence of the last profile event applied to
// the purchase history.
func (s *Store) HistoryCursor(ctx context.Context) (int64, error) {
	return s.historyCursor(ctx, s.db, "")
}

func (s *Store) historyCursor(ctx context.Context, q queryer, suffix string) (int64, error) {
	var seq int64
	err := q.QueryRowContext(ctx, `SELECT sequence FROM purchase_history_cursor WHERE id = 1`+suffix).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: read purchase history cursor: %w", err)
	}
	return seq, nil
}

// historyBatch is how many rows one INSERT writes.
const historyBatch = 100

// ApplyHistory applies changes (in sequence order) and moves the purchase
// history's cursor to cursor, in one transaction. Changes at or below the
// stored cursor were applied already (by another replica) and are
// skipped. It returns the changes it applied.
func (s *Store) ApplyHistory(ctx context.Context, changes []recommend.Change, cursor int64) ([]recommend.Change, error) {
	var applied []recommend.Change
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		applied = applied[:0]
		cur, err := s.historyCursor(ctx, tx, s.forUpdate())
		if err != nil {
			return err
		}
		if cursor <= cur {
			return nil
		}
		var rows []any
		flush := func() error {
			if len(rows) == 0 {
				return nil
			}
			n := len(rows) / 7
			q := `INSERT INTO purchase_history (sequence, line, customer_id, kind, sku, category, occurred_at) VALUES ` +
				strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?), ", n), ", ") + ` ON CONFLICT (sequence, line) DO NOTHING`
			_, err := tx.ExecContext(ctx, s.q(q), rows...)
			rows = rows[:0]
			return err
		}
		for _, c := range changes {
			if c.Sequence <= cur {
				continue
			}
			applied = append(applied, c)
			switch c.Kind {
			case recommend.ChangeOrder, recommend.ChangeView:
				kind := historyOrderLine
				if c.Kind == recommend.ChangeView {
					kind = historyView
				}
				for i, l := range c.Lines {
					rows = append(rows, c.Sequence, i, c.Customer, kind, l.SKU, l.Category, nanos(c.At))
					if len(rows) >= historyBatch*7 {
						if err := flush(); err != nil {
							return err
						}
					}
				}
				continue
			}
			if err := flush(); err != nil {
				return err
			}
			switch c.Kind {
			case recommend.ChangeDelete:
				_, err = tx.ExecContext(ctx, s.q(`DELETE FROM purchase_history WHERE customer_id = ?`), c.Customer)
			case recommend.ChangeRekey:
				_, err = tx.ExecContext(ctx, s.q(`UPDATE purchase_history SET customer_id = ? WHERE customer_id = ?`), c.NewID, c.Customer)
			}
			if err != nil {
				return err
			}
		}
		if err := flush(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`UPDATE purchase_history_cursor SET sequence = ? WHERE id = 1`), cursor)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: apply purchase history: %w", err)
	}
	return applied, nil
}

// LoadHistory reads the whole purchase history into h, in log order, and
// returns the cursor it reflects (read in the same transaction).
func (s *Store) LoadHistory(ctx context.Context, h *recommend.History) (int64, error) {
	var cursor int64
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		if cursor, err = s.historyCursor(ctx, tx, ""); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT sequence, customer_id, kind, sku, category, occurred_at
			FROM purchase_history ORDER BY sequence, line`)
		if err != nil {
			return err
		}
		defer rows.Close()
		var (
			cur      recommend.Change
			seq, at  int64
			kind     int
			customer string
			l        recommend.Line
		)
		page := make([]recommend.Change, 0, 1)
		for rows.Next() {
			if err := rows.Scan(&seq, &customer, &kind, &l.SKU, &l.Category, &at); err != nil {
				return err
			}
			if seq != cur.Sequence {
				if cur.Sequence != 0 {
					h.Apply(append(page[:0], cur))
				}
				cur = recommend.Change{Sequence: seq, Kind: recommend.ChangeOrder, Customer: customer, At: time.Unix(0, at).UTC()}
				if kind == historyView {
					cur.Kind = recommend.ChangeView
				}
			}
			cur.Lines = append(cur.Lines, l)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if cur.Sequence != 0 {
			h.Apply(append(page[:0], cur))
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: load purchase history: %w", err)
	}
	return cursor, nil
}
