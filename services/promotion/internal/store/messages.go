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
	_ outreach.MessageLister = (*Store)(nil)
	_ outreach.InboxStore    = (*Store)(nil)
)

// newestFirst is the condition of a newest-first page after pos on
// (create_ns, message_id), and its two arguments.
func newestFirst(pos outreach.MessagePosition) (string, []any) {
	if pos.ID == "" {
		return `1 = 1`, nil
	}
	ns := sqlstore.Nanos(pos.CreateTime)
	return `(create_ns < ? OR (create_ns = ? AND message_id < ?))`, []any{ns, ns, pos.ID}
}

// ListCustomerMessages implements outreach.MessageLister.
func (s *Store) ListCustomerMessages(ctx context.Context, f outreach.MessageFilter, pos outreach.MessagePosition, limit int) ([]outreach.Message, error) {
	cond, args := newestFirst(pos)
	where := []string{"customer_id = ?", cond}
	args = append([]any{f.CustomerID}, args...)
	if f.JourneyID != "" {
		where, args = append(where, "journey_id = ?"), append(args, f.JourneyID)
	}
	if f.State != outreach.StateUnspecified {
		where, args = append(where, "state = ?"), append(args, int(f.State))
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+messageReadCols+` FROM outreach_messages WHERE `+strings.Join(where, " AND ")+
		` ORDER BY create_ns DESC, message_id DESC LIMIT ?`), append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("store: list messages: %w", err)
	}
	defer rows.Close()
	var out []outreach.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list messages: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// MessageHistories implements outreach.MessageLister.
func (s *Store) MessageHistories(ctx context.Context, ids []string) (map[string][]outreach.MessageChange, error) {
	out := map[string][]outreach.MessageChange{}
	if len(ids) == 0 {
		return out, nil
	}
	in, args := inList(ids)
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT message_id, state, reason, channel, attempts, due_ns, at_ns
		FROM outreach_message_history WHERE message_id IN `+in+` ORDER BY message_id, seq`), args...)
	if err != nil {
		return nil, fmt.Errorf("store: message histories: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var state, reason, channel int
		var c outreach.MessageChange
		var due, at int64
		if err := rows.Scan(&id, &state, &reason, &channel, &c.Attempts, &due, &at); err != nil {
			return nil, fmt.Errorf("store: message histories: %w", err)
		}
		c.State, c.Reason, c.Channel = outreach.State(state), outreach.SuppressionReason(reason), outreach.Channel(channel)
		c.Due, c.At = sqlstore.FromNanos(due), sqlstore.FromNanos(at)
		out[id] = append(out[id], c)
	}
	return out, rows.Err()
}

const inboxCols = `customer_id, message_id, subject, body, create_ns, read_ns`

func scanInbox(r interface{ Scan(...any) error }) (outreach.InboxMessage, error) {
	var m outreach.InboxMessage
	var created, read int64
	err := r.Scan(&m.CustomerID, &m.MessageID, &m.Subject, &m.Text, &created, &read)
	m.CreateTime, m.ReadTime = sqlstore.FromNanos(created), sqlstore.FromNanos(read)
	return m, err
}

// ListInbox implements outreach.InboxStore. The page and the unread count
// are read in one transaction, so they agree.
func (s *Store) ListInbox(ctx context.Context, customerID string, pos outreach.MessagePosition, limit int) ([]outreach.InboxMessage, int, error) {
	var out []outreach.InboxMessage
	unread := 0
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		cond, args := newestFirst(pos)
		rows, err := tx.QueryContext(ctx, s.q(`SELECT `+inboxCols+` FROM outreach_inbox WHERE customer_id = ? AND `+cond+`
			ORDER BY create_ns DESC, message_id DESC LIMIT ?`), append(append([]any{customerID}, args...), limit)...)
		if err != nil {
			return err
		}
		for rows.Next() {
			m, err := scanInbox(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM outreach_inbox WHERE customer_id = ? AND read_ns = 0`), customerID).Scan(&unread)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("store: list inbox: %w", err)
	}
	return out, unread, nil
}

// MarkInboxRead implements outreach.InboxStore: one guarded write (read_ns
// = 0), so the first read time stays.
func (s *Store) MarkInboxRead(ctx context.Context, customerID, messageID string, at time.Time) (outreach.InboxMessage, error) {
	var m outreach.InboxMessage
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.exec(ctx, tx, `UPDATE outreach_inbox SET read_ns = ? WHERE customer_id = ? AND message_id = ? AND read_ns = 0`,
			sqlstore.Nanos(at), customerID, messageID); err != nil {
			return err
		}
		var err error
		m, err = scanInbox(tx.QueryRowContext(ctx, s.q(`SELECT `+inboxCols+` FROM outreach_inbox WHERE customer_id = ? AND message_id = ?`),
			customerID, messageID))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("%w: %s in the inbox of %s", outreach.ErrMessageNotFound, messageID, customerID)
	}
	if err != nil {
		return m, fmt.Errorf("store: mark inbox message read: %w", err)
	}
	return m, nil
}
