package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tenurehq/tenure/services/loyalty/internal/loyalty"
)

// JobMembers implements loyalty.JobStore for the jobs other than expiry,
// which ExpireBatch runs.
func (s *Store) JobMembers(ctx context.Context, kind loyalty.JobKind, asOf time.Time, after string, limit int) ([]string, error) {
	var query string
	var args []any
	switch kind {
	case loyalty.JobTiers:
		query = `SELECT member_id FROM members WHERE enrolled = 1 AND member_id > ? ORDER BY member_id LIMIT ?`
		args = []any{after, limit}
	case loyalty.JobBirthdays:
		// The member's local day is within a day of UTC's; 29 February
		// birthdays fall on 28 February in other years.
		query = `SELECT member_id FROM members WHERE enrolled = 1 AND birthday <> ''
			AND substr(birthday, 6, 5) IN (?, ?, ?, '02-29') AND member_id > ? ORDER BY member_id LIMIT ?`
		md := func(d int) string { return asOf.AddDate(0, 0, d).Format("01-02") }
		args = []any{md(-1), md(0), md(1), after, limit}
	default:
		return nil, fmt.Errorf("store: unknown job %q", kind)
	}
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: job members: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

const opCols = `id, kind, as_of, state, programme_version, members_changed, points, create_time, end_time, error, scheduled`

func opArgs(op loyalty.Operation) []any {
	return []any{op.ID, string(op.Kind), unixNano(op.AsOf), string(op.State), op.ProgrammeVersion, op.MembersChanged,
		op.Points, unixNano(op.CreateTime), unixNano(op.EndTime), op.Error, boolInt(op.Scheduled)}
}

// StartOperation implements loyalty.JobStore. A failed operation of the
// same kind and as-of time is taken over and run again.
func (s *Store) StartOperation(ctx context.Context, op loyalty.Operation) (loyalty.Operation, bool, error) {
	var out loyalty.Operation
	started := false
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`INSERT INTO operations (`+opCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (kind, as_of) DO UPDATE SET state = excluded.state, error = '', create_time = excluded.create_time,
				programme_version = excluded.programme_version, members_changed = 0, points = 0, end_time = 0
			WHERE operations.state = ?`), append(opArgs(op), string(loyalty.OpFailed))...)
		if err != nil {
			return fmt.Errorf("store: start operation: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		started = n == 1
		out, err = s.operation(ctx, tx, `kind = ? AND as_of = ?`, string(op.Kind), unixNano(op.AsOf))
		return err
	})
	return out, started, err
}

// FinishOperation implements loyalty.JobStore.
func (s *Store) FinishOperation(ctx context.Context, op loyalty.Operation) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE operations SET state = ?, members_changed = ?, points = ?, end_time = ?, error = ?
		WHERE id = ?`), string(op.State), op.MembersChanged, op.Points, unixNano(op.EndTime), op.Error, op.ID)
	if err != nil {
		return fmt.Errorf("store: finish operation %s: %w", op.ID, err)
	}
	return nil
}

// Operation implements loyalty.JobStore.
func (s *Store) Operation(ctx context.Context, id string) (loyalty.Operation, error) {
	return s.operation(ctx, s.db, `id = ?`, id)
}

func (s *Store) operation(ctx context.Context, q queryer, where string, args ...any) (loyalty.Operation, error) {
	var op loyalty.Operation
	var kind, state string
	var asOf, created, ended int64
	var scheduled int
	err := q.QueryRowContext(ctx, s.q(`SELECT `+opCols+` FROM operations WHERE `+where), args...).Scan(&op.ID, &kind, &asOf,
		&state, &op.ProgrammeVersion, &op.MembersChanged, &op.Points, &created, &ended, &op.Error, &scheduled)
	if errors.Is(err, sql.ErrNoRows) {
		return op, loyalty.ErrOperationNotFound
	}
	if err != nil {
		return op, fmt.Errorf("store: read operation: %w", err)
	}
	op.Kind, op.State, op.AsOf = loyalty.JobKind(kind), loyalty.OperationState(state), timeOf(asOf)
	op.CreateTime, op.EndTime, op.Scheduled = timeOf(created), timeOf(ended), scheduled == 1
	return op, nil
}
