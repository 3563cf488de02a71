package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/promotion/internal/promotion"
)

// snapshotParts are the parts of the snapshot query, each read only when
// an evaluation needs it: the counters of the active promotions that have
// a limit, the active campaigns' budgets, the customer's own uses, frozen
// audiences and order count. The first two take the active state, the
// others the customer.
var snapshotParts = [...]string{
	`SELECT 'p', p.campaign_id, p.promotion_id, p.uses, p.budget_used, p.stock_used
	FROM promotions p JOIN campaigns c ON c.campaign_id = p.campaign_id
	WHERE c.state = ? AND (p.total_uses > 0 OR p.budget > 0 OR p.stock > 0)`,
	`SELECT 'c', campaign_id, '', budget_used, 0, 0 FROM campaigns WHERE state = ? AND budget > 0`,
	`SELECT 'u', campaign_id, promotion_id, uses, units, 0 FROM customer_uses WHERE customer_id = ?`,
	`SELECT 'a', campaign_id, '', control, 0, 0 FROM audience_members WHERE customer_id = ?`,
	`SELECT 'o', '', '', orders, 0, 0 FROM customer_orders WHERE customer_id = ?`,
}

// snapshotQuery returns the query of the parts need names, in one round
// trip, and its arguments; "" when it needs none.
func snapshotQuery(need promotion.UsageNeeds, customerID string) (string, []any) {
	var (
		parts []string
		args  []any
	)
	for i, on := range [len(snapshotParts)]bool{need.PromotionCounters, need.CampaignBudgets, need.CustomerUses, need.Frozen, need.Orders} {
		if !on {
			continue
		}
		parts = append(parts, snapshotParts[i])
		if i < 2 {
			args = append(args, int(promotion.StateActive))
		} else {
			args = append(args, customerID)
		}
	}
	return strings.Join(parts, "\nUNION ALL "), args
}

// Snapshot implements promotion.UsageStore.
func (s *Store) Snapshot(ctx context.Context, customerID string, codes []string, need promotion.UsageNeeds) (promotion.Snapshot, error) {
	var snap promotion.Snapshot
	var err error
	if query, args := snapshotQuery(need, customerID); query != "" {
		err = s.readUsage(ctx, &snap, query, args)
	}
	if err == nil && len(codes) > 0 {
		snap.Codes, err = s.lookupCodes(ctx, codes)
	}
	return snap, err
}

// readUsage runs a snapshot query into snap.
func (s *Store) readUsage(ctx context.Context, snap *promotion.Snapshot, query string, args []any) error {
	st, err := s.db.Prepared(ctx, s.q(query))
	if err != nil {
		return err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	// The maps are made here, not for every snapshot: an evaluation that
	// reads no usage (the shared counters' copy is fresh and nothing is
	// per customer) then allocates none.
	snap.Promotions, snap.CampaignBudgetUsed, snap.Frozen = map[string]promotion.Counters{}, map[string]int64{}, map[string]bool{}
	for rows.Next() {
		var kind, cid, pid string
		var a, b, c int64
		if err := rows.Scan(&kind, &cid, &pid, &a, &b, &c); err != nil {
			return err
		}
		switch kind {
		case "p":
			name := promotion.PromotionNames.Format(cid, pid)
			n := snap.Promotions[name]
			n.Uses, n.BudgetUsed, n.StockUsed = a, b, c
			snap.Promotions[name] = n
		case "u":
			name := promotion.PromotionNames.Format(cid, pid)
			n := snap.Promotions[name]
			n.CustomerUses, n.CustomerUnits = a, b
			snap.Promotions[name] = n
		case "c":
			snap.CampaignBudgetUsed[cid] = a
		case "a":
			snap.Frozen[cid] = a != 0
		case "o":
			snap.Orders = a
		}
	}
	return rows.Err()
}

func (s *Store) lookupCodes(ctx context.Context, codes []string) ([]promotion.Code, error) {
	args := make([]any, len(codes))
	for i, c := range codes {
		args[i] = c
	}
	return s.codes(ctx, `SELECT code, campaign_id, promotion_id, max_uses, uses, customer_id FROM codes WHERE code IN (?`+
		strings.Repeat(", ?", len(codes)-1)+`)`, args...)
}

// Redeem implements promotion.UsageStore.
func (s *Store) Redeem(ctx context.Context, r *promotion.Redemption, charges []promotion.Charge) (*promotion.Redemption, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	day := r.CreateTime.UTC().Format("2006-01-02")
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.exec(ctx, tx, `INSERT INTO redemptions (order_id, customer_id, fingerprint, state, data, create_ns, update_ns)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, r.OrderID, r.CustomerID, r.Fingerprint, int(r.State), string(data),
			sqlstore.Nanos(r.CreateTime), sqlstore.Nanos(r.UpdateTime)); err != nil {
			return err
		}
		for _, ch := range charges {
			if err := s.chargeCustomer(ctx, tx, r.CustomerID, ch); err != nil {
				return err
			}
			if _, err := s.exec(ctx, tx, `INSERT INTO redemption_uses (order_id, campaign_id, promotion_id, customer_id, code, discount,
				released, units, uses_held, revenue, day) VALUES (?, ?, ?, ?, ?, ?, 0, ?, 1, ?, ?)`,
				r.OrderID, ch.CampaignID, ch.PromotionID, r.CustomerID, ch.Code, ch.Cost, ch.Units, r.Result.Total, day); err != nil {
				return err
			}
		}
		return s.chargeShared(ctx, tx, charges)
	})
	if s.db.IsUniqueViolation(err) {
		existing, gerr := s.GetRedemption(ctx, r.OrderID)
		if gerr != nil {
			return nil, gerr
		}
		return existing, nil
	}
	return nil, err
}

// guarded runs a guarded write that must change one row, or reports the
// limit raced.
func (s *Store) guarded(ctx context.Context, tx *sql.Tx, what, query string, args ...any) error {
	n, err := s.exec(ctx, tx, query, args...)
	if err != nil {
		return err
	}
	if n != 1 {
		return fmt.Errorf("%w: %s", promotion.ErrLimitRaced, what)
	}
	return nil
}

// chargeCustomer takes the customer's use (and flash units) and the code's
// use of one applied promotion, by guarded writes.
func (s *Store) chargeCustomer(ctx context.Context, tx *sql.Tx, customerID string, ch promotion.Charge) error {
	// A first use inserts the row (the evaluation kept its units within the
	// limit); later ones are the guarded update.
	if err := s.guarded(ctx, tx, "customer limits", `INSERT INTO customer_uses (campaign_id, promotion_id, customer_id, uses, units)
		VALUES (?, ?, ?, 1, ?) ON CONFLICT (campaign_id, promotion_id, customer_id) DO UPDATE
		SET uses = customer_uses.uses + 1, units = customer_uses.units + excluded.units
		WHERE (? = 0 OR customer_uses.uses < ?) AND (? = 0 OR customer_uses.units + excluded.units <= ?)`,
		ch.CampaignID, ch.PromotionID, customerID, ch.CustomerUnits, ch.UsesPerCustomer, ch.UsesPerCustomer,
		ch.CustomerUnitLimit, ch.CustomerUnitLimit); err != nil {
		return err
	}
	if ch.Code == "" {
		return nil
	}
	return s.guarded(ctx, tx, "code uses", `UPDATE codes SET uses = uses + 1 WHERE code = ? AND uses < max_uses
		AND (customer_id = '' OR customer_id = ?)`, ch.Code, customerID)
}

// chargeShared takes the rows every order shares, last, so that the
// transaction holds their locks for the shortest time: each promotion's
// use, budget and stock, then each campaign's budget once for the sum of
// its promotions, in the order of the (sorted) charges, so concurrent
// redemptions lock them in one order.
func (s *Store) chargeShared(ctx context.Context, tx *sql.Tx, charges []promotion.Charge) error {
	var campaigns []string
	cost := map[string]int64{}
	for _, ch := range charges {
		if err := s.guarded(ctx, tx, "promotion limits", `UPDATE promotions SET uses = uses + 1, budget_used = budget_used + ?,
			stock_used = stock_used + ?, redeemed = 1
			WHERE campaign_id = ? AND promotion_id = ? AND (total_uses = 0 OR uses < total_uses)
			AND (budget = 0 OR budget_used + ? <= budget) AND (stock = 0 OR stock_used + ? <= stock)`,
			ch.Cost, ch.Units, ch.CampaignID, ch.PromotionID, ch.Cost, ch.Units); err != nil {
			return err
		}
		if _, ok := cost[ch.CampaignID]; !ok {
			campaigns = append(campaigns, ch.CampaignID)
		}
		cost[ch.CampaignID] += ch.Cost
	}
	for _, id := range campaigns {
		if err := s.guarded(ctx, tx, "campaign budget", `UPDATE campaigns SET budget_used = budget_used + ?
			WHERE campaign_id = ? AND (budget = 0 OR budget_used + ? <= budget)`, cost[id], id, cost[id]); err != nil {
			return err
		}
	}
	return nil
}

// GetRedemption implements promotion.UsageStore.
func (s *Store) GetRedemption(ctx context.Context, orderID string) (*promotion.Redemption, error) {
	return s.readRedemption(ctx, s.db.QueryRowContext(ctx, s.q(`SELECT data, state, update_ns FROM redemptions WHERE order_id = ?`), orderID), orderID)
}

func (s *Store) readRedemption(_ context.Context, row *sql.Row, orderID string) (*promotion.Redemption, error) {
	var data string
	var state int
	var up int64
	err := row.Scan(&data, &state, &up)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", promotion.ErrRedemptionNotFound, orderID)
	}
	if err != nil {
		return nil, err
	}
	var r promotion.Redemption
	if err := json.Unmarshal([]byte(data), &r); err != nil {
		return nil, fmt.Errorf("store: decode redemption %s: %w", orderID, err)
	}
	if r.ReleasedBy == nil {
		r.ReleasedBy = map[string]int64{}
	}
	r.State, r.UpdateTime = promotion.RedemptionState(state), sqlstore.FromNanos(up)
	return &r, nil
}

// UpdateRedemption implements promotion.UsageStore.
func (s *Store) UpdateRedemption(ctx context.Context, orderID, eventID string, fn func(r *promotion.Redemption) ([]promotion.ReleaseCharge, error)) (*promotion.Redemption, bool, error) {
	var out *promotion.Redemption
	applied := true
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		applied = true
		r, err := s.readRedemption(ctx, tx.QueryRowContext(ctx, s.q(`SELECT data, state, update_ns FROM redemptions WHERE order_id = ?`+s.forUpdate()), orderID), orderID)
		if err != nil {
			return err
		}
		out = r
		if eventID != "" {
			n, err := s.exec(ctx, tx, `INSERT INTO applied_refunds (event_id) VALUES (?) ON CONFLICT (event_id) DO NOTHING`, eventID)
			if err != nil {
				return err
			}
			if n == 0 {
				applied = false
				return nil
			}
		}
		releases, err := fn(r)
		if err != nil {
			return err
		}
		for _, rc := range releases {
			if err := s.release(ctx, tx, orderID, r.CustomerID, rc); err != nil {
				return err
			}
		}
		data, err := json.Marshal(r)
		if err != nil {
			return err
		}
		_, err = s.exec(ctx, tx, `UPDATE redemptions SET data = ?, state = ?, update_ns = ? WHERE order_id = ?`,
			string(data), int(r.State), sqlstore.Nanos(r.UpdateTime), orderID)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return out, applied, nil
}

// release gives back what a refund or cancellation releases.
func (s *Store) release(ctx context.Context, tx *sql.Tx, orderID, customerID string, rc promotion.ReleaseCharge) error {
	use := boolInt(rc.ReleaseUse)
	stmts := []struct {
		q    string
		args []any
	}{
		{`UPDATE promotions SET uses = uses - ?, budget_used = budget_used - ?, stock_used = stock_used - ? WHERE campaign_id = ? AND promotion_id = ?`,
			[]any{use, rc.Amount, rc.Units, rc.CampaignID, rc.PromotionID}},
		{`UPDATE customer_uses SET uses = uses - ?, units = units - ? WHERE campaign_id = ? AND promotion_id = ? AND customer_id = ?`,
			[]any{use, rc.CustomerUnits, rc.CampaignID, rc.PromotionID, customerID}},
		{`UPDATE campaigns SET budget_used = budget_used - ? WHERE campaign_id = ?`, []any{rc.Amount, rc.CampaignID}},
		{`UPDATE redemption_uses SET released = released + ?, uses_held = uses_held - ? WHERE order_id = ? AND campaign_id = ? AND promotion_id = ?`,
			[]any{rc.Amount, use, orderID, rc.CampaignID, rc.PromotionID}},
	}
	if rc.ReleaseUse && rc.Code != "" {
		stmts = append(stmts, struct {
			q    string
			args []any
		}{`UPDATE codes SET uses = uses - 1 WHERE code = ?`, []any{rc.Code}})
	}
	for _, st := range stmts {
		if _, err := s.exec(ctx, tx, st.q, st.args...); err != nil {
			return err
		}
	}
	return nil
}
