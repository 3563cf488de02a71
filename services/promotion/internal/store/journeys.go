package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

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
	res, err := s.db.ExecContext(ctx, s.q(`INSERT INTO outreach_journeys (journey_id, data, create_ns, state, version, update_ns, delete_ns)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (journey_id) DO NOTHING`), d.ID, string(data), sqlstore.Nanos(d.CreateTime),
		int(d.State), d.Version, sqlstore.Nanos(d.UpdateTime), sqlstore.Nanos(d.DeleteTime))
	if err != nil {
		return fmt.Errorf("store: create journey: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %s", outreach.ErrJourneyAlreadyExists, d.ID)
	}
	return nil
}

const journeyCols = `data, state, version, update_ns, delete_ns`

func scanJourney(r interface{ Scan(...any) error }) (outreach.JourneyDef, error) {
	var d outreach.JourneyDef
	var data string
	var state int
	var version, updated, deleted int64
	if err := r.Scan(&data, &state, &version, &updated, &deleted); err != nil {
		return d, err
	}
	if err := json.Unmarshal([]byte(data), &d); err != nil {
		return d, fmt.Errorf("decode journey: %w", err)
	}
	d.State, d.Version = outreach.JourneyState(state), version
	d.UpdateTime, d.DeleteTime = sqlstore.FromNanos(updated), sqlstore.FromNanos(deleted)
	return d, nil
}

// GetJourney implements outreach.JourneyStore.
func (s *Store) GetJourney(ctx context.Context, id string) (outreach.JourneyDef, error) {
	d, err := scanJourney(s.db.QueryRowContext(ctx, s.q(`SELECT `+journeyCols+` FROM outreach_journeys WHERE journey_id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("%w: %s", outreach.ErrJourneyNotFound, id)
	}
	if err != nil {
		return d, fmt.Errorf("store: get journey: %w", err)
	}
	return d, nil
}

// ListJourneys implements outreach.JourneyStore: active journeys only.
func (s *Store) ListJourneys(ctx context.Context, after string, limit int) ([]outreach.JourneyDef, error) {
	return s.listJourneys(ctx, after, limit, outreach.JourneyActive, outreach.JourneyActive)
}

// ListAllJourneys implements outreach.JourneyStore.
func (s *Store) ListAllJourneys(ctx context.Context, after string, limit int, showDeleted bool) ([]outreach.JourneyDef, error) {
	last := outreach.JourneyPaused
	if showDeleted {
		last = outreach.JourneyDeleted
	}
	return s.listJourneys(ctx, after, limit, outreach.JourneyActive, last)
}

// listJourneys lists the journeys whose state is from first to last.
func (s *Store) listJourneys(ctx context.Context, after string, limit int, first, last outreach.JourneyState) ([]outreach.JourneyDef, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+journeyCols+` FROM outreach_journeys
		WHERE journey_id > ? AND state BETWEEN ? AND ? ORDER BY journey_id LIMIT ?`), after, int(first), int(last), limit)
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

// SaveJourney implements outreach.JourneyStore.
func (s *Store) SaveJourney(ctx context.Context, d outreach.JourneyDef, version int64) error {
	data, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("store: encode journey: %w", err)
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		n, err := s.exec(ctx, tx, `UPDATE outreach_journeys SET data = ?, state = ?, version = version + 1, update_ns = ?, delete_ns = ?
			WHERE journey_id = ? AND version = ?`, string(data), int(d.State), sqlstore.Nanos(d.UpdateTime),
			sqlstore.Nanos(d.DeleteTime), d.ID, version)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("%w: %s", outreach.ErrJourneyChanged, d.ID)
		}
		if d.State == outreach.JourneyDeleted {
			return s.suppressUnsent(ctx, tx, d.ID, d.UpdateTime)
		}
		return nil
	})
	if err != nil && !errors.Is(err, outreach.ErrJourneyChanged) {
		return fmt.Errorf("store: save journey: %w", err)
	}
	return err
}

// suppressUnsent suppresses a deleted journey's messages that wait for an
// attempt (scheduled, held or failed), records the change and removes
// their outbox entries. The update is guarded by the state, so a message
// the dispatcher records first is left alone.
func (s *Store) suppressUnsent(ctx context.Context, tx *sql.Tx, journeyID string, at time.Time) error {
	rows, err := tx.QueryContext(ctx, s.q(`UPDATE outreach_messages SET state = ?, reason = ?, due_ns = 0, update_ns = ?
		WHERE journey_id = ? AND state IN (?, ?, ?) RETURNING `+messageReadCols),
		int(outreach.StateSuppressed), int(outreach.ReasonJourneyDeleted), sqlstore.Nanos(at), journeyID,
		int(outreach.StateScheduled), int(outreach.StateHeld), int(outreach.StateFailed))
	if err != nil {
		return err
	}
	var ms []outreach.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			rows.Close()
			return err
		}
		ms = append(ms, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, m := range ms {
		if err := s.recordChange(ctx, tx, m); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM outreach_outbox WHERE message_id = ?`, m.ID); err != nil {
			return err
		}
		if err := s.takeBackCoupon(ctx, tx, m.ID); err != nil {
			return err
		}
	}
	return nil
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
