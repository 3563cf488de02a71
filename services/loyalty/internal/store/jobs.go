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
	case loyalty.JobMature:
		// As loyalty.Account.Mature selects the buckets.
		query = `SELECT member_id FROM members m WHERE enrolled = 1 AND member_id > ? AND EXISTS (SELECT 1 FROM buckets b
			WHERE b.member_id = m.member_id AND b.qualifying = 1 AND b.available_at > b.earned_at
			AND b.available_at > m.matured_at AND b.available_at <= ?) ORDER BY member_id LIMIT ?`
		args = []any{after, unixNano(asOf), limit}
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

const opCols = `id, kind, as_of, state, programme_version, members_changed, points, create_time, end_time, error, scheduled,
	owner, lease_until, resume_after`

func opArgs(op loyalty.Operation) []any {
	return []any{op.ID, string(op.Kind), unixNano(op.AsOf), string(op.State), op.ProgrammeVersion, op.MembersChanged,
		op.Points, unixNano(op.CreateTime), unixNano(op.EndTime), op.Error, boolInt(op.Scheduled), op.Owner,
		unixNano(op.LeaseUntil), op.ResumeAfter}
}

// StartOperation implements loyalty.JobStore. A failed operation of the
// same kind and as-of time is started again; a running one whose lease
// lapsed is taken over with its progress.
func (s *Store) StartOperation(ctx context.Context, op loyalty.Operation) (loyalty.Operation, bool, error) {
	var out loyalty.Operation
	started := false
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`INSERT INTO operations (`+opCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (kind, as_of) DO UPDATE SET state = excluded.state, error = '', create_time = excluded.create_time,
				programme_version = excluded.programme_version, members_changed = 0, points = 0, end_time = 0,
				owner = excluded.owner, lease_until = excluded.lease_until, resume_after = ''
			WHERE operations.state = ?`), append(opArgs(op), string(loyalty.OpFailed))...)
		if err != nil {
			return fmt.Errorf("store: start operation: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			res, err = tx.ExecContext(ctx, s.q(`UPDATE operations SET owner = ?, lease_until = ?
				WHERE kind = ? AND as_of = ? AND state = ? AND lease_until < ?`), op.Owner, unixNano(op.LeaseUntil),
				string(op.Kind), unixNano(op.AsOf), string(loyalty.OpRunning), unixNano(op.CreateTime))
			if err != nil {
				return fmt.Errorf("store: take over operation: %w", err)
			}
			if n, err = res.RowsAffected(); err != nil {
				return err
			}
		}
		started = n == 1
		out, err = s.operation(ctx, tx, `kind = ? AND as_of = ?`, string(op.Kind), unixNano(op.AsOf))
		return err
	})
	return out, started, err
}

// RenewLease implements loyalty.JobStore.
func (s *Store) RenewLease(ctx context.Context, id, owner string, until time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE operations SET lease_until = ? WHERE id = ? AND owner = ? AND state = ?`),
		unixNano(until), id, owner, string(loyalty.OpRunning))
	if err != nil {
		return false, fmt.Errorf("store: renew lease of %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// saveProgress saves a running operation's progress in a batch's
// transaction, if op.Owner still holds it.
func (s *Store) saveProgress(ctx context.Context, tx *sql.Tx, op loyalty.Operation) error {
	st, err := s.db.TxStmt(ctx, tx, s.q(`UPDATE operations SET members_changed = ?, points = ?, resume_after = ?, lease_until = ?
		WHERE id = ? AND owner = ? AND state = ?`))
	if err != nil {
		return err
	}
	res, err := st.ExecContext(ctx, op.MembersChanged, op.Points, op.ResumeAfter, unixNano(op.LeaseUntil), op.ID, op.Owner,
		string(loyalty.OpRunning))
	if err != nil {
		return fmt.Errorf("store: save progress of %s: %w", op.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return errors.Join(&loyalty.LeaseLostError{ID: op.ID}, err)
	}
	return nil
}

// InJobBatch implements loyalty.JobStore.
func (s *Store) InJobBatch(ctx context.Context, from time.Time, fn func(ctx context.Context, l loyalty.Ledger) (loyalty.Operation, error)) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		l := s.newLedger(tx, from)
		op, err := fn(ctx, l)
		if err != nil {
			return err
		}
		if err := l.save(ctx); err != nil {
			return err
		}
		return s.saveProgress(ctx, tx, op)
	})
}

// FinishOperation implements loyalty.JobStore.
func (s *Store) FinishOperation(ctx context.Context, op loyalty.Operation) error {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE operations SET state = ?, members_changed = ?, points = ?, end_time = ?, error = ?
		WHERE id = ? AND owner = ? AND state = ?`), string(op.State), op.MembersChanged, op.Points, unixNano(op.EndTime), op.Error,
		op.ID, op.Owner, string(loyalty.OpRunning))
	if err != nil {
		return fmt.Errorf("store: finish operation %s: %w", op.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return errors.Join(&loyalty.LeaseLostError{ID: op.ID}, err)
	}
	return nil
}

// StaleOperations implements loyalty.JobStore.
func (s *Store) StaleOperations(ctx context.Context, t time.Time) ([]loyalty.Operation, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id FROM operations WHERE state = ? AND lease_until < ? ORDER BY create_time`),
		string(loyalty.OpRunning), unixNano(t))
	if err != nil {
		return nil, fmt.Errorf("store: stale operations: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]loyalty.Operation, 0, len(ids))
	for _, id := range ids {
		op, err := s.Operation(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, op)
	}
	return out, nil
}

// Operation implements loyalty.JobStore.
func (s *Store) Operation(ctx context.Context, id string) (loyalty.Operation, error) {
	return s.operation(ctx, s.db, `id = ?`, id)
}

func (s *Store) operation(ctx context.Context, q queryer, where string, args ...any) (loyalty.Operation, error) {
	var op loyalty.Operation
	var kind, state string
	var asOf, created, ended, lease int64
	var scheduled int
	err := q.QueryRowContext(ctx, s.q(`SELECT `+opCols+` FROM operations WHERE `+where), args...).Scan(&op.ID, &kind, &asOf,
		&state, &op.ProgrammeVersion, &op.MembersChanged, &op.Points, &created, &ended, &op.Error, &scheduled,
		&op.Owner, &lease, &op.ResumeAfter)
	if errors.Is(err, sql.ErrNoRows) {
		return op, loyalty.ErrOperationNotFound
	}
	if err != nil {
		return op, fmt.Errorf("store: read operation: %w", err)
	}
	op.Kind, op.State, op.AsOf = loyalty.JobKind(kind), loyalty.OperationState(state), timeOf(asOf)
	op.CreateTime, op.EndTime, op.Scheduled, op.LeaseUntil = timeOf(created), timeOf(ended), scheduled == 1, timeOf(lease)
	return op, nil
}
