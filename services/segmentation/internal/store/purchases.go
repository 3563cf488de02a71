package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// purchaseKey is one customer's day.
type purchaseKey struct {
	id  string
	day int32
}

// purchaseBatch holds a page's purchase days to add, summed per customer
// and day, until a mutation that deletes or moves purchase days (or the
// end of the page) writes them.
type purchaseBatch map[purchaseKey]int64

// applyPurchases applies m's effect on the purchase days, in page order
// with the other mutations: an upsert's days are batched, a delete or
// re-key writes the batch first and then deletes or moves the customer's
// days.
func (w *pageWriter) applyPurchases(ctx context.Context, m *segmentation.Mutation) error {
	var err error
	switch m.Kind {
	case segmentation.MutationUpsert:
		if w.purchases == nil && len(m.Purchases) > 0 {
			w.purchases = purchaseBatch{}
		}
		for _, p := range m.Purchases {
			w.purchases[purchaseKey{m.ID, p.Day}] += p.Amount
		}
		return nil
	case segmentation.MutationDelete:
		if err = w.flushPurchases(ctx); err == nil {
			err = w.exec(ctx, `DELETE FROM purchase_days WHERE customer_id = ?`, m.ID)
		}
	case segmentation.MutationRekey:
		if err = w.flushPurchases(ctx); err == nil {
			err = w.exec(ctx, `DELETE FROM purchase_days WHERE customer_id = ?`, m.NewID)
		}
		if err == nil {
			err = w.exec(ctx, `UPDATE purchase_days SET customer_id = ? WHERE customer_id = ?`, m.NewID, m.ID)
		}
	}
	if err != nil {
		return fmt.Errorf("store: purchase days of %s: %w", m.ID, err)
	}
	return nil
}

const addPurchaseDay = `INSERT INTO purchase_days (customer_id, day, amount_minor) VALUES (?, ?, ?)
	ON CONFLICT (customer_id, day) DO UPDATE SET amount_minor = purchase_days.amount_minor + excluded.amount_minor`

// flushPurchases writes the batched purchase days: on PostgreSQL in one
// array statement, on SQLite row by row through a prepared statement.
func (w *pageWriter) flushPurchases(ctx context.Context) error {
	if len(w.purchases) == 0 {
		return nil
	}
	defer clear(w.purchases)
	if w.s.db.Dialect == sqlstore.Postgres {
		ids := make([]string, 0, len(w.purchases))
		days := make([]int32, 0, len(w.purchases))
		amounts := make([]int64, 0, len(w.purchases))
		for k, a := range w.purchases {
			ids, days, amounts = append(ids, k.id), append(days, k.day), append(amounts, a)
		}
		_, err := w.tx.ExecContext(ctx, `INSERT INTO purchase_days (customer_id, day, amount_minor)
			SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[])
			ON CONFLICT (customer_id, day) DO UPDATE SET amount_minor = purchase_days.amount_minor + excluded.amount_minor`,
			ids, days, amounts)
		if err != nil {
			return fmt.Errorf("store: add purchase days: %w", err)
		}
		return nil
	}
	for k, a := range w.purchases {
		if err := w.exec(ctx, addPurchaseDay, k.id, k.day, a); err != nil {
			return fmt.Errorf("store: add purchase day: %w", err)
		}
	}
	return nil
}

// loadPurchases reads every customer's purchase days in the order of
// customers (id order, as the same query's ORDER BY gives them) into one
// backing array shared by their clipped Purchases slices.
func (s *Store) loadPurchases(ctx context.Context, conn *sql.Conn, tx *sql.Tx, customers []segmentation.Customer) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM purchase_days`).Scan(&n); err != nil {
		return err
	}
	all := make([]segmentation.PurchaseDay, 0, n)
	owner := make([]int, 0, n)
	var (
		id string
		p  segmentation.PurchaseDay
	)
	i := 0
	err := s.db.ScanEachTx(ctx, conn, tx, `SELECT customer_id, day, amount_minor FROM purchase_days ORDER BY customer_id, day`, nil,
		[]any{&id, &p.Day, &p.Amount}, func() error {
			for i < len(customers) && customers[i].ID != id && customers[i].ID < id {
				i++
			}
			if i == len(customers) || customers[i].ID != id {
				return nil // a customer without a customers row: none after a delete
			}
			all, owner = append(all, p), append(owner, i)
			return nil
		})
	if err != nil {
		return err
	}
	for lo := 0; lo < len(all); {
		hi := lo + 1
		for hi < len(all) && owner[hi] == owner[lo] {
			hi++
		}
		customers[owner[lo]].Purchases = slices.Clip(all[lo:hi])
		lo = hi
	}
	return nil
}

// GetPurchases returns a customer's purchase days, ascending.
func (s *Store) GetPurchases(ctx context.Context, id string) ([]segmentation.PurchaseDay, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT day, amount_minor FROM purchase_days WHERE customer_id = ? ORDER BY day`), id)
	if err != nil {
		return nil, fmt.Errorf("store: get purchase days: %w", err)
	}
	defer rows.Close()
	var out []segmentation.PurchaseDay
	for rows.Next() {
		var p segmentation.PurchaseDay
		if err := rows.Scan(&p.Day, &p.Amount); err != nil {
			return nil, fmt.Errorf("store: get purchase days: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: get purchase days: %w", err)
	}
	slices.SortFunc(out, func(a, b segmentation.PurchaseDay) int { return cmp.Compare(a.Day, b.Day) })
	return out, nil
}
