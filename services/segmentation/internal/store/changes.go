package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
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

// changeBatch rows × 3 columns stays under SQLite's 32,766 parameters.
const changeBatch = 10000

// writeChanges stores rs's audience changes as op's, in FinishOperation's
// transaction, and drops those older than the retention. The changes must
// be against the latest successful recompute before op; with none, op is
// the baseline and records none, as when rs.ChangesSince is empty (no
// changes were computed). It sorts rs.Changes by audience and customer.
func (s *Store) writeChanges(ctx context.Context, tx *sql.Tx, op segmentation.Operation, rs *segmentation.ResultSet, forgot bool) error {
	if err := s.dropOldChanges(ctx, tx, op.EndTime); err != nil {
		return err
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
	changes := rs.Changes
	slices.SortFunc(changes, func(a, b segmentation.AudienceChange) int {
		return cmp.Or(strings.Compare(a.Audience, b.Audience), strings.Compare(a.CustomerID, b.CustomerID))
	})
	sets, err := s.insertChangeSets(ctx, tx, op.ID, changes)
	if err != nil {
		return err
	}
	if s.db.Dialect == sqlstore.Postgres {
		err = insertChangesPostgres(ctx, tx, sets, changes)
	} else {
		err = insertChangesSQLite(ctx, tx, sets, changes)
	}
	if err != nil || !forgot {
		return err
	}
	// Customers deleted or erased while the recompute ran: their changes go
	// with their results.
	if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM audience_changes WHERE set_id IN (
		SELECT set_id FROM audience_change_sets WHERE operation_id = ?)
		AND customer_id NOT IN (SELECT customer_id FROM customers)`), op.ID); err != nil {
		return fmt.Errorf("store: drop audience changes of forgotten customers: %w", err)
	}
	return nil
}

// dropOldChanges drops the changes of recomputes created longer than the
// retention before now.
func (s *Store) dropOldChanges(ctx context.Context, tx *sql.Tx, now time.Time) error {
	retention := s.changeRetention
	if retention <= 0 {
		retention = DefaultChangeRetention
	}
	old := `SELECT set_id FROM audience_change_sets WHERE operation_id IN (
		SELECT operation_id FROM operations WHERE create_time < ?)`
	for _, q := range []string{`DELETE FROM audience_changes WHERE set_id IN (` + old + `)`,
		`DELETE FROM audience_change_sets WHERE set_id IN (` + old + `)`} {
		if _, err := tx.ExecContext(ctx, s.q(q), nanos(now.Add(-retention))); err != nil {
			return fmt.Errorf("store: drop old audience changes: %w", err)
		}
	}
	return nil
}

// insertChangeSets stores a set for each audience of changes (sorted by
// audience), numbered after every stored set, and returns each change's
// set id.
func (s *Store) insertChangeSets(ctx context.Context, tx *sql.Tx, opID string, changes []segmentation.AudienceChange) ([]int64, error) {
	if len(changes) == 0 {
		return nil, nil
	}
	var next int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(set_id), 0) FROM audience_change_sets`).Scan(&next); err != nil {
		return nil, fmt.Errorf("store: number audience change sets: %w", err)
	}
	ids := make([]int64, len(changes))
	var query strings.Builder
	var args []any
	query.WriteString(`INSERT INTO audience_change_sets (set_id, operation_id, audience) VALUES `)
	for i := range changes {
		if i == 0 || changes[i].Audience != changes[i-1].Audience {
			next++
			if len(args) > 0 {
				query.WriteString(", ")
			}
			query.WriteString("(?, ?, ?)")
			args = append(args, next, opID, changes[i].Audience)
		}
		ids[i] = next
	}
	if _, err := tx.ExecContext(ctx, s.q(query.String()), args...); err != nil {
		return nil, fmt.Errorf("store: insert audience change sets: %w", err)
	}
	return ids, nil
}

// insertChangesSQLite inserts the changes in batches of multi-row
// statements, the full batch prepared once.
func insertChangesSQLite(ctx context.Context, tx *sql.Tx, sets []int64, changes []segmentation.AudienceChange) error {
	insert := func(n int) string {
		return `INSERT INTO audience_changes (set_id, customer_id, entered) VALUES (?,?,?)` + strings.Repeat(",(?,?,?)", n-1)
	}
	var full *sql.Stmt
	if len(changes) >= changeBatch {
		var err error
		if full, err = tx.PrepareContext(ctx, insert(changeBatch)); err != nil {
			return fmt.Errorf("store: prepare audience changes insert: %w", err)
		}
		defer full.Close()
	}
	args := make([]any, 0, 3*min(changeBatch, len(changes)))
	for start := 0; start < len(changes); start += changeBatch {
		end := min(start+changeBatch, len(changes))
		args = args[:0]
		for i := start; i < end; i++ {
			args = append(args, sets[i], changes[i].CustomerID, boolInt(changes[i].Entered))
		}
		var err error
		if end-start == changeBatch {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insert(end-start), args...)
		}
		if err != nil {
			return fmt.Errorf("store: insert audience changes: %w", err)
		}
	}
	return nil
}

// insertChangesPostgres inserts the changes with one statement over
// column arrays.
func insertChangesPostgres(ctx context.Context, tx *sql.Tx, sets []int64, changes []segmentation.AudienceChange) error {
	if len(changes) == 0 {
		return nil
	}
	ids, entered := make([]string, len(changes)), make([]int64, len(changes))
	for i := range changes {
		ids[i], entered[i] = changes[i].CustomerID, boolInt(changes[i].Entered)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO audience_changes (set_id, customer_id, entered)
		SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[])`, sets, ids, entered)
	if err != nil {
		return fmt.Errorf("store: insert audience changes: %w", err)
	}
	return nil
}
