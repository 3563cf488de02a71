package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/promotion/internal/channel"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
)

var _ outreach.MessageStore = (*Store)(nil)

const messageCols = `message_id, journey_id, customer_id, occurrence, transactional, state, reason, channel, due_ns,
	attempts, create_ns, update_ns, expiring_points, points_expiry_ns, vars`

// messageReadCols are the columns scanMessage reads.
const messageReadCols = messageCols + `, coupon_code`

// CreateMessage implements outreach.MessageStore. It first reads the
// journey's state under a share lock, which a journey's pause or delete
// (an update of that row) waits for and makes wait: a message is never
// created after its journey stopped, nor missed by a delete's suppression.
func (s *Store) CreateMessage(ctx context.Context, m outreach.Message) (bool, error) {
	created := false
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if live, err := s.journeyLive(ctx, tx, m.JourneyID); err != nil || !live {
			return err
		}
		n, err := s.exec(ctx, tx, `INSERT INTO outreach_messages (`+messageCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
			ON CONFLICT (message_id) DO NOTHING`, messageRow(m)...)
		if err != nil || n == 0 {
			return err
		}
		created = true
		if err := s.recordChange(ctx, tx, m); err != nil {
			return err
		}
		if _, err = s.exec(ctx, tx, `INSERT INTO outreach_outbox (message_id, due_ns) VALUES (?, ?)`, m.ID, sqlstore.Nanos(m.Due)); err != nil {
			return err
		}
		return s.giveCoupon(ctx, tx, m)
	})
	if err != nil {
		return false, fmt.Errorf("store: create message: %w", err)
	}
	return created, nil
}

// giveCoupon gives m, just created, a free code of its coupon pool,
// assigned to its customer. The guard on the update (still free) keeps two
// transactions from taking the same code; on PostgreSQL the pick skips
// codes another transaction holds.
func (s *Store) giveCoupon(ctx context.Context, tx *sql.Tx, m outreach.Message) error {
	if m.Coupon.IsZero() {
		return nil
	}
	pick := `SELECT code FROM codes WHERE campaign_id = ? AND promotion_id = ? AND customer_id = '' AND uses = 0 ORDER BY code LIMIT 1`
	if s.db.Dialect == sqlstore.Postgres {
		pick += ` FOR UPDATE SKIP LOCKED`
	}
	for range 3 {
		var code string
		err := tx.QueryRowContext(ctx, s.q(pick), m.Coupon.CampaignID, m.Coupon.PromotionID).Scan(&code)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // none free: the dispatcher suppresses the message
		}
		if err != nil {
			return err
		}
		n, err := s.exec(ctx, tx, `UPDATE codes SET customer_id = ? WHERE code = ? AND customer_id = '' AND uses = 0`, m.CustomerID, code)
		if err != nil || n == 0 {
			continue // taken meanwhile: pick again
		}
		_, err = s.exec(ctx, tx, `UPDATE outreach_messages SET coupon_code = ? WHERE message_id = ?`, code, m.ID)
		return err
	}
	return fmt.Errorf("give message %s a coupon: codes of campaigns/%s/promotions/%s keep being taken", m.ID, m.Coupon.CampaignID, m.Coupon.PromotionID)
}

// takeBackCoupon returns the code of a message that was not sent to its
// pool, unless the customer used it meanwhile.
func (s *Store) takeBackCoupon(ctx context.Context, tx *sql.Tx, messageID string) error {
	_, err := s.exec(ctx, tx, `UPDATE codes SET customer_id = '' WHERE uses = 0 AND code = (
		SELECT coupon_code FROM outreach_messages WHERE message_id = ? AND coupon_code <> '') AND customer_id = (
		SELECT customer_id FROM outreach_messages WHERE message_id = ?)`, messageID, messageID)
	return err
}

// messageRow is m's values in messageCols' order.
func messageRow(m outreach.Message) []any {
	return []any{m.ID, m.JourneyID, m.CustomerID, m.Occurrence, boolInt(m.Transactional), int(m.State), int(m.Reason),
		int(m.Channel), sqlstore.Nanos(m.Due), m.Attempts, sqlstore.Nanos(m.CreateTime), sqlstore.Nanos(m.UpdateTime),
		m.ExpiringPoints, sqlstore.Nanos(m.PointsExpiry), encodeVars(m.Vars)}
}

// encodeVars encodes a message's variables as a JSON object, "" for none.
func encodeVars(vars map[string]string) string {
	if len(vars) == 0 {
		return ""
	}
	b, _ := json.Marshal(vars) // a map of strings always encodes
	return string(b)
}

func scanMessage(r interface{ Scan(...any) error }) (outreach.Message, error) {
	var m outreach.Message
	var transactional, state, reason, channel int
	var due, created, updated, expiry int64
	var vars string
	err := r.Scan(&m.ID, &m.JourneyID, &m.CustomerID, &m.Occurrence, &transactional, &state, &reason, &channel, &due,
		&m.Attempts, &created, &updated, &m.ExpiringPoints, &expiry, &vars, &m.CouponCode)
	m.Transactional, m.State, m.Reason, m.Channel = transactional == 1, outreach.State(state), outreach.SuppressionReason(reason), outreach.Channel(channel)
	m.Due, m.CreateTime, m.UpdateTime = sqlstore.FromNanos(due), sqlstore.FromNanos(created), sqlstore.FromNanos(updated)
	m.PointsExpiry = sqlstore.FromNanos(expiry)
	if err == nil && vars != "" {
		if err = json.Unmarshal([]byte(vars), &m.Vars); err != nil {
			err = fmt.Errorf("decode message variables: %w", err)
		}
	}
	return m, err
}

// GetMessage implements outreach.MessageStore.
func (s *Store) GetMessage(ctx context.Context, id string) (outreach.Message, error) {
	m, err := scanMessage(s.db.QueryRowContext(ctx, s.q(`SELECT `+messageReadCols+` FROM outreach_messages WHERE message_id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("%w: %s", outreach.ErrMessageNotFound, id)
	}
	if err != nil {
		return m, fmt.Errorf("store: get message: %w", err)
	}
	return m, nil
}

// journeyLive reports whether journey id is active (or unknown to the
// store), locking its row against changes until tx ends.
func (s *Store) journeyLive(ctx context.Context, tx *sql.Tx, id string) (bool, error) {
	q := `SELECT state FROM outreach_journeys WHERE journey_id = ?`
	if s.db.Dialect == sqlstore.Postgres {
		q += ` FOR SHARE`
	}
	var state int
	err := tx.QueryRowContext(ctx, s.q(q), id).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil
	}
	return state == int(outreach.JourneyActive), err
}

// Claim implements outreach.MessageStore: it reads due, unclaimed entries
// of messages whose journey is active (a paused journey's messages wait in
// the outbox) and claims each with an update guarded by the claim it read, so two
// dispatchers never both get one.
func (s *Store) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]outreach.Message, error) {
	var out []outreach.Message
	// Messages of paused or deleted journeys wait where they are.
	pick := `SELECT b.message_id FROM outreach_outbox b WHERE b.due_ns <= ? AND b.claimed_until_ns <= ?
		AND NOT EXISTS (SELECT 1 FROM outreach_messages m JOIN outreach_journeys j ON j.journey_id = m.journey_id
			WHERE m.message_id = b.message_id AND j.state <> ?)
		ORDER BY b.due_ns, b.message_id LIMIT ?`
	if s.db.Dialect == sqlstore.Postgres {
		pick += ` FOR UPDATE SKIP LOCKED`
	}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		// One guarded update claims the batch: an entry another
		// dispatcher claimed meanwhile no longer matches.
		ids, err := s.queryStrings(ctx, tx, `UPDATE outreach_outbox SET claimed_until_ns = ? WHERE message_id IN (`+pick+`)
			AND claimed_until_ns <= ? RETURNING message_id`,
			sqlstore.Nanos(now.Add(lease)), sqlstore.Nanos(now), sqlstore.Nanos(now), int(outreach.JourneyActive), limit, sqlstore.Nanos(now))
		if err != nil || len(ids) == 0 {
			return err
		}
		out, err = s.messages(ctx, tx, ids)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim messages: %w", err)
	}
	slices.SortFunc(out, func(a, b outreach.Message) int { return cmp.Or(a.Due.Compare(b.Due), strings.Compare(a.ID, b.ID)) })
	return out, nil
}

// queryStrings runs a query whose rows are one string each.
func (s *Store) queryStrings(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]string, error) {
	var out []string
	err := s.each(ctx, tx, query, args, func(rows *sql.Rows) error {
		var v string
		err := rows.Scan(&v)
		out = append(out, v)
		return err
	})
	return out, err
}

// messages reads the messages with the given ids, in no order.
func (s *Store) messages(ctx context.Context, tx *sql.Tx, ids []string) ([]outreach.Message, error) {
	in, args := inList(ids)
	rows, err := tx.QueryContext(ctx, s.q(`SELECT `+messageReadCols+` FROM outreach_messages WHERE message_id IN `+in), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]outreach.Message, 0, len(ids))
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Charge implements outreach.MessageStore.
func (s *Store) Charge(ctx context.Context, messageID string, charges []outreach.Charge) (bool, error) {
	ok, err := s.ChargeAll(ctx, []outreach.ChargeRequest{{MessageID: messageID, Charges: charges}})
	if err != nil {
		return false, err
	}
	return ok[0], nil
}

// Record implements outreach.MessageStore.
func (s *Store) Record(ctx context.Context, prev, next outreach.Message) error {
	conflicts, err := s.RecordAll(ctx, []outreach.Change{{Prev: prev, Next: next}})
	if err != nil {
		return err
	}
	return conflicts[0]
}

var _ channel.Inbox = (*Store)(nil)

// Deliver implements channel.Inbox: the message joins its customer's
// inbox, once, at its SentAt (the service clock's time).
func (s *Store) Deliver(ctx context.Context, m channel.Message) error {
	if _, err := s.db.ExecContext(ctx, s.q(`INSERT INTO outreach_inbox (customer_id, message_id, subject, body, create_ns)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (customer_id, message_id) DO NOTHING`),
		m.CustomerID, m.ID, m.Subject, m.Text, sqlstore.Nanos(m.SentAt)); err != nil {
		return fmt.Errorf("store: deliver to the inbox: %w", err)
	}
	return nil
}

// recordChange appends m's state to its history, in the transaction that
// changed it (whose guarded write on the message orders the changes of
// one message).
func (s *Store) recordChange(ctx context.Context, tx *sql.Tx, m outreach.Message) error {
	_, err := s.exec(ctx, tx, `INSERT INTO outreach_message_history (message_id, seq, state, reason, channel, attempts, due_ns, at_ns)
		SELECT CAST(? AS TEXT), COALESCE(MAX(seq), 0) + 1, CAST(? AS INTEGER), CAST(? AS INTEGER), CAST(? AS INTEGER),
			CAST(? AS INTEGER), CAST(? AS BIGINT), CAST(? AS BIGINT) FROM outreach_message_history WHERE message_id = ?`,
		m.ID, int(m.State), int(m.Reason), int(m.Channel), m.Attempts, sqlstore.Nanos(m.Due), sqlstore.Nanos(m.UpdateTime), m.ID)
	return err
}
