package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
)

var (
	_ outreach.EngagementStore = (*Store)(nil)
	_ outreach.ReportStore     = (*Store)(nil)
)

const engagementCols = `message_id, action, customer_id, channel, occur_ns, url`

func scanEngagement(r interface{ Scan(...any) error }) (outreach.Engagement, error) {
	var e outreach.Engagement
	var action, channel int
	var occur int64
	err := r.Scan(&e.MessageID, &action, &e.CustomerID, &channel, &occur, &e.URL)
	e.Action, e.Channel, e.OccurTime = outreach.Action(action), outreach.Channel(channel), sqlstore.FromNanos(occur)
	return e, err
}

// RecordEngagement implements outreach.EngagementStore: the insert is
// guarded by the (message, action) key, and a delivery's move to
// delivered by the message's state.
func (s *Store) RecordEngagement(ctx context.Context, e outreach.Engagement) (outreach.Engagement, bool, error) {
	stored, dup := e, false
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		stored, dup = e, false
		n, err := s.exec(ctx, tx, `INSERT INTO outreach_engagements (`+engagementCols+`) VALUES (?,?,?,?,?,?)
			ON CONFLICT (message_id, action) DO NOTHING`,
			e.MessageID, int(e.Action), e.CustomerID, int(e.Channel), sqlstore.Nanos(e.OccurTime), e.URL)
		if err != nil {
			return err
		}
		if n == 0 {
			dup = true
			stored, err = scanEngagement(tx.QueryRowContext(ctx, s.q(`SELECT `+engagementCols+` FROM outreach_engagements
				WHERE message_id = ? AND action = ?`), e.MessageID, int(e.Action)))
			return err
		}
		if e.Action != outreach.ActionDelivered {
			return nil
		}
		n, err = s.exec(ctx, tx, `UPDATE outreach_messages SET state = ?, update_ns = ? WHERE message_id = ? AND state = ?`,
			int(outreach.StateDelivered), sqlstore.Nanos(e.OccurTime), e.MessageID, int(outreach.StateSent))
		if err == nil && n == 0 {
			return fmt.Errorf("%w: message %s is no longer sent", outreach.ErrInvalidTransition, e.MessageID)
		}
		if err != nil {
			return err
		}
		// The delivery joins the message's state history, as every change does.
		m, err := scanMessage(tx.QueryRowContext(ctx, s.q(`SELECT `+messageReadCols+` FROM outreach_messages WHERE message_id = ?`), e.MessageID))
		if err != nil {
			return err
		}
		return s.recordChange(ctx, tx, m)
	})
	if err != nil && !errors.Is(err, outreach.ErrInvalidTransition) {
		err = fmt.Errorf("store: record engagement: %w", err)
	}
	return stored, dup, err
}

// UnreportedEngagements implements outreach.EngagementStore.
func (s *Store) UnreportedEngagements(ctx context.Context, limit int) ([]outreach.Engagement, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+engagementCols+` FROM outreach_engagements WHERE reported = 0
		ORDER BY occur_ns, message_id, action LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("store: unreported engagements: %w", err)
	}
	defer rows.Close()
	var out []outreach.Engagement
	for rows.Next() {
		e, err := scanEngagement(rows)
		if err != nil {
			return nil, fmt.Errorf("store: unreported engagements: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// MarkEngagementReported implements outreach.EngagementStore.
func (s *Store) MarkEngagementReported(ctx context.Context, messageID string, a outreach.Action) error {
	if _, err := s.db.ExecContext(ctx, s.q(`UPDATE outreach_engagements SET reported = 1 WHERE message_id = ? AND action = ?`),
		messageID, int(a)); err != nil {
		return fmt.Errorf("store: mark engagement reported: %w", err)
	}
	return nil
}

// recordOutreachOrder keeps an order for outreach attribution when its
// customer had a message sent or suppressed within the longest window
// before it.
func (s *Store) recordOutreachOrder(ctx context.Context, tx *sql.Tx, orderID, customerID string, at time.Time, revenue int64) error {
	var n int
	err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM outreach_messages WHERE customer_id = ? AND decide_ns > 0
		AND decide_ns <= ? AND decide_ns >= ?`), customerID, sqlstore.Nanos(at), sqlstore.Nanos(at.Add(-outreach.MaxAttributionWindow))).Scan(&n)
	if err != nil || n == 0 {
		return err
	}
	_, err = s.exec(ctx, tx, `INSERT INTO outreach_orders (order_id, customer_id, placed_ns, revenue) VALUES (?, ?, ?, ?)
		ON CONFLICT (order_id) DO NOTHING`, orderID, customerID, sqlstore.Nanos(at), revenue)
	return err
}

// The groups of a report, as conditions on outreach_messages m.
var (
	treatmentCond = fmt.Sprintf("m.state IN (%d, %d)", int(outreach.StateSent), int(outreach.StateDelivered))
	controlCond   = fmt.Sprintf("m.state = %d AND m.reason = %d", int(outreach.StateSuppressed), int(outreach.ReasonHoldout))
)

// OutreachFigures implements outreach.ReportStore, in one read
// transaction of aggregates.
func (s *Store) OutreachFigures(ctx context.Context, journeyIDs []string, window time.Duration) (outreach.Figures, error) {
	f := outreach.Figures{Actions: map[outreach.Action]int64{}}
	in := "m.journey_id IN (?" + strings.Repeat(", ?", len(journeyIDs)-1) + ")"
	ids := make([]any, len(journeyIDs))
	for i, id := range journeyIDs {
		ids[i] = id
	}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		f = outreach.Figures{Actions: map[outreach.Action]int64{}}
		if err := s.each(ctx, tx, `SELECT m.state, m.reason, m.channel, COUNT(*) FROM outreach_messages m WHERE `+in+`
			GROUP BY m.state, m.reason, m.channel`, ids, func(rows *sql.Rows) error {
			var c outreach.StateCount
			var st, reason, ch int
			err := rows.Scan(&st, &reason, &ch, &c.Count)
			c.State, c.Reason, c.Channel = outreach.State(st), outreach.SuppressionReason(reason), outreach.Channel(ch)
			f.States = append(f.States, c)
			return err
		}); err != nil {
			return err
		}
		if err := s.each(ctx, tx, `SELECT e.action, COUNT(*) FROM outreach_engagements e
			JOIN outreach_messages m ON m.message_id = e.message_id WHERE `+in+` GROUP BY e.action`, ids, func(rows *sql.Rows) error {
			var a int
			var n int64
			err := rows.Scan(&a, &n)
			f.Actions[outreach.Action(a)] = n
			return err
		}); err != nil {
			return err
		}
		for _, g := range []struct {
			cond string
			dst  *outreach.GroupFigures
		}{{treatmentCond, &f.Treatment}, {controlCond, &f.Control}} {
			if err := s.groupFigures(ctx, tx, in, g.cond, ids, window, g.dst); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return outreach.Figures{}, fmt.Errorf("store: outreach figures: %w", err)
	}
	return f, nil
}

// groupFigures counts a group's messages, those followed by an order
// within window, and the distinct orders within window after any of them.
func (s *Store) groupFigures(ctx context.Context, tx *sql.Tx, in, cond string, ids []any, window time.Duration, g *outreach.GroupFigures) error {
	attributed := `o.customer_id = m.customer_id AND o.placed_ns >= m.decide_ns AND o.placed_ns < m.decide_ns + ?`
	args := append(append([]any{}, int64(window)), ids...)
	if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*), COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM outreach_orders o
		WHERE `+attributed+`) THEN 1 ELSE 0 END), 0) FROM outreach_messages m WHERE `+cond+` AND `+in), args...).
		Scan(&g.Messages, &g.Converters); err != nil {
		return err
	}
	return tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*), COALESCE(SUM(o.revenue), 0) FROM outreach_orders o
		WHERE EXISTS (SELECT 1 FROM outreach_messages m WHERE `+attributed+` AND `+cond+` AND `+in+`)`), args...).
		Scan(&g.Orders, &g.Revenue)
}

// each runs a query of tx and calls scan for each row.
func (s *Store) each(ctx context.Context, tx *sql.Tx, query string, args []any, scan func(*sql.Rows) error) error {
	rows, err := tx.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
