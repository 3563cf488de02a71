package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/promotion/internal/promotion"
)

const campaignCols = `campaign_id, data, state, budget, budget_used, frozen, activate_ns, create_ns, update_ns`

// scanner is a row or rows.
type scanner interface{ Scan(dest ...any) error }

func scanCampaign(r scanner) (*promotion.Campaign, error) {
	var c promotion.Campaign
	var id, data string
	var state int
	var budget, used, frozen, act, cr, up int64
	if err := r.Scan(&id, &data, &state, &budget, &used, &frozen, &act, &cr, &up); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(data), &c); err != nil {
		return nil, fmt.Errorf("store: decode campaign %s: %w", id, err)
	}
	c.ID, c.Status, c.Budget, c.BudgetUsed, c.FrozenSize = id, promotion.State(state), budget, used, frozen
	c.ActivateTime, c.CreateTime, c.UpdateTime = sqlstore.FromNanos(act), sqlstore.FromNanos(cr), sqlstore.FromNanos(up)
	return &c, nil
}

func campaignArgs(c *promotion.Campaign) ([]any, error) {
	data, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	return []any{c.ID, string(data), int(c.Status), c.Budget, c.BudgetUsed, c.FrozenSize,
		sqlstore.Nanos(c.ActivateTime), sqlstore.Nanos(c.CreateTime), sqlstore.Nanos(c.UpdateTime)}, nil
}

// CreateCampaign implements promotion.CatalogStore.
func (s *Store) CreateCampaign(ctx context.Context, c *promotion.Campaign) error {
	args, err := campaignArgs(c)
	if err != nil {
		return err
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.exec(ctx, tx, `INSERT INTO campaigns (`+campaignCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...); err != nil {
			return err
		}
		return s.bump(ctx, tx)
	})
	if s.db.IsUniqueViolation(err) {
		return fmt.Errorf("%w: %s", promotion.ErrCampaignAlreadyExists, c.ID)
	}
	return err
}

// GetCampaign implements promotion.CatalogStore.
func (s *Store) GetCampaign(ctx context.Context, id string) (*promotion.Campaign, error) {
	c, err := scanCampaign(s.db.QueryRowContext(ctx, s.q(`SELECT `+campaignCols+` FROM campaigns WHERE campaign_id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", promotion.ErrCampaignNotFound, id)
	}
	return c, err
}

// ListCampaigns implements promotion.CatalogStore.
func (s *Store) ListCampaigns(ctx context.Context, after string, limit int) ([]*promotion.Campaign, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+campaignCols+` FROM campaigns WHERE campaign_id > ? ORDER BY campaign_id LIMIT ?`), after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*promotion.Campaign
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// UpdateCampaign implements promotion.CatalogStore.
func (s *Store) UpdateCampaign(ctx context.Context, id string, fn func(c *promotion.Campaign) ([]promotion.AudienceMember, error)) (*promotion.Campaign, error) {
	var out *promotion.Campaign
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		c, err := scanCampaign(tx.QueryRowContext(ctx, s.q(`SELECT `+campaignCols+` FROM campaigns WHERE campaign_id = ?`+s.forUpdate()), id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %s", promotion.ErrCampaignNotFound, id)
		}
		if err != nil {
			return err
		}
		members, err := fn(c)
		if err != nil {
			return err
		}
		args, err := campaignArgs(c)
		if err != nil {
			return err
		}
		// budget_used is moved by redemptions only: never written back.
		if _, err := s.exec(ctx, tx, `UPDATE campaigns SET data = ?, state = ?, budget = ?, frozen = ?, activate_ns = ?, update_ns = ?
			WHERE campaign_id = ?`, args[1], args[2], args[3], args[5], args[6], args[8], id); err != nil {
			return err
		}
		if err := s.freeze(ctx, tx, id, members); err != nil {
			return err
		}
		out = c
		return s.bump(ctx, tx)
	})
	return out, err
}

// freeze stores a frozen audience, in batches.
func (s *Store) freeze(ctx context.Context, tx *sql.Tx, id string, members []promotion.AudienceMember) error {
	const batch = 200
	for len(members) > 0 {
		n := min(batch, len(members))
		query := `INSERT INTO audience_members (campaign_id, customer_id, control) VALUES `
		args := make([]any, 0, 3*n)
		for i, m := range members[:n] {
			if i > 0 {
				query += ", "
			}
			query += "(?, ?, ?)"
			args = append(args, id, m.CustomerID, boolInt(m.Control))
		}
		if _, err := tx.ExecContext(ctx, s.q(query), args...); err != nil {
			return fmt.Errorf("store: freeze audience: %w", err)
		}
		members = members[n:]
	}
	return nil
}

const promotionCols = `campaign_id, promotion_id, data, total_uses, budget, stock, uses, budget_used, stock_used, redeemed, create_ns, update_ns`

func scanPromotion(r scanner) (*promotion.Promotion, error) {
	var p promotion.Promotion
	var cid, pid, data string
	var redeemed int
	var cr, up int64
	var tu, b, st, u, bu, su int64
	if err := r.Scan(&cid, &pid, &data, &tu, &b, &st, &u, &bu, &su, &redeemed, &cr, &up); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(data), &p); err != nil {
		return nil, fmt.Errorf("store: decode promotion %s/%s: %w", cid, pid, err)
	}
	p.CampaignID, p.PromotionID, p.TotalUses, p.Budget, p.Stock = cid, pid, tu, b, st
	p.Uses, p.BudgetUsed, p.StockUsed, p.Redeemed = u, bu, su, redeemed != 0
	p.CreateTime, p.UpdateTime = sqlstore.FromNanos(cr), sqlstore.FromNanos(up)
	return &p, nil
}

// CreatePromotion implements promotion.CatalogStore.
func (s *Store) CreatePromotion(ctx context.Context, p *promotion.Promotion) error {
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.exec(ctx, tx, `INSERT INTO promotions (`+promotionCols+`) VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, 0, ?, ?)`,
			p.CampaignID, p.PromotionID, string(data), p.TotalUses, p.Budget, p.Stock, sqlstore.Nanos(p.CreateTime), sqlstore.Nanos(p.UpdateTime)); err != nil {
			return err
		}
		return s.bump(ctx, tx)
	})
	if s.db.IsUniqueViolation(err) {
		return fmt.Errorf("%w: %s", promotion.ErrPromotionAlreadyExists, p.Name())
	}
	return err
}

// GetPromotion implements promotion.CatalogStore.
func (s *Store) GetPromotion(ctx context.Context, campaignID, promotionID string) (*promotion.Promotion, error) {
	p, err := scanPromotion(s.db.QueryRowContext(ctx, s.q(`SELECT `+promotionCols+` FROM promotions WHERE campaign_id = ? AND promotion_id = ?`),
		campaignID, promotionID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: campaigns/%s/promotions/%s", promotion.ErrPromotionNotFound, campaignID, promotionID)
	}
	return p, err
}

// ListPromotions implements promotion.CatalogStore.
func (s *Store) ListPromotions(ctx context.Context, campaignID, after string, limit int) ([]*promotion.Promotion, error) {
	return s.promotions(ctx, s.db, `SELECT `+promotionCols+` FROM promotions WHERE campaign_id = ? AND promotion_id > ? ORDER BY promotion_id LIMIT ?`,
		campaignID, after, limit)
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (s *Store) promotions(ctx context.Context, q querier, query string, args ...any) ([]*promotion.Promotion, error) {
	rows, err := q.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*promotion.Promotion
	for rows.Next() {
		p, err := scanPromotion(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// UpdatePromotion implements promotion.CatalogStore.
func (s *Store) UpdatePromotion(ctx context.Context, campaignID, promotionID string, fn func(p *promotion.Promotion, c *promotion.Campaign) error) (*promotion.Promotion, error) {
	var out *promotion.Promotion
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		c, err := scanCampaign(tx.QueryRowContext(ctx, s.q(`SELECT `+campaignCols+` FROM campaigns WHERE campaign_id = ?`), campaignID))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %s", promotion.ErrCampaignNotFound, campaignID)
		}
		if err != nil {
			return err
		}
		p, err := scanPromotion(tx.QueryRowContext(ctx, s.q(`SELECT `+promotionCols+` FROM promotions WHERE campaign_id = ? AND promotion_id = ?`+s.forUpdate()),
			campaignID, promotionID))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: campaigns/%s/promotions/%s", promotion.ErrPromotionNotFound, campaignID, promotionID)
		}
		if err != nil {
			return err
		}
		if err := fn(p, c); err != nil {
			return err
		}
		data, err := json.Marshal(p)
		if err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, `UPDATE promotions SET data = ?, total_uses = ?, budget = ?, stock = ?, update_ns = ?
			WHERE campaign_id = ? AND promotion_id = ?`, string(data), p.TotalUses, p.Budget, p.Stock, sqlstore.Nanos(p.UpdateTime), campaignID, promotionID); err != nil {
			return err
		}
		out = p
		return s.bump(ctx, tx)
	})
	return out, err
}

// DeletePromotion implements promotion.CatalogStore.
func (s *Store) DeletePromotion(ctx context.Context, campaignID, promotionID string) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		var redeemed int
		err := tx.QueryRowContext(ctx, s.q(`SELECT redeemed FROM promotions WHERE campaign_id = ? AND promotion_id = ?`+s.forUpdate()),
			campaignID, promotionID).Scan(&redeemed)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: campaigns/%s/promotions/%s", promotion.ErrPromotionNotFound, campaignID, promotionID)
		}
		if err != nil {
			return err
		}
		if redeemed != 0 {
			return fmt.Errorf("%w: campaigns/%s/promotions/%s; end its campaign instead", promotion.ErrPromotionRedeemed, campaignID, promotionID)
		}
		for _, q := range []string{`DELETE FROM codes WHERE campaign_id = ? AND promotion_id = ?`,
			`DELETE FROM promotions WHERE campaign_id = ? AND promotion_id = ?`} {
			if _, err := tx.ExecContext(ctx, s.q(q), campaignID, promotionID); err != nil {
				return err
			}
		}
		return s.bump(ctx, tx)
	})
}

// CatalogVersion implements promotion.CatalogStore.
func (s *Store) CatalogVersion(ctx context.Context) (int64, error) {
	st, err := s.db.Prepared(ctx, `SELECT version FROM catalog_version WHERE id = 1`)
	if err != nil {
		return 0, err
	}
	var v int64
	err = st.QueryRowContext(ctx).Scan(&v)
	return v, err
}

// LoadActive implements promotion.CatalogStore.
func (s *Store) LoadActive(ctx context.Context) (int64, []*promotion.Campaign, []*promotion.Promotion, error) {
	var v int64
	var cs []*promotion.Campaign
	var ps []*promotion.Promotion
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		cs, ps = nil, nil
		if err := tx.QueryRowContext(ctx, s.q(`SELECT version FROM catalog_version WHERE id = 1`)).Scan(&v); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, s.q(`SELECT `+campaignCols+` FROM campaigns WHERE state = ? ORDER BY campaign_id`), int(promotion.StateActive))
		if err != nil {
			return err
		}
		for rows.Next() {
			c, err := scanCampaign(rows)
			if err != nil {
				rows.Close()
				return err
			}
			cs = append(cs, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		ps, err = s.promotions(ctx, tx, `SELECT p.campaign_id, p.promotion_id, p.data, p.total_uses, p.budget, p.stock, p.uses, p.budget_used,
			p.stock_used, p.redeemed, p.create_ns, p.update_ns FROM promotions p JOIN campaigns c ON c.campaign_id = p.campaign_id
			WHERE c.state = ? ORDER BY p.campaign_id, p.promotion_id`, int(promotion.StateActive))
		return err
	})
	return v, cs, ps, err
}
