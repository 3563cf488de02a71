package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

const opCols = `operation_id, state, trigger_kind, as_of, settings_version, input_sequence, customers_done,
	customers_total, create_time, end_time, error, report, rule_errors`

func scanOperation(r interface{ Scan(...any) error }) (segmentation.Operation, error) {
	var (
		o            segmentation.Operation
		state, trig  int64
		asOf, ct, et int64
		report, errs string
	)
	if err := r.Scan(&o.ID, &state, &trig, &asOf, &o.SettingsVersion, &o.InputSequence, &o.CustomersDone,
		&o.CustomersTotal, &ct, &et, &o.Error, &report, &errs); err != nil {
		return o, err
	}
	o.State, o.Trigger = segmentation.OperationState(state), segmentation.Trigger(trig)
	o.AsOf, o.CreateTime, o.EndTime = fromNanos(asOf), fromNanos(ct), fromNanos(et)
	if report != "" {
		o.Report = new(segmentation.Report)
		if err := json.Unmarshal([]byte(report), o.Report); err != nil {
			return o, fmt.Errorf("decode report of %s: %w", o.ID, err)
		}
	}
	if errs != "" {
		if err := json.Unmarshal([]byte(errs), &o.RuleErrors); err != nil {
			return o, fmt.Errorf("decode rule errors of %s: %w", o.ID, err)
		}
	}
	return o, nil
}

// StartOperation implements segmentation.OperationStore.
func (s *Store) StartOperation(ctx context.Context, op segmentation.Operation) error {
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO operations (`+opCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			op.ID, int64(segmentation.OperationRunning), int64(op.Trigger), nanos(op.AsOf), op.SettingsVersion, op.InputSequence,
			op.CustomersDone, op.CustomersTotal, nanos(op.CreateTime), int64(0), "", "", "")
		if err != nil || s.db.Dialect != sqlstore.Postgres {
			return err
		}
		// Waits for a page that is forgetting customers: either it saw
		// this operation running (and recorded its re-keys), or the
		// recompute reads the generation it set.
		_, err = s.resultsGeneration(ctx, tx, " FOR SHARE")
		return err
	})
	if s.db.IsUniqueViolation(err) {
		running, rerr := s.RunningOperation(ctx)
		if rerr != nil {
			return &segmentation.InProgressError{}
		}
		return &segmentation.InProgressError{Operation: running.Name()}
	}
	if err != nil {
		return fmt.Errorf("store: start operation: %w", err)
	}
	return nil
}

// FailRunning implements segmentation.OperationStore.
func (s *Store) FailRunning(ctx context.Context, msg string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE operations SET state = ?, error = ?, end_time = ? WHERE state = ?`),
		int64(segmentation.OperationFailed), msg, nanos(now), int64(segmentation.OperationRunning))
	if err != nil {
		return fmt.Errorf("store: fail running operations: %w", err)
	}
	return s.dropRekeys(ctx, s.db)
}

// UpdateProgress implements segmentation.OperationStore.
func (s *Store) UpdateProgress(ctx context.Context, id string, done, total int64) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE operations SET customers_done = ?, customers_total = ? WHERE operation_id = ? AND state = ?`),
		done, total, id, int64(segmentation.OperationRunning))
	if err != nil {
		return fmt.Errorf("store: update progress: %w", err)
	}
	return nil
}

// FailOperation implements segmentation.OperationStore.
func (s *Store) FailOperation(ctx context.Context, id, msg string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE operations SET state = ?, error = ?, end_time = ? WHERE operation_id = ? AND state = ?`),
		int64(segmentation.OperationFailed), msg, nanos(now), id, int64(segmentation.OperationRunning))
	if err != nil {
		return fmt.Errorf("store: fail operation: %w", err)
	}
	return s.dropRekeys(ctx, s.db)
}

// GetOperation implements segmentation.OperationStore.
func (s *Store) GetOperation(ctx context.Context, id string) (segmentation.Operation, error) {
	o, err := scanOperation(s.db.QueryRowContext(ctx, s.q(`SELECT `+opCols+` FROM operations WHERE operation_id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return o, fmt.Errorf("%w: %s", segmentation.ErrOperationNotFound, id)
	}
	if err != nil {
		return o, fmt.Errorf("store: get operation: %w", err)
	}
	return o, nil
}

// RunningOperation implements segmentation.OperationStore.
func (s *Store) RunningOperation(ctx context.Context) (segmentation.Operation, error) {
	o, err := scanOperation(s.db.QueryRowContext(ctx, s.q(`SELECT `+opCols+` FROM operations WHERE state = ?`), int64(segmentation.OperationRunning)))
	if errors.Is(err, sql.ErrNoRows) {
		return o, fmt.Errorf("%w: none running", segmentation.ErrOperationNotFound)
	}
	if err != nil {
		return o, fmt.Errorf("store: running operation: %w", err)
	}
	return o, nil
}

// LatestSucceeded implements segmentation.OperationStore.
func (s *Store) LatestSucceeded(ctx context.Context) (segmentation.Operation, error) {
	o, err := scanOperation(s.db.QueryRowContext(ctx, s.q(`SELECT `+opCols+` FROM operations WHERE state = ?
		ORDER BY operation_id DESC LIMIT 1`), int64(segmentation.OperationSucceeded)))
	if errors.Is(err, sql.ErrNoRows) {
		return o, segmentation.ErrNoRecompute
	}
	if err != nil {
		return o, fmt.Errorf("store: latest operation: %w", err)
	}
	return o, nil
}

// ListOperations implements segmentation.OperationStore.
func (s *Store) ListOperations(ctx context.Context, beforeID string, limit int) ([]segmentation.Operation, error) {
	query, args := `SELECT `+opCols+` FROM operations ORDER BY operation_id DESC LIMIT ?`, []any{limit}
	if beforeID != "" {
		query, args = `SELECT `+opCols+` FROM operations WHERE operation_id < ? ORDER BY operation_id DESC LIMIT ?`, []any{beforeID, limit}
	}
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list operations: %w", err)
	}
	defer rows.Close()
	var out []segmentation.Operation
	for rows.Next() {
		o, err := scanOperation(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list operations: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}
