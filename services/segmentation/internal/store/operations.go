package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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

// StartOperation implements segmentation.Store.
func (s *Store) StartOperation(ctx context.Context, op segmentation.Operation) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO operations (`+opCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		op.ID, int64(segmentation.OperationRunning), int64(op.Trigger), nanos(op.AsOf), op.SettingsVersion, op.InputSequence,
		op.CustomersDone, op.CustomersTotal, nanos(op.CreateTime), int64(0), "", "", "")
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

// FailRunning implements segmentation.Store.
func (s *Store) FailRunning(ctx context.Context, msg string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE operations SET state = ?, error = ?, end_time = ? WHERE state = ?`),
		int64(segmentation.OperationFailed), msg, nanos(now), int64(segmentation.OperationRunning))
	if err != nil {
		return fmt.Errorf("store: fail running operations: %w", err)
	}
	return nil
}

// UpdateProgress implements segmentation.Store.
func (s *Store) UpdateProgress(ctx context.Context, id string, done, total int64) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE operations SET customers_done = ?, customers_total = ? WHERE operation_id = ? AND state = ?`),
		done, total, id, int64(segmentation.OperationRunning))
	if err != nil {
		return fmt.Errorf("store: update progress: %w", err)
	}
	return nil
}

// FailOperation implements segmentation.Store.
func (s *Store) FailOperation(ctx context.Context, id, msg string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE operations SET state = ?, error = ?, end_time = ? WHERE operation_id = ? AND state = ?`),
		int64(segmentation.OperationFailed), msg, nanos(now), id, int64(segmentation.OperationRunning))
	if err != nil {
		return fmt.Errorf("store: fail operation: %w", err)
	}
	return nil
}

// GetOperation implements segmentation.Store.
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

// RunningOperation implements segmentation.Store.
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

// LatestSucceeded implements segmentation.Store.
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

// ListOperations implements segmentation.Store.
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

// FinishOperation implements segmentation.Store.
func (s *Store) FinishOperation(ctx context.Context, op segmentation.Operation, rs segmentation.ResultSet) error {
	report, err := json.Marshal(rs.Report)
	if err != nil {
		return fmt.Errorf("store: encode report: %w", err)
	}
	ruleErrs := ""
	if len(op.RuleErrors) > 0 {
		b, err := json.Marshal(op.RuleErrors)
		if err != nil {
			return fmt.Errorf("store: encode rule errors: %w", err)
		}
		ruleErrs = string(b)
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE operations SET state = ?, customers_done = ?, customers_total = ?, end_time = ?,
			report = ?, rule_errors = ? WHERE operation_id = ? AND state = ?`),
			int64(segmentation.OperationSucceeded), op.CustomersDone, op.CustomersTotal, nanos(op.EndTime), string(report),
			ruleErrs, op.ID, int64(segmentation.OperationRunning))
		if err != nil {
			return fmt.Errorf("store: finish operation: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("store: finish operation %s: it is no longer running", op.ID)
		}
		// Locks the generation row: pages that delete or re-key customers
		// wait for this transaction, or have committed before it.
		gen, err := s.resultsGeneration(ctx, tx, s.forUpdate())
		if err != nil {
			return err
		}
		if err := s.writeResults(ctx, tx, op.ID, rs.Results); err != nil {
			return err
		}
		if gen != rs.Generation {
			// Customers were deleted or erased while the recompute ran: drop
			// the results it computed for ids that no longer exist.
			if _, err := tx.ExecContext(ctx, `DELETE FROM results WHERE customer_id NOT IN (SELECT customer_id FROM customers)`); err != nil {
				return fmt.Errorf("store: drop results of forgotten customers: %w", err)
			}
		}
		return s.writeSizes(ctx, tx, op, rs.Sizes)
	})
}

const resultCols = `customer_id, scored, recency_days, frequency, monetary, currency, r_score, f_score, m_score,
	rfm_segment, tier, stage, segments, operation_id`

// writeResults replaces the stored results with rs in large batches.
func (s *Store) writeResults(ctx context.Context, tx *sql.Tx, opID string, rs []segmentation.CustomerResult) error {
	clear := `DELETE FROM results`
	if s.db.Dialect == sqlstore.Postgres {
		clear = `TRUNCATE results`
	}
	if _, err := tx.ExecContext(ctx, clear); err != nil {
		return fmt.Errorf("store: clear results: %w", err)
	}
	if s.db.Dialect == sqlstore.Postgres {
		return s.writeResultsPostgres(ctx, tx, opID, rs)
	}
	return s.writeResultsSQLite(ctx, tx, opID, rs)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// sqliteBatch rows × 14 columns stays under SQLite's 32,766 parameters.
const sqliteBatch = 2000

func (s *Store) writeResultsSQLite(ctx context.Context, tx *sql.Tx, opID string, rs []segmentation.CustomerResult) error {
	const row = "(?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
	insert := func(n int) string {
		return `INSERT INTO results (` + resultCols + `) VALUES ` + strings.TrimSuffix(strings.Repeat(row+",", n), ",")
	}
	var full *sql.Stmt
	if len(rs) >= sqliteBatch {
		var err error
		if full, err = tx.PrepareContext(ctx, insert(sqliteBatch)); err != nil {
			return fmt.Errorf("store: prepare results insert: %w", err)
		}
		defer full.Close()
	}
	args := make([]any, 0, sqliteBatch*14)
	for start := 0; start < len(rs); start += sqliteBatch {
		end := min(start+sqliteBatch, len(rs))
		args = args[:0]
		for i := start; i < end; i++ {
			r := &rs[i]
			args = append(args, r.CustomerID, boolInt(r.Scored), r.RecencyDays, r.Frequency, r.Monetary, r.Currency,
				int64(r.RScore), int64(r.FScore), int64(r.MScore), int64(r.Segment), int64(r.Tier), int64(r.Stage),
				strings.Join(r.Segments, " "), opID)
		}
		var err error
		if end-start == sqliteBatch {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insert(end-start), args...)
		}
		if err != nil {
			return fmt.Errorf("store: insert results: %w", err)
		}
	}
	return nil
}

// postgresBatch rows go into one INSERT … SELECT FROM unnest(arrays).
const postgresBatch = 20000

func (s *Store) writeResultsPostgres(ctx context.Context, tx *sql.Tx, opID string, rs []segmentation.CustomerResult) error {
	const query = `INSERT INTO results (` + resultCols + `) SELECT *, $14::text FROM unnest($1::text[], $2::bigint[], $3::bigint[],
		$4::bigint[], $5::bigint[], $6::text[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[],
		$12::bigint[], $13::text[])`
	n := min(postgresBatch, len(rs))
	var (
		ids, cur, segs                       = make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
		scored, rec, freq, mon, r, f, m, rs2 = make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n)
		tier, stage                          = make([]int64, 0, n), make([]int64, 0, n)
	)
	for start := 0; start < len(rs); start += postgresBatch {
		end := min(start+postgresBatch, len(rs))
		ids, cur, segs = ids[:0], cur[:0], segs[:0]
		scored, rec, freq, mon, r, f, m, rs2, tier, stage = scored[:0], rec[:0], freq[:0], mon[:0], r[:0], f[:0], m[:0], rs2[:0], tier[:0], stage[:0]
		for i := start; i < end; i++ {
			x := &rs[i]
			ids = append(ids, x.CustomerID)
			scored = append(scored, boolInt(x.Scored))
			rec = append(rec, x.RecencyDays)
			freq = append(freq, x.Frequency)
			mon = append(mon, x.Monetary)
			cur = append(cur, x.Currency)
			r = append(r, int64(x.RScore))
			f = append(f, int64(x.FScore))
			m = append(m, int64(x.MScore))
			rs2 = append(rs2, int64(x.Segment))
			tier = append(tier, int64(x.Tier))
			stage = append(stage, int64(x.Stage))
			segs = append(segs, strings.Join(x.Segments, " "))
		}
		if _, err := tx.ExecContext(ctx, query, ids, scored, rec, freq, mon, cur, r, f, m, rs2, tier, stage, segs, opID); err != nil {
			return fmt.Errorf("store: insert results: %w", err)
		}
	}
	return nil
}

func (s *Store) writeSizes(ctx context.Context, tx *sql.Tx, op segmentation.Operation, sizes map[string]int64) error {
	if len(sizes) == 0 {
		return nil
	}
	var b strings.Builder
	args := make([]any, 0, 4*len(sizes))
	b.WriteString(`INSERT INTO size_history (operation_id, audience, as_of, size) VALUES `)
	first := true
	for a, n := range sizes {
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString("(?, ?, ?, ?)")
		args = append(args, op.ID, a, nanos(op.AsOf), n)
	}
	if _, err := tx.ExecContext(ctx, s.q(b.String()), args...); err != nil {
		return fmt.Errorf("store: insert size history: %w", err)
	}
	return nil
}

func scanResult(r interface{ Scan(...any) error }, out *segmentation.CustomerResult) error {
	var scored, rs, fs, ms, seg, tier, stage int64
	var segs string
	if err := r.Scan(&out.CustomerID, &scored, &out.RecencyDays, &out.Frequency, &out.Monetary, &out.Currency,
		&rs, &fs, &ms, &seg, &tier, &stage, &segs, &out.Operation); err != nil {
		return err
	}
	out.Scored = scored == 1
	out.RScore, out.FScore, out.MScore = uint8(rs), uint8(fs), uint8(ms)
	out.Segment, out.Tier, out.Stage = segmentation.Segment(seg), segmentation.Tier(tier), segmentation.Stage(stage)
	out.Segments = nil
	if segs != "" {
		out.Segments = strings.Split(segs, " ")
	}
	return nil
}

// GetResult implements segmentation.Store.
func (s *Store) GetResult(ctx context.Context, customerID string) (segmentation.CustomerResult, error) {
	var out segmentation.CustomerResult
	err := scanResult(s.db.QueryRowContext(ctx, s.q(`SELECT `+resultCols+` FROM results WHERE customer_id = ?`), customerID), &out)
	if errors.Is(err, sql.ErrNoRows) {
		return out, fmt.Errorf("%w: %s", segmentation.ErrCustomerNotFound, customerID)
	}
	if err != nil {
		return out, fmt.Errorf("store: get result: %w", err)
	}
	return out, nil
}

// LoadResults implements segmentation.Store.
func (s *Store) LoadResults(ctx context.Context, fn func(*segmentation.CustomerResult) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT `+resultCols+` FROM results ORDER BY customer_id`)
	if err != nil {
		return fmt.Errorf("store: load results: %w", err)
	}
	defer rows.Close()
	var r segmentation.CustomerResult
	for rows.Next() {
		if err := scanResult(rows, &r); err != nil {
			return fmt.Errorf("store: load results: %w", err)
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// SizeHistory implements segmentation.Store.
func (s *Store) SizeHistory(ctx context.Context, audiences []string, since time.Time, limit int) ([]segmentation.SizePoint, error) {
	query := `SELECT operation_id, audience, as_of, size FROM size_history WHERE operation_id IN (
		SELECT operation_id FROM operations WHERE state = ? AND as_of >= ? ORDER BY operation_id DESC LIMIT ?)`
	args := []any{int64(segmentation.OperationSucceeded), nanos(since), limit}
	if len(audiences) > 0 {
		query += ` AND audience IN (?` + strings.Repeat(", ?", len(audiences)-1) + `)`
		for _, a := range audiences {
			args = append(args, a)
		}
	}
	rows, err := s.db.QueryContext(ctx, s.q(query+` ORDER BY audience, as_of, operation_id`), args...)
	if err != nil {
		return nil, fmt.Errorf("store: size history: %w", err)
	}
	defer rows.Close()
	var out []segmentation.SizePoint
	for rows.Next() {
		var p segmentation.SizePoint
		var asOf int64
		if err := rows.Scan(&p.Operation, &p.Audience, &asOf, &p.Size); err != nil {
			return nil, fmt.Errorf("store: size history: %w", err)
		}
		p.AsOf = fromNanos(asOf)
		out = append(out, p)
	}
	return out, rows.Err()
}
