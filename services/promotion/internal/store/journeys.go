package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
	"github.com/tenurehq/tenure/services/promotion/internal/pricing"
	"github.com/tenurehq/tenure/services/promotion/internal/promotion"
)

var (
	_ outreach.JourneyStore = (*Store)(nil)
	_ outreach.CouponPools  = (*Store)(nil)
)

// CouponPool implements outreach.CouponPools.
func (s *Store) CouponPool(ctx context.Context, p outreach.CouponPool) (found, codes bool, err error) {
	pr, err := s.GetPromotion(ctx, p.CampaignID, p.PromotionID)
	if errors.Is(err, promotion.ErrPromotionNotFound) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("store: coupon pool: %w", err)
	}
	return true, pr.Def.Kind == pricing.KindCode, nil
}

// CreateJourney implements outreach.JourneyStore.
func (s *Store) CreateJourney(ctx context.Context, d outreach.JourneyDef) error {
	data, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("store: encode journey: %w", err)
	}
	res, err := s.db.ExecContext(ctx, s.q(`INSERT INTO outreach_journeys (journey_id, data, create_ns) VALUES (?, ?, ?)
		ON CONFLICT (journey_id) DO NOTHING`), d.ID, string(data), sqlstore.Nanos(d.CreateTime))
	if err != nil {
		return fmt.Errorf("store: create journey: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %s", outreach.ErrJourneyAlreadyExists, d.ID)
	}
	return nil
}

func scanJourney(r interface{ Scan(...any) error }) (outreach.JourneyDef, error) {
	var d outreach.JourneyDef
	var data string
	if err := r.Scan(&data); err != nil {
		return d, err
	}
	if err := json.Unmarshal([]byte(data), &d); err != nil {
		return d, fmt.Errorf("decode journey: %w", err)
	}
	return d, nil
}

// GetJourney implements outreach.JourneyStore.
func (s *Store) GetJourney(ctx context.Context, id string) (outreach.JourneyDef, error) {
	d, err := scanJourney(s.db.QueryRowContext(ctx, s.q(`SELECT data FROM outreach_journeys WHERE journey_id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("%w: %s", outreach.ErrJourneyNotFound, id)
	}
	if err != nil {
		return d, fmt.Errorf("store: get journey: %w", err)
	}
	return d, nil
}

// ListJourneys implements outreach.JourneyStore.
func (s *Store) ListJourneys(ctx context.Context, after string, limit int) ([]outreach.JourneyDef, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT data FROM outreach_journeys WHERE journey_id > ? ORDER BY journey_id LIMIT ?`), after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list journeys: %w", err)
	}
	defer rows.Close()
	var out []outreach.JourneyDef
	for rows.Next() {
		d, err := scanJourney(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list journeys: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

var _ outreach.CursorStore = (*Store)(nil)

// TriggerCursor implements outreach.CursorStore ("" before the first SetTriggerCursor).
func (s *Store) TriggerCursor(ctx context.Context, name string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT value FROM outreach_cursors WHERE name = ?`), name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: read cursor %s: %w", name, err)
	}
	return v, nil
}

// SetTriggerCursor implements outreach.CursorStore.
func (s *Store) SetTriggerCursor(ctx context.Context, name, value string) error {
	if _, err := s.db.ExecContext(ctx, s.q(`INSERT INTO outreach_cursors (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`), name, value); err != nil {
		return fmt.Errorf("store: set cursor %s: %w", name, err)
	}
	return nil
}
