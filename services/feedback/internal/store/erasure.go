package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/tenurehq/tenure/services/feedback/internal/feedback"
	"github.com/tenurehq/tenure/services/platform/idempotency"
)

// Cursor implements feedback.ErasureStore.
func (s *Store) Cursor(ctx context.Context) (int64, error) {
	var seq int64
	if err := s.db.QueryRowContext(ctx, `SELECT sequence FROM event_cursor WHERE id = 1`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("store: cursor: %w", err)
	}
	return seq, nil
}

// ApplyErasures implements feedback.ErasureStore: in one transaction, for
// each erasure after the stored cursor, it moves the customer's tickets
// and answers to the anonymous id, clears the tickets' email and forgets
// the stored responses of requests about the customer, then stores the
// cursor.
func (s *Store) ApplyErasures(ctx context.Context, erasures []feedback.Erasure, last int64) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		var cursor int64
		if err := tx.QueryRowContext(ctx, `SELECT sequence FROM event_cursor WHERE id = 1`+s.forUpdate()).Scan(&cursor); err != nil {
			return fmt.Errorf("store: cursor: %w", err)
		}
		if last <= cursor {
			return nil // applied already, by another replica
		}
		var subjects []string
		for _, e := range erasures {
			if e.Sequence > cursor {
				if err := s.erase(ctx, tx, e); err != nil {
					return err
				}
				subjects = append(subjects, idempotency.CustomerSubject(e.CustomerID))
			}
		}
		if len(subjects) > 0 {
			if err := idempotency.NewStore(s.db).Forget(ctx, tx, subjects...); err != nil {
				return fmt.Errorf("store: forget requests about erased customers: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE event_cursor SET sequence = ? WHERE id = 1`), last); err != nil {
			return fmt.Errorf("store: cursor: %w", err)
		}
		return nil
	})
}

func (s *Store) erase(ctx context.Context, tx *sql.Tx, e feedback.Erasure) error {
	tickets, err := s.scanTickets(ctx, tx, `SELECT `+ticketCols+` FROM tickets WHERE customer_id = ?`+s.forUpdate(), e.CustomerID)
	if err != nil {
		return err
	}
	w := ticketWriter{s: s, tx: tx}
	for _, t := range tickets {
		t.CustomerID, t.Email = e.AnonymousID, ""
		if err := w.write(ctx, t, false); err != nil {
			return err
		}
	}
	if len(tickets) > 0 {
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE tickets SET customer_id = ?, invite_pending = 0 WHERE customer_id = ?`), e.AnonymousID, e.CustomerID); err != nil {
			return fmt.Errorf("store: erase tickets: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE survey_responses SET customer_id = ?, reward_retry_time = NULL WHERE customer_id = ?`), e.AnonymousID, e.CustomerID); err != nil {
		return fmt.Errorf("store: erase survey responses: %w", err)
	}
	// An erased customer is not invited any more.
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE survey_invitations SET customer_id = ?,
		state = CASE WHEN state = 'pending' THEN 'failed' ELSE state END WHERE customer_id = ?`), e.AnonymousID, e.CustomerID); err != nil {
		return fmt.Errorf("store: erase survey invitations: %w", err)
	}
	return nil
}
