package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/tenurehq/tenure/services/feedback/internal/feedback"
)

var _ feedback.InvitationStore = (*Store)(nil)

const invitationCols = `invitation_id, survey_id, customer_id, occurrence, state, message, attempts, due_time,
	create_time, update_time`

// CreateInvitations implements feedback.InvitationStore.
func (s *Store) CreateInvitations(ctx context.Context, invs []feedback.Invitation) ([]feedback.Invitation, error) {
	out := make([]feedback.Invitation, len(invs))
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		for i, inv := range invs {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO survey_invitations (`+invitationCols+`)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (invitation_id) DO NOTHING`),
				inv.ID, inv.SurveyID, inv.CustomerID, inv.Occurrence, string(inv.State), inv.Message, inv.Attempts,
				nanos(inv.Due), nanos(inv.CreateTime), nanos(inv.UpdateTime)); err != nil {
				return err
			}
			stored, err := scanInvitation(tx.QueryRowContext(ctx, s.q(`SELECT `+invitationCols+` FROM survey_invitations
				WHERE invitation_id = ?`), inv.ID))
			if err != nil {
				return err
			}
			out[i] = stored
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: create invitations: %w", err)
	}
	return out, nil
}

func scanInvitation(r scanner) (feedback.Invitation, error) {
	var (
		inv              feedback.Invitation
		state            string
		due, ct, updated int64
	)
	err := r.Scan(&inv.ID, &inv.SurveyID, &inv.CustomerID, &inv.Occurrence, &state, &inv.Message, &inv.Attempts, &due, &ct, &updated)
	inv.State, inv.Due, inv.CreateTime, inv.UpdateTime = feedback.InvitationState(state), fromNanos(due), fromNanos(ct), fromNanos(updated)
	return inv, err
}

// InvitationsDue implements feedback.InvitationStore.
func (s *Store) InvitationsDue(ctx context.Context, now time.Time, limit int) ([]feedback.Invitation, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+invitationCols+` FROM survey_invitations
		WHERE state = 'pending' AND due_time <= ? ORDER BY due_time, invitation_id LIMIT ?`), nanos(now), limit)
	if err != nil {
		return nil, fmt.Errorf("store: invitations due: %w", err)
	}
	defer rows.Close()
	var out []feedback.Invitation
	for rows.Next() {
		inv, err := scanInvitation(rows)
		if err != nil {
			return nil, fmt.Errorf("store: invitations due: %w", err)
		}
		out = append(out, inv)
	}
	return out, rows.Err()
}

// RecordInvitation implements feedback.InvitationStore with an update
// guarded by the state and attempts read.
func (s *Store) RecordInvitation(ctx context.Context, prev, next feedback.Invitation) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE survey_invitations SET state = ?, message = ?, attempts = ?, due_time = ?,
		update_time = ? WHERE invitation_id = ? AND state = 'pending' AND attempts = ?`),
		string(next.State), next.Message, next.Attempts, nanos(next.Due), nanos(next.UpdateTime), prev.ID, prev.Attempts)
	if err != nil {
		return false, fmt.Errorf("store: record invitation: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: record invitation: %w", err)
	}
	return n == 1, nil
}

// PendingInviteTickets implements feedback.InvitationStore.
func (s *Store) PendingInviteTickets(ctx context.Context, limit int) ([]string, error) {
	return s.ids(ctx, `SELECT ticket_id FROM tickets WHERE invite_pending = 1 ORDER BY ticket_id LIMIT ?`, limit)
}

// MarkTicketInvited implements feedback.InvitationStore.
func (s *Store) MarkTicketInvited(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, s.q(`UPDATE tickets SET invite_pending = 0 WHERE ticket_id = ?`), id); err != nil {
		return fmt.Errorf("store: mark ticket invited: %w", err)
	}
	return nil
}
