package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
)

// RecordAll implements outreach.MessageStore in a few statements however
// many changes it records: it locks the messages, keeps, in order, each
// change whose message is still as the change read it (else a conflict),
// and writes the kept ones together: the messages, their history, their
// outbox entries (kept, due at next.Due and unclaimed, while attempts are
// left; removed for a final or sent message) and the coupon codes of
// those that end unsent.
func (s *Store) RecordAll(ctx context.Context, changes []outreach.Change) ([]error, error) {
	var conflicts []error
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		ids := make([]string, len(changes))
		for i, c := range changes {
			ids[i] = c.Prev.ID
		}
		cur, err := s.lockMessages(ctx, tx, ids)
		if err != nil {
			return err
		}
		var r records
		conflicts = make([]error, len(changes))
		for i, c := range changes {
			if !r.add(cur, c) {
				conflicts[i] = fmt.Errorf("%w: %s", outreach.ErrConflict, c.Prev.ID)
			}
		}
		return s.writeRecords(ctx, tx, &r)
	})
	if err != nil {
		return nil, fmt.Errorf("store: record messages: %w", err)
	}
	return conflicts, nil
}

// stored is what RecordAll's guard and history need of a stored message.
type stored struct {
	state    outreach.State
	attempts int
	seq      int // its history's last entry
}

// lockMessages reads and locks the messages ids names.
func (s *Store) lockMessages(ctx context.Context, tx *sql.Tx, ids []string) (map[string]*stored, error) {
	cur := map[string]*stored{}
	if len(ids) == 0 {
		return cur, nil
	}
	in, args := inList(ids)
	err := s.each(ctx, tx, `SELECT m.message_id, m.state, m.attempts,
			(SELECT COALESCE(MAX(h.seq), 0) FROM outreach_message_history h WHERE h.message_id = m.message_id)
		FROM outreach_messages m WHERE m.message_id IN `+in+` ORDER BY m.message_id`+s.forUpdate(),
		args, func(rows *sql.Rows) error {
			var id string
			var m stored
			err := rows.Scan(&id, &m.state, &m.attempts, &m.seq)
			cur[id] = &m
			return err
		})
	return cur, err
}

// records are the changes RecordAll keeps, as rows to write.
type records struct {
	order    []string                    // messages changed, first change first
	last     map[string]outreach.Message // each message's last state
	decided  map[string]int64            // sent or suppressed: orders are attributed from then
	history  [][]any
	giveBack []string // ended unsent: their coupon codes go back
}

// add keeps c if its message in cur is still c.Prev, and moves cur on.
func (r *records) add(cur map[string]*stored, c outreach.Change) bool {
	m, ok := cur[c.Prev.ID]
	if !ok || m.state != c.Prev.State || m.attempts != c.Prev.Attempts {
		return false
	}
	n := c.Next
	m.state, m.attempts = n.State, n.Attempts
	m.seq++
	if r.last == nil {
		r.last, r.decided = map[string]outreach.Message{}, map[string]int64{}
	}
	if _, seen := r.last[c.Prev.ID]; !seen {
		r.order = append(r.order, c.Prev.ID)
	}
	r.last[c.Prev.ID] = n
	r.history = append(r.history, []any{c.Prev.ID, m.seq, int(n.State), int(n.Reason), int(n.Channel), n.Attempts,
		sqlstore.Nanos(n.Due), sqlstore.Nanos(n.UpdateTime)})
	if n.State == outreach.StateSent || n.State == outreach.StateSuppressed {
		r.decided[c.Prev.ID] = sqlstore.Nanos(n.UpdateTime)
	}
	if n.State == outreach.StateSuppressed || n.State == outreach.StateDead {
		r.giveBack = append(r.giveBack, c.Prev.ID)
	}
	return true
}

// writeRecords writes the kept changes.
func (s *Store) writeRecords(ctx context.Context, tx *sql.Tx, r *records) error {
	var msgs, retried, done [][]any
	for _, id := range r.order {
		n := r.last[id]
		var decided any // NULL keeps the stored time
		if t, ok := r.decided[id]; ok {
			decided = t
		}
		msgs = append(msgs, []any{id, int(n.State), int(n.Reason), int(n.Channel), sqlstore.Nanos(n.Due), n.Attempts,
			sqlstore.Nanos(n.UpdateTime), decided})
		switch n.State {
		case outreach.StateFailed, outreach.StateScheduled, outreach.StateHeld:
			retried = append(retried, []any{id, sqlstore.Nanos(n.Due)})
		default:
			done = append(done, []any{id})
		}
	}
	if err := s.db.ExecValues(ctx, tx, "id, state, reason, channel, due_ns, attempts, update_ns, decide_ns",
		[]string{"TEXT", "INTEGER", "INTEGER", "INTEGER", "BIGINT", "INTEGER", "BIGINT", "BIGINT"},
		`UPDATE outreach_messages SET state = v.state, reason = v.reason, channel = v.channel, due_ns = v.due_ns,
			attempts = v.attempts, update_ns = v.update_ns, decide_ns = COALESCE(v.decide_ns, outreach_messages.decide_ns)
		FROM v WHERE outreach_messages.message_id = v.id`, msgs); err != nil {
		return err
	}
	if err := s.db.InsertRows(ctx, tx, "outreach_message_history",
		"message_id, seq, state, reason, channel, attempts, due_ns, at_ns", "", r.history); err != nil {
		return err
	}
	if err := s.db.ExecValues(ctx, tx, "id, due_ns", []string{"TEXT", "BIGINT"},
		`UPDATE outreach_outbox SET due_ns = v.due_ns, claimed_until_ns = 0 FROM v WHERE outreach_outbox.message_id = v.id`,
		retried); err != nil {
		return err
	}
	if err := s.db.ExecValues(ctx, tx, "id", []string{"TEXT"},
		`DELETE FROM outreach_outbox WHERE message_id IN (SELECT id FROM v)`, done); err != nil {
		return err
	}
	for _, id := range r.giveBack {
		if err := s.takeBackCoupon(ctx, tx, id); err != nil {
			return err
		}
	}
	return nil
}
