package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/promotion/internal/channel"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
)

var _ outreach.MessageStore = (*Store)(nil)

const messageCols = `message_id, journey_id, customer_id, occurrence, transactional, state, reason, channel, due_ns,
	attempts, create_ns, update_ns, vars`

// CreateMessage implements outreach.MessageStore.
func (s *Store) CreateMessage(ctx context.Context, m outreach.Message) (bool, error) {
	created := false
	vars, err := encodeVars(m.Vars)
	if err != nil {
		return false, err
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		n, err := s.exec(ctx, tx, `INSERT INTO outreach_messages (`+messageCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)
			ON CONFLICT (message_id) DO NOTHING`,
			m.ID, m.JourneyID, m.CustomerID, m.Occurrence, boolInt(m.Transactional), int(m.State), int(m.Reason),
			int(m.Channel), sqlstore.Nanos(m.Due), m.Attempts, sqlstore.Nanos(m.CreateTime), sqlstore.Nanos(m.UpdateTime), vars)
		if err != nil || n == 0 {
			return err
		}
		created = true
		_, err = s.exec(ctx, tx, `INSERT INTO outreach_outbox (message_id, due_ns) VALUES (?, ?)`, m.ID, sqlstore.Nanos(m.Due))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: create message: %w", err)
	}
	return created, nil
}

// encodeVars encodes a message's variables as a JSON object, ” for none.
func encodeVars(vars map[string]string) (string, error) {
	if len(vars) == 0 {
		return "", nil
	}
	b, err := json.Marshal(vars)
	if err != nil {
		return "", fmt.Errorf("store: encode message variables: %w", err)
	}
	return string(b), nil
}

func scanMessage(r interface{ Scan(...any) error }) (outreach.Message, error) {
	var m outreach.Message
	var transactional, state, reason, channel int
	var due, created, updated int64
	var vars string
	err := r.Scan(&m.ID, &m.JourneyID, &m.CustomerID, &m.Occurrence, &transactional, &state, &reason, &channel, &due,
		&m.Attempts, &created, &updated, &vars)
	m.Transactional, m.State, m.Reason, m.Channel = transactional == 1, outreach.State(state), outreach.SuppressionReason(reason), outreach.Channel(channel)
	m.Due, m.CreateTime, m.UpdateTime = sqlstore.FromNanos(due), sqlstore.FromNanos(created), sqlstore.FromNanos(updated)
	if err == nil && vars != "" {
		if err = json.Unmarshal([]byte(vars), &m.Vars); err != nil {
			err = fmt.Errorf("decode message variables: %w", err)
		}
	}
	return m, err
}

// GetMessage implements outreach.MessageStore.
func (s *Store) GetMessage(ctx context.Context, id string) (outreach.Message, error) {
	m, err := scanMessage(s.db.QueryRowContext(ctx, s.q(`SELECT `+messageCols+` FROM outreach_messages WHERE message_id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("%w: %s", outreach.ErrMessageNotFound, id)
	}
	if err != nil {
		return m, fmt.Errorf("store: get message: %w", err)
	}
	return m, nil
}

// Claim implements outreach.MessageStore: it reads due, unclaimed entries
// and claims each with an update guarded by the claim it read, so two
// dispatchers never both get one.
func (s *Store) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]outreach.Message, error) {
	var out []outreach.Message
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, s.q(`SELECT m.message_id, b.claimed_until_ns FROM outreach_outbox b
			JOIN outreach_messages m ON m.message_id = b.message_id
			WHERE b.due_ns <= ? AND b.claimed_until_ns <= ? ORDER BY b.due_ns, b.message_id LIMIT ?`), sqlstore.Nanos(now), sqlstore.Nanos(now), limit)
		if err != nil {
			return err
		}
		type entry struct {
			id    string
			claim int64
		}
		var due []entry
		for rows.Next() {
			var e entry
			if err := rows.Scan(&e.id, &e.claim); err != nil {
				rows.Close()
				return err
			}
			due = append(due, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, e := range due {
			n, err := s.exec(ctx, tx, `UPDATE outreach_outbox SET claimed_until_ns = ? WHERE message_id = ? AND claimed_until_ns = ?`,
				sqlstore.Nanos(now.Add(lease)), e.id, e.claim)
			if err != nil {
				return err
			}
			if n == 0 {
				continue // another dispatcher claimed it
			}
			m, err := scanMessage(tx.QueryRowContext(ctx, s.q(`SELECT `+messageCols+` FROM outreach_messages WHERE message_id = ?`), e.id))
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim messages: %w", err)
	}
	return out, nil
}

// Charge implements outreach.MessageStore. Rolling charges take a slot
// with an update guarded by the slot's old time; per-day charges count
// with "used < limit". Either failing rolls the transaction back.
func (s *Store) Charge(ctx context.Context, messageID string, charges []outreach.Charge) (bool, error) {
	errCap := errors.New("cap reached")
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		n, err := s.exec(ctx, tx, `UPDATE outreach_messages SET charged = 1 WHERE message_id = ? AND charged = 0`, messageID)
		if err != nil || n == 0 {
			return err // charged before, or no such message (nothing to count)
		}
		for _, c := range charges {
			ok, err := s.chargeCap(ctx, tx, c)
			if err != nil {
				return err
			}
			if !ok {
				return errCap
			}
		}
		return nil
	})
	if errors.Is(err, errCap) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: charge caps: %w", err)
	}
	return true, nil
}

// chargeCap makes one guarded write of a cap charge.
func (s *Store) chargeCap(ctx context.Context, tx *sql.Tx, c outreach.Charge) (bool, error) {
	if !c.Rolling() {
		if _, err := s.exec(ctx, tx, `INSERT INTO outreach_cap_days (cap_key, day, used) VALUES (?, ?, 0)
			ON CONFLICT (cap_key, day) DO NOTHING`, c.Key, c.Day); err != nil {
			return false, err
		}
		n, err := s.exec(ctx, tx, `UPDATE outreach_cap_days SET used = used + 1 WHERE cap_key = ? AND day = ? AND used < ?`,
			c.Key, c.Day, c.Limit)
		return n == 1, err
	}
	for slot := range c.Limit {
		if _, err := s.exec(ctx, tx, `INSERT INTO outreach_cap_slots (cap_key, slot, used_ns) VALUES (?, ?, 0)
			ON CONFLICT (cap_key, slot) DO NOTHING`, c.Key, slot); err != nil {
			return false, err
		}
	}
	// Another replica may take the slot first (its update commits and ours
	// then matches no row): read the slots again and take the next one.
	for range c.Limit + 1 {
		used, err := s.capSlots(ctx, tx, c.Key)
		if err != nil {
			return false, err
		}
		slots := make([]time.Time, min(len(used), c.Limit))
		for i := range slots {
			slots[i] = sqlstore.FromNanos(used[i])
		}
		slot, ok := outreach.TakeSlot(slots, c.At, c.Window)
		if !ok {
			return false, nil
		}
		n, err := s.exec(ctx, tx, `UPDATE outreach_cap_slots SET used_ns = ? WHERE cap_key = ? AND slot = ? AND used_ns = ?`,
			sqlstore.Nanos(c.At), c.Key, slot, used[slot])
		if err != nil || n == 1 {
			return n == 1, err
		}
	}
	return false, nil
}

// capSlots returns the used times of a rolling cap's slots, in slot order.
func (s *Store) capSlots(ctx context.Context, tx *sql.Tx, key string) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, s.q(`SELECT used_ns FROM outreach_cap_slots WHERE cap_key = ? ORDER BY slot`), key)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var used []int64
	for rows.Next() {
		var u int64
		if err := rows.Scan(&u); err != nil {
			return nil, err
		}
		used = append(used, u)
	}
	return used, rows.Err()
}

// Record implements outreach.MessageStore.
func (s *Store) Record(ctx context.Context, prev, next outreach.Message) error {
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		n, err := s.exec(ctx, tx, `UPDATE outreach_messages SET state = ?, reason = ?, channel = ?, due_ns = ?, attempts = ?,
			update_ns = ? WHERE message_id = ? AND state = ? AND attempts = ?`,
			int(next.State), int(next.Reason), int(next.Channel), sqlstore.Nanos(next.Due), next.Attempts, sqlstore.Nanos(next.UpdateTime),
			prev.ID, int(prev.State), prev.Attempts)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("%w: %s", outreach.ErrConflict, prev.ID)
		}
		if next.State == outreach.StateFailed || next.State == outreach.StateScheduled || next.State == outreach.StateHeld {
			_, err = s.exec(ctx, tx, `UPDATE outreach_outbox SET due_ns = ?, claimed_until_ns = 0 WHERE message_id = ?`,
				sqlstore.Nanos(next.Due), prev.ID)
			return err
		}
		_, err = s.exec(ctx, tx, `DELETE FROM outreach_outbox WHERE message_id = ?`, prev.ID)
		return err
	})
	if err != nil && !errors.Is(err, outreach.ErrConflict) {
		return fmt.Errorf("store: record message: %w", err)
	}
	return err
}

var _ channel.Inbox = (*Store)(nil)

// Deliver implements channel.Inbox: the message joins its customer's
// inbox, once.
func (s *Store) Deliver(ctx context.Context, m channel.Message) error {
	if _, err := s.db.ExecContext(ctx, s.q(`INSERT INTO outreach_inbox (customer_id, message_id, subject, body, create_ns)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (customer_id, message_id) DO NOTHING`),
		m.CustomerID, m.ID, m.Subject, m.Text, time.Now().UnixNano()); err != nil {
		return fmt.Errorf("store: deliver to the inbox: %w", err)
	}
	return nil
}
