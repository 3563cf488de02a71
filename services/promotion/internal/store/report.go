package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/tenurehq/tenure/services/platform/idempotency"
	"github.com/tenurehq/tenure/services/promotion/internal/promotion"
)

// Cursor implements promotion.ReportStore.
func (s *Store) Cursor(ctx context.Context) (int64, error) {
	var seq int64
	err := s.db.QueryRowContext(ctx, `SELECT sequence FROM stream_cursor WHERE id = 1`).Scan(&seq)
	return seq, err
}

// ApplyOrders implements promotion.ReportStore.
func (s *Store) ApplyOrders(ctx context.Context, last int64, orders []promotion.Order, group func(o promotion.Order, frozen map[string]bool) []promotion.Attribution) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		var cur int64
		if err := tx.QueryRowContext(ctx, `SELECT sequence FROM stream_cursor WHERE id = 1`+s.forUpdate()).Scan(&cur); err != nil {
			return err
		}
		if last <= cur {
			return nil
		}
		if err := s.recordTriggerEvents(ctx, tx, cur, last, orders); err != nil {
			return err
		}
		for _, o := range orders {
			if o.Sequence <= cur {
				continue
			}
			if err := s.applyOrder(ctx, tx, o, group); err != nil {
				return err
			}
		}
		_, err := s.exec(ctx, tx, `UPDATE stream_cursor SET sequence = ? WHERE id = 1`, last)
		return err
	})
}

func (s *Store) applyOrder(ctx context.Context, tx *sql.Tx, o promotion.Order, group func(o promotion.Order, frozen map[string]bool) []promotion.Attribution) error {
	if o.Cart {
		return nil
	}
	if o.ErasedAs != "" {
		return s.erase(ctx, tx, o.CustomerID, o.ErasedAs)
	}
	if o.Profile != nil {
		return s.applyProfile(ctx, tx, o.CustomerID, *o.Profile)
	}
	if o.Refund {
		if o.OrderID == "" {
			return nil
		}
		for _, table := range []string{"campaign_orders", "outreach_orders"} {
			if _, err := s.exec(ctx, tx, `UPDATE `+table+` SET revenue = revenue - ? WHERE order_id = ?`, o.Revenue, o.OrderID); err != nil {
				return err
			}
		}
		return nil
	}
	if _, err := s.exec(ctx, tx, `INSERT INTO customer_orders (customer_id, orders) VALUES (?, 1)
		ON CONFLICT (customer_id) DO UPDATE SET orders = customer_orders.orders + 1`, o.CustomerID); err != nil {
		return err
	}
	frozen := map[string]bool{}
	rows, err := tx.QueryContext(ctx, s.q(`SELECT campaign_id, control FROM audience_members WHERE customer_id = ?`), o.CustomerID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id string
		var control int
		if err := rows.Scan(&id, &control); err != nil {
			rows.Close()
			return err
		}
		frozen[id] = control != 0
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	orderID := o.OrderID
	if orderID == "" {
		orderID = "event:" + o.EventID
	}
	if err := s.recordOutreachOrder(ctx, tx, orderID, o.CustomerID, o.Time, o.Revenue); err != nil {
		return err
	}
	for _, a := range group(o, frozen) {
		if _, err := s.exec(ctx, tx, `INSERT INTO campaign_orders (campaign_id, order_id, customer_id, grp, revenue, day) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (campaign_id, order_id) DO NOTHING`, a.CampaignID, orderID, o.CustomerID, int(a.Group), o.Revenue,
			o.Time.UTC().Format("2006-01-02")); err != nil {
			return err
		}
	}
	return nil
}

// CampaignFigures implements promotion.ReportStore.
func (s *Store) CampaignFigures(ctx context.Context, id string) (promotion.Figures, error) {
	var f promotion.Figures
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		f = promotion.Figures{}
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(DISTINCT u.order_id), COALESCE(SUM(u.discount - u.released), 0)
			FROM redemption_uses u JOIN redemptions r ON r.order_id = u.order_id WHERE u.campaign_id = ? AND r.state <> ?`),
			id, int(promotion.Cancelled)).Scan(&f.Redemptions, &f.DiscountCost); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COALESCE(SUM(revenue), 0) FROM (SELECT DISTINCT u.order_id, u.revenue
			FROM redemption_uses u JOIN redemptions r ON r.order_id = u.order_id WHERE u.campaign_id = ? AND r.state <> ?) o`),
			id, int(promotion.Cancelled)).Scan(&f.RedeemedRevenue); err != nil {
			return err
		}
		if err := s.groups(ctx, tx, id, &f); err != nil {
			return err
		}
		var err error
		if f.Promotions, err = s.promotions(ctx, tx, `SELECT `+promotionCols+` FROM promotions WHERE campaign_id = ? ORDER BY promotion_id`, id); err != nil {
			return err
		}
		return s.days(ctx, tx, id, &f)
	})
	return f, err
}

// groups fills the holdout groups' figures.
func (s *Store) groups(ctx context.Context, tx *sql.Tx, id string, f *promotion.Figures) error {
	queries := []struct {
		q    string
		scan func(rows *sql.Rows) error
	}{
		{`SELECT control, COUNT(*) FROM audience_members WHERE campaign_id = ? GROUP BY control`, func(rows *sql.Rows) error {
			var control int
			var n int64
			if err := rows.Scan(&control, &n); err != nil {
				return err
			}
			f.Members[promotion.GroupTreatment+promotion.Group(control)] = n
			return nil
		}},
		{`SELECT grp, COUNT(DISTINCT customer_id), COUNT(*), COALESCE(SUM(revenue), 0) FROM campaign_orders WHERE campaign_id = ? GROUP BY grp`, func(rows *sql.Rows) error {
			var g int
			var conv, orders, rev int64
			if err := rows.Scan(&g, &conv, &orders, &rev); err != nil {
				return err
			}
			if g >= 0 && g < 3 {
				f.Converters[g], f.Orders[g], f.Revenue[g] = conv, orders, rev
			}
			return nil
		}},
		{`SELECT COALESCE(SUM(u.discount - u.released), 0), COUNT(*) FROM redemption_uses u JOIN campaign_orders o
			ON o.campaign_id = u.campaign_id AND o.order_id = u.order_id WHERE u.campaign_id = ? AND o.grp = 1`, func(rows *sql.Rows) error {
			var n int64
			return rows.Scan(&f.TreatmentCost, &n)
		}},
	}
	for _, q := range queries {
		rows, err := tx.QueryContext(ctx, s.q(q.q), id)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := q.scan(rows); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// days fills the daily series.
func (s *Store) days(ctx context.Context, tx *sql.Tx, id string, f *promotion.Figures) error {
	rows, err := tx.QueryContext(ctx, s.q(`SELECT day, SUM(r), SUM(cost), SUM(t), SUM(c), SUM(rev) FROM (
		SELECT day, COUNT(DISTINCT order_id) AS r, SUM(discount - released) AS cost, 0 AS t, 0 AS c, 0 AS rev FROM redemption_uses
			WHERE campaign_id = ? GROUP BY day
		UNION ALL
		SELECT day, 0, 0, SUM(CASE WHEN grp = 2 THEN 0 ELSE 1 END), SUM(CASE WHEN grp = 2 THEN 1 ELSE 0 END), SUM(revenue) FROM campaign_orders
			WHERE campaign_id = ? GROUP BY day) d GROUP BY day ORDER BY day`), id, id)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var d promotion.Day
		if err := rows.Scan(&d.Day, &d.Redemptions, &d.DiscountCost, &d.TreatmentOrders, &d.ControlOrders, &d.Revenue); err != nil {
			return err
		}
		f.Days = append(f.Days, d)
	}
	return rows.Err()
}

// erase re-keys everything held under a customer id to the anonymous id
// profile gave it: redemptions (their stored carts too), uses, frozen
// audiences, attributed orders and order counts.
func (s *Store) erase(ctx context.Context, tx *sql.Tx, customerID, anonymousID string) error {
	from, err := json.Marshal(customerID)
	if err != nil {
		return err
	}
	to, err := json.Marshal(anonymousID)
	if err != nil {
		return err
	}
	if _, err := s.exec(ctx, tx, `UPDATE redemptions SET customer_id = ?, data = REPLACE(data, ?, ?) WHERE customer_id = ?`,
		anonymousID, `"CustomerID":`+string(from), `"CustomerID":`+string(to), customerID); err != nil {
		return err
	}
	for _, table := range []string{"redemption_uses", "customer_uses", "audience_members", "campaign_orders", "customer_orders",
		"outreach_messages", "outreach_engagements", "outreach_orders"} {
		if _, err := s.exec(ctx, tx, `UPDATE `+table+` SET customer_id = ? WHERE customer_id = ?`, anonymousID, customerID); err != nil {
			return fmt.Errorf("store: erase from %s: %w", table, err)
		}
	}
	if _, err := s.exec(ctx, tx, `DELETE FROM outreach_customers WHERE customer_id = ?`, customerID); err != nil {
		return fmt.Errorf("store: erase from outreach_customers: %w", err)
	}
	// Stored redemption responses name the customer: forget them.
	return s.forget.Forget(ctx, tx, idempotency.CustomerSubject(customerID))
}
