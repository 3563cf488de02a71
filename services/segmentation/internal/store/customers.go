package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

const customerCols = `customer_id, ` + featureCols + `, tags`

func scanCustomer(r interface{ Scan(...any) error }) (segmentation.Customer, error) {
	var c segmentation.Customer
	err := (&customerScanner{}).scan(r, &c)
	return c, err
}

// customerScanner scans customer rows into reused column variables and,
// with an interner, shares repeated strings and lists across customers.
type customerScanner struct {
	first, last, activity int64
	top, tags             string
	in                    *interner
}

// dest returns the scan destinations of a customerCols row into c.
func (cs *customerScanner) dest(c *segmentation.Customer) []any {
	f := &c.Features
	return []any{&c.ID, &cs.first, &cs.last, &cs.activity, &f.OrderCount, &f.RefundCount, &f.Currency, &f.GrossMinor,
		&f.NetMinor, &f.AverageOrderValueMinor, &f.DiscountShare, &f.PreferredChannel, &cs.top, &cs.tags}
}

func (cs *customerScanner) scan(r interface{ Scan(...any) error }, c *segmentation.Customer) error {
	if err := r.Scan(cs.dest(c)...); err != nil {
		return err
	}
	return cs.finish(c)
}

// finish converts the scanned columns into c's fields.
func (cs *customerScanner) finish(c *segmentation.Customer) error {
	f := &c.Features
	f.FirstOrderTime, f.LastOrderTime, f.LastActivityTime = fromNanos(cs.first), fromNanos(cs.last), fromNanos(cs.activity)
	var err error
	if cs.in == nil {
		if f.TopCategories, err = decodeList(cs.top); err != nil {
			return err
		}
		c.Tags, err = decodeList(cs.tags)
		return err
	}
	f.Currency, f.PreferredChannel = cs.in.str(f.Currency), cs.in.str(f.PreferredChannel)
	if f.TopCategories, err = cs.in.list(cs.top); err != nil {
		return err
	}
	c.Tags, err = cs.in.list(cs.tags)
	return err
}

// GetCustomer implements segmentation.InputStore.
func (s *Store) GetCustomer(ctx context.Context, id string) (segmentation.Customer, error) {
	c, err := scanCustomer(s.db.QueryRowContext(ctx, s.q(`SELECT `+customerCols+` FROM customers WHERE customer_id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("%w: %s", segmentation.ErrCustomerNotFound, id)
	}
	if err != nil {
		return c, fmt.Errorf("store: get customer: %w", err)
	}
	return c, nil
}

// LoadCustomers implements segmentation.InputStore. Customers share the
// backing arrays of equal tag and category lists.
func (s *Store) LoadCustomers(ctx context.Context) ([]segmentation.Customer, error) {
	_, out, err := s.LoadInputs(ctx)
	return out, err
}

// LoadInputs returns every customer's inputs in id order (as LoadCustomers)
// together with the cursor they reflect, both read in one transaction:
// REPEATABLE READ on PostgreSQL, so they come from one snapshot; on SQLite
// the transaction holds the write lock while it reads.
func (s *Store) LoadInputs(ctx context.Context) (int64, []segmentation.Customer, error) {
	var (
		cursor int64
		out    []segmentation.Customer
	)
	err := s.db.InConnTx(ctx, func(conn *sql.Conn, tx *sql.Tx) error {
		if s.db.Dialect == sqlstore.Postgres {
			if _, err := tx.ExecContext(ctx, `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`); err != nil {
				return err
			}
		}
		var err error
		if cursor, err = s.cursor(ctx, tx, ""); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM customers`).Scan(&n); err != nil {
			return err
		}
		out = make([]segmentation.Customer, 0, n)
		cs := customerScanner{in: newInterner()}
		var c segmentation.Customer
		err = s.db.ScanEachTx(ctx, conn, tx, `SELECT `+customerCols+` FROM customers ORDER BY customer_id`, nil, cs.dest(&c), func() error {
			if err := cs.finish(&c); err != nil {
				return err
			}
			out = append(out, c)
			return nil
		})
		if err != nil {
			return err
		}
		return s.loadPurchases(ctx, conn, tx, out)
	})
	if err != nil {
		return 0, nil, fmt.Errorf("store: load customers: %w", err)
	}
	return cursor, out, nil
}
