package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// DefaultChangeRetention is how long audience changes are kept unless
// WithChangeRetention says otherwise.
const DefaultChangeRetention = 30 * 24 * time.Hour

// WithChangeRetention keeps the audience changes of recomputes created
// within d before the latest one ends (d ≤ 0: DefaultChangeRetention).
func WithChangeRetention(d time.Duration) Option {
	return func(s *Store) { s.changeRetention = d }
}

var _ segmentation.AudienceChangeStore = (*Store)(nil)

// changeBatch rows × 4 columns stays under SQLite's 32,766 parameters.
const changeBatch = 8000

// writeChanges stores rs's audience changes as op's, in FinishOperation's
// transaction, and drops those older than the retention. The changes must
// be against the latest successful recompute before op; with none, op is
// the baseline and records none, as when rs.ChangesSince is empty (no
// changes were computed).
func (s *Store) writeChanges(ctx context.Context, tx *sql.Tx, op segmentation.Operation, rs *segmentation.ResultSet, forgot bool) error {
	retention := s.changeRetention
	if retention <= 0 {
		retention = DefaultChangeRetention
	}
	if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM audience_changes WHERE operation_id IN (
		SELECT operation_id FROM operations WHERE create_time < ?)`), nanos(op.EndTime.Add(-retention))); err != nil {
		return fmt.Errorf("store: drop old audience changes: %w", err)
	}
	if rs.ChangesSince == "" {
		return nil
	}
	var prev string
	err := tx.QueryRowContext(ctx, s.q(`SELECT operation_id FROM operations WHERE state = ? AND operation_id <> ?
		ORDER BY operation_id DESC LIMIT 1`), int64(segmentation.OperationSucceeded), op.ID).Scan(&prev)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: read the previous recompute: %w", err)
	}
	if prev != rs.ChangesSince {
		return fmt.Errorf("store: finish operation %s: its audience changes are since %q, but the latest recompute is %s",
			op.ID, rs.ChangesSince, prev)
	}
	if s.db.Dialect == sqlstore.Postgres {
		err = insertChangesPostgres(ctx, tx, op.ID, rs.Changes)
	} else {
		err = s.insertChangesSQLite(ctx, tx, op.ID, rs.Changes)
	}
	if err != nil || !forgot {
		return err
	}
	// Customers deleted or erased while the recompute ran: their changes go
	// with their results.
	if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM audience_changes WHERE operation_id = ?
		AND customer_id NOT IN (SELECT customer_id FROM customers)`), op.ID); err != nil {
		return fmt.Errorf("store: drop audience changes of forgotten customers: %w", err)
	}
	return nil
}

func (s *Store) insertChangesSQLite(ctx context.Context, tx *sql.Tx, opID string, changes []segmentation.AudienceChange) error {
	args := make([]any, 0, 4*min(changeBatch, len(changes)))
	for start := 0; start < len(changes); start += changeBatch {
		part := changes[start:min(start+changeBatch, len(changes))]
		args = args[:0]
		for i := range part {
			args = append(args, opID, part[i].Audience, part[i].CustomerID, boolInt(part[i].Entered))
		}
		query := `INSERT INTO audience_changes (operation_id, audience, customer_id, entered) VALUES (?,?,?,?)` +
			strings.Repeat(",(?,?,?,?)", len(part)-1)
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			return fmt.Errorf("store: insert audience changes: %w", err)
		}
	}
	return nil
}

// insertChangesPostgres inserts the changes with one statement over
// column arrays.
func insertChangesPostgres(ctx context.Context, tx *sql.Tx, opID string, changes []segmentation.AudienceChange) error {
	if len(changes) == 0 {
		return nil
	}
	auds, ids, entered := make([]string, len(changes)), make([]string, len(changes)), make([]int64, len(changes))
	for i := range changes {
		auds[i], ids[i], entered[i] = changes[i].Audience, changes[i].CustomerID, boolInt(changes[i].Entered)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO audience_changes (operation_id, audience, customer_id, entered)
		SELECT $1, a, c, e FROM unnest($2::text[], $3::text[], $4::bigint[]) AS u (a, c, e)`, opID, auds, ids, entered)
	if err != nil {
		return fmt.Errorf("store: insert audience changes: %w", err)
	}
	return nil
}

// ListAudienceChanges implements segmentation.AudienceChangeStore.
func (s *Store) ListAudienceChanges(ctx context.Context, q segmentation.AudienceChangeQuery) ([]segmentation.AudienceChange, error) {
	var where []string
	var args []any
	if q.Operation != "" {
		where, args = append(where, `c.operation_id = ?`), append(args, q.Operation)
	} else if q.AfterOperation != "" {
		where, args = append(where, `c.operation_id > ?`), append(args, q.AfterOperation)
	}
	if len(q.Audiences) > 0 {
		where = append(where, `c.audience IN (?`+strings.Repeat(", ?", len(q.Audiences)-1)+`)`)
		for _, a := range q.Audiences {
			args = append(args, a)
		}
	}
	switch q.Kind {
	case segmentation.ChangesEntered:
		where = append(where, `c.entered = 1`)
	case segmentation.ChangesLeft:
		where = append(where, `c.entered = 0`)
	}
	if a := q.After; a != (segmentation.AudienceChange{}) {
		where = append(where, `(c.operation_id, c.audience, c.customer_id) > (?, ?, ?)`)
		args = append(args, a.Operation, a.Audience, a.CustomerID)
	}
	query := `SELECT c.operation_id, c.audience, c.customer_id, c.entered, o.as_of FROM audience_changes c
		JOIN operations o ON o.operation_id = c.operation_id`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	rows, err := s.db.QueryContext(ctx, s.q(query+` ORDER BY c.operation_id, c.audience, c.customer_id LIMIT ?`), append(args, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("store: list audience changes: %w", err)
	}
	defer rows.Close()
	var out []segmentation.AudienceChange
	for rows.Next() {
		var c segmentation.AudienceChange
		var entered, asOf int64
		if err := rows.Scan(&c.Operation, &c.Audience, &c.CustomerID, &entered, &asOf); err != nil {
			return nil, fmt.Errorf("store: list audience changes: %w", err)
		}
		c.Entered, c.AsOf = entered == 1, fromNanos(asOf)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list audience changes: %w", err)
	}
	return out, nil
}
