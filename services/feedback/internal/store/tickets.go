package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/tenurehq/tenure/services/feedback/internal/feedback"
)

// ticketDoc is the part of a ticket kept as JSON.
type ticketDoc struct {
	Email          string              `json:"email,omitempty"`
	Type           feedback.TicketType `json:"type"`
	Channel        feedback.Channel    `json:"channel"`
	Subject        string              `json:"subject,omitempty"`
	Body           string              `json:"body"`
	OrderID        string              `json:"order_id,omitempty"`
	Assignee       string              `json:"assignee,omitempty"`
	Tags           []string            `json:"tags,omitempty"`
	Comments       []commentDoc        `json:"comments,omitempty"`
	History        []historyDoc        `json:"history"`
	PolicyID       string              `json:"policy_id,omitempty"`
	MatchedRules   []string            `json:"matched_rules,omitempty"`
	Escalations    []escalationDoc     `json:"escalations,omitempty"`
	SurveyResponse string              `json:"survey_response,omitempty"`
	UpdateTime     int64               `json:"update_time"`
}

type commentDoc struct {
	ID        string `json:"id"`
	FromAgent bool   `json:"from_agent,omitempty"`
	Author    string `json:"author,omitempty"`
	Body      string `json:"body"`
	Internal  bool   `json:"internal,omitempty"`
	Time      int64  `json:"time"`
}

type historyDoc struct {
	Status feedback.Status `json:"status"`
	Time   int64           `json:"time"`
}

type escalationDoc struct {
	StepID     string   `json:"step_id"`
	Actions    []string `json:"actions,omitempty"`
	Time       int64    `json:"time"`
	Escalation string   `json:"escalation"`
}

const ticketCols = `ticket_id, customer_id, status, queue, priority, active, create_time, first_reply_due,
	first_reply_time, resolution_due, solve_time, next_escalation, contact_pending, version, data`

func toDoc(t *feedback.Ticket) ticketDoc {
	d := ticketDoc{Email: t.Email, Type: t.Type, Channel: t.Channel, Subject: t.Subject, Body: t.Body, OrderID: t.OrderID,
		Assignee: t.Assignee, Tags: t.Tags, PolicyID: t.PolicyID, MatchedRules: t.MatchedRules,
		SurveyResponse: t.SurveyResponse, UpdateTime: nanos(t.UpdateTime)}
	for _, c := range t.Comments {
		d.Comments = append(d.Comments, commentDoc{c.ID, c.FromAgent, c.Author, c.Body, c.Internal, nanos(c.CreateTime)})
	}
	for _, h := range t.History {
		d.History = append(d.History, historyDoc{h.Status, nanos(h.At)})
	}
	for _, e := range t.Escalations {
		d.Escalations = append(d.Escalations, escalationDoc{e.StepID, e.Actions, nanos(e.ApplyTime), e.Escalation})
	}
	return d
}

func fromDoc(t *feedback.Ticket, d ticketDoc) {
	t.Email, t.Type, t.Channel, t.Subject, t.Body, t.OrderID = d.Email, d.Type, d.Channel, d.Subject, d.Body, d.OrderID
	t.Assignee, t.Tags, t.PolicyID, t.MatchedRules = d.Assignee, d.Tags, d.PolicyID, d.MatchedRules
	t.SurveyResponse, t.UpdateTime = d.SurveyResponse, fromNanos(d.UpdateTime)
	for _, c := range d.Comments {
		t.Comments = append(t.Comments, feedback.Comment{ID: c.ID, FromAgent: c.FromAgent, Author: c.Author, Body: c.Body,
			Internal: c.Internal, CreateTime: fromNanos(c.Time)})
	}
	for _, h := range d.History {
		t.History = append(t.History, feedback.StatusChange{Status: h.Status, At: fromNanos(h.Time)})
	}
	for _, e := range d.Escalations {
		t.Escalations = append(t.Escalations, feedback.EscalationEntry{StepID: e.StepID, Actions: e.Actions,
			ApplyTime: fromNanos(e.Time), Escalation: e.Escalation})
	}
}

// ticketArgs are the values of the columns customer_id to
// next_escalation, then data.
func ticketArgs(t *feedback.Ticket) ([]any, error) {
	data, err := encode(toDoc(t))
	if err != nil {
		return nil, err
	}
	return []any{t.CustomerID, string(t.Status), t.Queue, int64(t.Priority), boolInt(t.Status.Active()), nanos(t.CreateTime),
		nanos(t.FirstReplyDue), nanos(t.FirstReplyTime), nanos(t.ResolutionDue), nanos(t.SolveTime),
		nanos(t.NextEscalation), data}, nil
}

// CreateTicket implements feedback.TicketStore. A ticket of a customer
// starts with its profile contact pending.
func (s *Store) CreateTicket(ctx context.Context, t *feedback.Ticket) error {
	vals, err := insertArgs(t)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, s.q(`INSERT INTO tickets (`+ticketCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), vals...)
	return s.exists(err, "ticket", t.ID)
}

// insertArgs are the values of every column of a new ticket (version 1).
func insertArgs(t *feedback.Ticket) ([]any, error) {
	args, err := ticketArgs(t)
	if err != nil {
		return nil, err
	}
	t.Version = 1
	vals := append([]any{t.ID}, args[:len(args)-1]...)
	return append(vals, boolInt(t.CustomerID != ""), t.Version, args[len(args)-1]), nil
}

func (s *Store) getTicket(ctx context.Context, q queryer, id, suffix string) (*feedback.Ticket, error) {
	t, err := scanTicket(q.QueryRowContext(ctx, s.q(`SELECT `+ticketCols+` FROM tickets WHERE ticket_id = ?`+suffix), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", feedback.ErrTicketNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: get ticket: %w", err)
	}
	return t, nil
}

// GetTicket implements feedback.TicketStore.
func (s *Store) GetTicket(ctx context.Context, id string) (*feedback.Ticket, error) {
	return s.getTicket(ctx, s.db, id, "")
}

// UpdateTicket implements feedback.TicketStore: it locks the row, lets fn
// change the ticket and writes it back with the next version.
func (s *Store) UpdateTicket(ctx context.Context, id string, fn func(*feedback.Ticket) error) (*feedback.Ticket, error) {
	out, err := s.UpdateTickets(ctx, []string{id}, fn)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// UpdateTickets implements feedback.TicketStore: it reads and locks the
// tickets with one query, lets fn change each and writes them back with
// one prepared statement, in one transaction.
func (s *Store) UpdateTickets(ctx context.Context, ids []string, fn func(*feedback.Ticket) error) ([]*feedback.Ticket, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return s.updateEach(ctx, fn, func(tx *sql.Tx) ([]*feedback.Ticket, error) { return s.lockTickets(ctx, tx, ids) })
}

// UpdateDueTickets implements feedback.TicketStore.
func (s *Store) UpdateDueTickets(ctx context.Context, asOf time.Time, after string, limit int, fn func(*feedback.Ticket) error) ([]*feedback.Ticket, error) {
	return s.updateEach(ctx, fn, func(tx *sql.Tx) ([]*feedback.Ticket, error) {
		return s.scanTickets(ctx, tx, `SELECT `+ticketCols+` FROM tickets WHERE next_escalation > 0 AND next_escalation <= ?
			AND ticket_id > ? ORDER BY ticket_id LIMIT ?`+s.forUpdate(), nanos(asOf), after, limit)
	})
}

// updateEach reads tickets with read, lets fn change each and writes them
// back, in one transaction.
func (s *Store) updateEach(ctx context.Context, fn func(*feedback.Ticket) error, read func(*sql.Tx) ([]*feedback.Ticket, error)) ([]*feedback.Ticket, error) {
	var out []*feedback.Ticket
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		tickets, err := read(tx)
		if err != nil {
			return err
		}
		w := ticketWriter{s: s, tx: tx}
		for _, t := range tickets {
			status, queue := t.Status, t.Queue
			if err := fn(t); err != nil {
				return err
			}
			if err := w.write(ctx, t, t.Status != status || t.Queue != queue); err != nil {
				return err
			}
		}
		out = tickets
		return nil
	})
	return out, err
}

// ticketWriter writes changed tickets in one transaction. customer_id and
// create_time never change, and status and queue seldom do: SQLite
// rewrites an index whenever SET names one of its columns, so the common
// statement leaves the indexed columns that did not change out.
type ticketWriter struct {
	s               *Store
	tx              *sql.Tx
	full, unindexed *sql.Stmt
}

func (w *ticketWriter) write(ctx context.Context, t *feedback.Ticket, indexed bool) error {
	args, err := ticketArgs(t)
	if err != nil {
		return err
	}
	t.Version++
	// args: customer_id, status, queue, priority, active, create_time,
	// first_reply_due … next_escalation, data.
	rest := append(append([]any{}, args[3:5]...), args[6:]...)
	rest = append(rest, t.Version, t.ID)
	stmt := &w.unindexed
	query := `UPDATE tickets SET priority = ?, active = ?, first_reply_due = ?, first_reply_time = ?, resolution_due = ?,
		solve_time = ?, next_escalation = ?, data = ?, version = ? WHERE ticket_id = ?`
	if indexed {
		// A ticket newly solved gets its invitations pending; the flag is
		// only cleared by MarkTicketInvited.
		stmt, query = &w.full, `UPDATE tickets SET status = ?, queue = ?, priority = ?, active = ?, first_reply_due = ?,
			first_reply_time = ?, resolution_due = ?, solve_time = ?, next_escalation = ?, data = ?, version = ?,
			invite_pending = CASE WHEN ? = 1 THEN 1 ELSE invite_pending END WHERE ticket_id = ?`
		rest = append([]any{args[1], args[2]}, rest[:len(rest)-1]...)
		rest = append(rest, boolInt(t.InvitePending), t.ID)
	}
	if *stmt == nil {
		if *stmt, err = w.s.db.TxStmt(ctx, w.tx, w.s.q(query)); err != nil {
			return err
		}
	}
	if _, err := (*stmt).ExecContext(ctx, rest...); err != nil {
		return fmt.Errorf("store: update ticket: %w", err)
	}
	return nil
}

// lockTickets reads (and on PostgreSQL locks) the tickets with ids, in the
// order of ids; a missing one is ErrTicketNotFound.
func (s *Store) lockTickets(ctx context.Context, tx *sql.Tx, ids []string) ([]*feedback.Ticket, error) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	found, err := s.scanTickets(ctx, tx, `SELECT `+ticketCols+` FROM tickets WHERE ticket_id IN (`+
		strings.Repeat(", ?", len(ids))[2:]+`) ORDER BY ticket_id`+s.forUpdate(), args...)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*feedback.Ticket, len(found))
	for _, t := range found {
		byID[t.ID] = t
	}
	out := make([]*feedback.Ticket, len(ids))
	for i, id := range ids {
		if out[i] = byID[id]; out[i] == nil {
			return nil, fmt.Errorf("%w: %s", feedback.ErrTicketNotFound, id)
		}
	}
	return out, nil
}

// scanTickets runs a ticket query in tx.
func (s *Store) scanTickets(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]*feedback.Ticket, error) {
	rows, err := tx.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: read tickets: %w", err)
	}
	defer rows.Close()
	var out []*feedback.Ticket
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			return nil, fmt.Errorf("store: read tickets: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// CreateTickets implements feedback.TicketStore: CreateTicket for each, in
// one transaction (imports and benchmarks).
func (s *Store) CreateTickets(ctx context.Context, tickets []*feedback.Ticket) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		stmt, err := s.db.TxStmt(ctx, tx, s.q(`INSERT INTO tickets (`+ticketCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`))
		if err != nil {
			return err
		}
		for _, t := range tickets {
			vals, err := insertArgs(t)
			if err != nil {
				return err
			}
			if _, err := stmt.ExecContext(ctx, vals...); err != nil {
				return s.exists(err, "ticket", t.ID)
			}
		}
		return nil
	})
}

// ListTickets implements feedback.TicketStore.
func (s *Store) ListTickets(ctx context.Context, f feedback.TicketFilter, after string, limit int) ([]feedback.Ticket, error) {
	var where []string
	var args []any
	add := func(cond string, vals ...any) { where = append(where, cond); args = append(args, vals...) }
	if after != "" {
		add("ticket_id < ?", after)
	}
	if f.Status != "" {
		add("status = ?", string(f.Status))
	}
	if f.Queue != "" {
		add("queue = ?", f.Queue)
	}
	if f.CustomerID != "" {
		add("customer_id = ?", f.CustomerID)
	}
	if f.Breached {
		now := nanos(f.Now)
		add(`((first_reply_due > 0 AND ((first_reply_time = 0 AND first_reply_due < ?) OR first_reply_time > first_reply_due))
			OR (resolution_due > 0 AND ((active = 1 AND resolution_due < ?) OR (active = 0 AND solve_time > resolution_due))))`, now, now)
	}
	query := `SELECT ` + ticketCols + ` FROM tickets`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	rows, err := s.db.QueryContext(ctx, s.q(query+` ORDER BY ticket_id DESC LIMIT ?`), append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("store: list tickets: %w", err)
	}
	defer rows.Close()
	var out []feedback.Ticket
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list tickets: %w", err)
		}
		out = append(out, *t)
	}
	return out, rows.Err()
}

// EachTicket implements feedback.TicketStore.
func (s *Store) EachTicket(ctx context.Context, from, to time.Time, fn func(*feedback.Ticket) error) error {
	end := int64(math.MaxInt64)
	if !to.IsZero() {
		end = nanos(to)
	}
	return s.each(ctx, `SELECT `+ticketCols+` FROM tickets WHERE create_time >= ? AND create_time < ? ORDER BY ticket_id`,
		[]any{nanos(from), end}, func(r scanner) error {
			t, err := scanTicket(r)
			if err != nil {
				return err
			}
			return fn(t)
		})
}

// PendingContactIDs implements feedback.TicketStore.
func (s *Store) PendingContactIDs(ctx context.Context, limit int) ([]string, error) {
	return s.ids(ctx, `SELECT ticket_id FROM tickets WHERE contact_pending = 1 ORDER BY ticket_id LIMIT ?`, limit)
}

// MarkContactRecorded implements feedback.TicketStore.
func (s *Store) MarkContactRecorded(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, s.q(`UPDATE tickets SET contact_pending = 0 WHERE ticket_id = ?`), id); err != nil {
		return fmt.Errorf("store: mark contact: %w", err)
	}
	return nil
}

func (s *Store) ids(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func scanTicket(r scanner) (*feedback.Ticket, error) {
	var (
		t                          feedback.Ticket
		status, data               string
		prio, active, pending      int64
		ct, frd, frt, rd, st, next int64
	)
	err := r.Scan(&t.ID, &t.CustomerID, &status, &t.Queue, &prio, &active, &ct, &frd, &frt, &rd, &st, &next, &pending, &t.Version, &data)
	if err != nil {
		return nil, err
	}
	t.Status, t.Priority, t.CreateTime = feedback.Status(status), feedback.Priority(prio), fromNanos(ct)
	t.FirstReplyDue, t.FirstReplyTime, t.ResolutionDue, t.SolveTime = fromNanos(frd), fromNanos(frt), fromNanos(rd), fromNanos(st)
	t.NextEscalation = fromNanos(next)
	var d ticketDoc
	if err := decode(data, &d); err != nil {
		return nil, err
	}
	fromDoc(&t, d)
	return &t, nil
}
