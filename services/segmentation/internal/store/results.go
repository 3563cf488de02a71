package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// FinishOperation implements segmentation.OperationStore.
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
	return s.db.InConnTx(ctx, func(conn *sql.Conn, tx *sql.Tx) error {
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
		if s.unchangedSince(ctx, tx, op.ID, gen, &rs) {
			err = s.writeChangedResults(ctx, tx, op.ID, &rs)
		} else {
			err = s.writeResults(ctx, conn, tx, op.ID, &rs)
		}
		if err != nil {
			return err
		}
		if gen != rs.Generation {
			// Customers were deleted or erased while the recompute ran: move
			// the results of erased ones to their anonymous ids, as the
			// pages did with the stored results, and drop the results it
			// computed for ids that no longer exist.
			if err := s.moveRekeyed(ctx, tx, rs.Generation); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM results WHERE customer_id NOT IN (SELECT customer_id FROM customers)`); err != nil {
				return fmt.Errorf("store: drop results of forgotten customers: %w", err)
			}
		}
		// Every recorded re-key is at or below gen, which the next
		// recompute reads or passes.
		if _, err := tx.ExecContext(ctx, `DELETE FROM rekeys`); err != nil {
			return fmt.Errorf("store: drop re-keys: %w", err)
		}
		if err := s.writeSizes(ctx, tx, op, rs.Sizes); err != nil {
			return err
		}
		return s.writeChanges(ctx, tx, op, &rs, gen != rs.Generation)
	})
}

// unchangedSince reports whether the stored results are rs.Base's, not
// touched by a page since (generation gen, locked, is rs.Generation and
// rs.BaseGeneration), so that writing rs's changed rows is enough. Any
// doubt (an error reading the latest operation) answers no.
func (s *Store) unchangedSince(ctx context.Context, tx *sql.Tx, opID string, gen int64, rs *segmentation.ResultSet) bool {
	if rs.Base == "" || gen != rs.Generation || gen != rs.BaseGeneration {
		return false
	}
	var latest string
	err := tx.QueryRowContext(ctx, s.q(`SELECT operation_id FROM operations WHERE state = ? AND operation_id <> ?
		ORDER BY operation_id DESC LIMIT 1`), int64(segmentation.OperationSucceeded), opID).Scan(&latest)
	return err == nil && latest == rs.Base
}

// writeChangedResults deletes the results of rs.Removed and upserts rs's
// rows at rs.Changed: on SQLite in batches of multi-row statements, on
// PostgreSQL in two statements over arrays.
func (s *Store) writeChangedResults(ctx context.Context, tx *sql.Tx, opID string, rs *segmentation.ResultSet) error {
	if s.db.Dialect == sqlstore.Postgres {
		return writeChangedResultsPostgres(ctx, tx, opID, rs)
	}
	for start := 0; start < len(rs.Removed); start += sqliteBatch {
		ids := rs.Removed[start:min(start+sqliteBatch, len(rs.Removed))]
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
		query := `DELETE FROM results WHERE customer_id IN (?` + strings.Repeat(",?", len(ids)-1) + `)`
		if _, err := tx.ExecContext(ctx, s.q(query), args...); err != nil {
			return fmt.Errorf("store: delete results: %w", err)
		}
	}
	var (
		r    segmentation.CustomerResult
		segs segmentsColumn
		args = make([]any, 0, sqliteBatch*len(resultColumnNames))
	)
	for start := 0; start < len(rs.Changed); start += sqliteBatch {
		rows := rs.Changed[start:min(start+sqliteBatch, len(rs.Changed))]
		args = args[:0]
		for _, i := range rows {
			rs.Row(i, &r)
			args = appendResultArgs(args, &r, &segs, opID)
		}
		if _, err := tx.ExecContext(ctx, s.q(resultsInsert(len(rows))+resultsUpsert), args...); err != nil {
			return fmt.Errorf("store: upsert results: %w", err)
		}
	}
	return nil
}

// writeChangedResultsPostgres is writeChangedResults on PostgreSQL: one
// DELETE and one INSERT … SELECT FROM unnest(…) of column arrays, which
// PostgreSQL parses and plans once, however many rows.
func writeChangedResultsPostgres(ctx context.Context, tx *sql.Tx, opID string, rs *segmentation.ResultSet) error {
	if len(rs.Removed) > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM results WHERE customer_id = ANY($1::text[])`, rs.Removed); err != nil {
			return fmt.Errorf("store: delete results: %w", err)
		}
	}
	if len(rs.Changed) == 0 {
		return nil
	}
	n := len(rs.Changed)
	var (
		r                            segmentation.CustomerResult
		segs                         segmentsColumn
		ids, currency, segments, ops = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		ints                         [10][]int64 // scored … stage, in resultCols order
	)
	for c := range ints {
		ints[c] = make([]int64, n)
	}
	for k, i := range rs.Changed {
		rs.Row(i, &r)
		ids[k], currency[k], segments[k], ops[k] = r.CustomerID, r.Currency, segs.encode(r.Segments), opID
		for c, v := range [10]int64{boolInt(r.Scored), r.RecencyDays, r.Frequency, r.Monetary, int64(r.RScore), int64(r.FScore),
			int64(r.MScore), int64(r.Segment), int64(r.Tier), int64(r.Stage)} {
			ints[c][k] = v
		}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO results (`+resultCols+`)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::bigint[],
			$8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::text[], $14::text[])`+resultsUpsert,
		ids, ints[0], ints[1], ints[2], ints[3], currency, ints[4], ints[5], ints[6], ints[7], ints[8], ints[9], segments, ops)
	if err != nil {
		return fmt.Errorf("store: upsert results: %w", err)
	}
	return nil
}

// resultsUpsert makes a results insert replace the rows it conflicts with.
var resultsUpsert = func() string {
	var b strings.Builder
	b.WriteString(` ON CONFLICT (customer_id) DO UPDATE SET `)
	for i, c := range resultColumnNames[1:] {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c + " = excluded." + c)
	}
	return b.String()
}()

// appendResultArgs appends r's columns (resultCols) to args.
func appendResultArgs(args []any, r *segmentation.CustomerResult, segs *segmentsColumn, opID string) []any {
	return append(args, r.CustomerID, boolInt(r.Scored), r.RecencyDays, r.Frequency, r.Monetary, r.Currency,
		int64(r.RScore), int64(r.FScore), int64(r.MScore), int64(r.Segment), int64(r.Tier), int64(r.Stage),
		segs.encode(r.Segments), opID)
}

// moveRekeyed re-keys the results of customers erased by pages after
// results generation since, in the order the pages erased them.
func (s *Store) moveRekeyed(ctx context.Context, tx *sql.Tx, since int64) error {
	rows, err := tx.QueryContext(ctx, s.q(`SELECT old_id, new_id FROM rekeys WHERE generation > ? ORDER BY generation, position`), since)
	if err != nil {
		return fmt.Errorf("store: read re-keys: %w", err)
	}
	var moves [][2]string
	for rows.Next() {
		var m [2]string
		if err := rows.Scan(&m[0], &m[1]); err != nil {
			rows.Close()
			return fmt.Errorf("store: read re-keys: %w", err)
		}
		moves = append(moves, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: read re-keys: %w", err)
	}
	exec := func(ctx context.Context, query string, args ...any) error {
		_, err := tx.ExecContext(ctx, s.q(query), args...)
		return err
	}
	for _, m := range moves {
		if err := moveResult(ctx, exec, m[0], m[1]); err != nil {
			return fmt.Errorf("store: move result of %s: %w", m[0], err)
		}
	}
	return nil
}

const resultCols = `customer_id, scored, recency_days, frequency, monetary, currency, r_score, f_score, m_score,
	rfm_segment, tier, stage, segments, operation_id`

// writeResults replaces the stored results with rs's.
func (s *Store) writeResults(ctx context.Context, conn *sql.Conn, tx *sql.Tx, opID string, rs *segmentation.ResultSet) error {
	if s.db.Dialect == sqlstore.Postgres {
		if _, err := tx.ExecContext(ctx, `TRUNCATE results`); err != nil {
			return fmt.Errorf("store: clear results: %w", err)
		}
		return s.writeResultsPostgres(ctx, conn, opID, rs)
	}
	// Without a WHERE clause SQLite empties the table in one step.
	if _, err := tx.ExecContext(ctx, `DELETE FROM results`); err != nil {
		return fmt.Errorf("store: clear results: %w", err)
	}
	return s.writeResultsSQLite(ctx, tx, opID, rs)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// segmentsColumn encodes result rows' segment lists (ids joined by
// spaces), sharing one string per distinct list: a recompute's million
// rows have few distinct combinations.
type segmentsColumn struct {
	buf  []byte
	seen map[string]string
}

func (c *segmentsColumn) encode(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	c.buf = c.buf[:0]
	for i, id := range ids {
		if i > 0 {
			c.buf = append(c.buf, ' ')
		}
		c.buf = append(c.buf, id...)
	}
	if v, ok := c.seen[string(c.buf)]; ok {
		return v
	}
	v := string(c.buf)
	if c.seen == nil {
		c.seen = map[string]string{}
	}
	if len(c.seen) < internLimit {
		c.seen[v] = v
	}
	return v
}

// sqliteBatch rows × 14 columns stays under SQLite's 32,766 parameters.
// (Plain ? placeholders: the driver looks each numbered one up by name,
// which costs time quadratic in their count.)
const sqliteBatch = 2000

// resultsInsert is an INSERT of n result rows.
func resultsInsert(n int) string {
	const row = "(?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
	return `INSERT INTO results (` + resultCols + `) VALUES ` + strings.TrimSuffix(strings.Repeat(row+",", n), ",")
}

func (s *Store) writeResultsSQLite(ctx context.Context, tx *sql.Tx, opID string, rs *segmentation.ResultSet) error {
	total := rs.Len()
	var full *sql.Stmt
	if total >= sqliteBatch {
		var err error
		if full, err = tx.PrepareContext(ctx, resultsInsert(sqliteBatch)); err != nil {
			return fmt.Errorf("store: prepare results insert: %w", err)
		}
		defer full.Close()
	}
	var (
		r    segmentation.CustomerResult
		segs segmentsColumn
		args = make([]any, 0, sqliteBatch*14)
	)
	for start := 0; start < total; start += sqliteBatch {
		end := min(start+sqliteBatch, total)
		args = args[:0]
		for i := start; i < end; i++ {
			rs.Row(i, &r)
			args = appendResultArgs(args, &r, &segs, opID)
		}
		var err error
		if end-start == sqliteBatch {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, resultsInsert(end-start), args...)
		}
		if err != nil {
			return fmt.Errorf("store: insert results: %w", err)
		}
	}
	return nil
}

// resultReadCols are resultCols as read back: a row's operation is the
// latest successful recompute, whose results the table holds (a row it
// did not change was written by an earlier one).
var resultReadCols = strings.TrimSuffix(resultCols, "operation_id") + `(SELECT operation_id FROM operations WHERE state = ` +
	strconv.Itoa(int(segmentation.OperationSucceeded)) + ` ORDER BY operation_id DESC LIMIT 1)`

// resultColumnNames are resultCols as a list, for COPY.
var resultColumnNames = []string{"customer_id", "scored", "recency_days", "frequency", "monetary", "currency",
	"r_score", "f_score", "m_score", "rfm_segment", "tier", "stage", "segments", "operation_id"}

// writeResultsPostgres streams the rows into results with COPY, on the
// connection of the transaction that emptied it.
func (s *Store) writeResultsPostgres(ctx context.Context, conn *sql.Conn, opID string, rs *segmentation.ResultSet) error {
	var (
		r    segmentation.CustomerResult
		segs segmentsColumn
		i    int
	)
	total := rs.Len()
	_, err := sqlstore.CopyRows(ctx, conn, "results", resultColumnNames, func(v []any) (bool, error) {
		if i == total {
			return false, nil
		}
		rs.Row(i, &r)
		i++
		v[0], v[1], v[2], v[3], v[4], v[5] = r.CustomerID, boolInt(r.Scored), r.RecencyDays, r.Frequency, r.Monetary, r.Currency
		v[6], v[7], v[8], v[9], v[10], v[11] = int64(r.RScore), int64(r.FScore), int64(r.MScore), int64(r.Segment), int64(r.Tier), int64(r.Stage)
		v[12], v[13] = segs.encode(r.Segments), opID
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("store: insert results: %w", err)
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

// GetResult implements segmentation.ResultStore.
func (s *Store) GetResult(ctx context.Context, customerID string) (segmentation.CustomerResult, error) {
	var out segmentation.CustomerResult
	err := scanResult(s.db.QueryRowContext(ctx, s.q(`SELECT `+resultReadCols+` FROM results WHERE customer_id = ?`), customerID), &out)
	if errors.Is(err, sql.ErrNoRows) {
		return out, fmt.Errorf("%w: %s", segmentation.ErrCustomerNotFound, customerID)
	}
	if err != nil {
		return out, fmt.Errorf("store: get result: %w", err)
	}
	return out, nil
}

// LoadResults implements segmentation.ResultStore.
func (s *Store) LoadResults(ctx context.Context, fn func(*segmentation.CustomerResult) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT `+resultReadCols+` FROM results ORDER BY customer_id`)
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

// SizeHistory implements segmentation.ResultStore.
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
