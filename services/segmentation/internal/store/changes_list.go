package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// changeSet is one recompute's changes of one audience.
type changeSet struct {
	id             int64
	operation, aud string
	asOf           int64
}

// ListAudienceChanges implements segmentation.AudienceChangeStore: it
// walks the sets matching q in order from q.After's and reads each one's
// changes in customer order until the page is full.
func (s *Store) ListAudienceChanges(ctx context.Context, q segmentation.AudienceChangeQuery) ([]segmentation.AudienceChange, error) {
	first, afterCustomer, err := s.changePosition(ctx, q.After)
	if err != nil {
		return nil, err
	}
	sets, err := s.changeSets(ctx, q, first)
	if err != nil {
		return nil, err
	}
	kind := ""
	switch q.Kind {
	case segmentation.ChangesEntered:
		kind = ` AND entered = 1`
	case segmentation.ChangesLeft:
		kind = ` AND entered = 0`
	}
	query := s.q(`SELECT customer_id, entered FROM audience_changes WHERE set_id = ? AND customer_id > ?` + kind +
		` ORDER BY customer_id LIMIT ?`)
	var out []segmentation.AudienceChange
	for _, set := range sets {
		if len(out) >= q.Limit {
			break
		}
		after := ""
		if set.id == first {
			after = afterCustomer
		}
		if out, err = s.appendChanges(ctx, out, query, set, after, q.Limit-len(out)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// changePosition returns the first set to list and the customer to list
// it after: the set of position's operation and audience, or, if it is
// gone, the set after where it was.
func (s *Store) changePosition(ctx context.Context, pos segmentation.AudienceChange) (int64, string, error) {
	if pos == (segmentation.AudienceChange{}) {
		return 0, "", nil
	}
	var id int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT set_id FROM audience_change_sets WHERE operation_id = ? AND audience = ?`),
		pos.Operation, pos.Audience).Scan(&id)
	if err == nil {
		return id, pos.CustomerID, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, "", fmt.Errorf("store: list audience changes: %w", err)
	}
	err = s.db.QueryRowContext(ctx, s.q(`SELECT COALESCE(MAX(set_id), 0) FROM audience_change_sets
		WHERE operation_id < ? OR (operation_id = ? AND audience < ?)`), pos.Operation, pos.Operation, pos.Audience).Scan(&id)
	if err != nil {
		return 0, "", fmt.Errorf("store: list audience changes: %w", err)
	}
	return id + 1, "", nil
}

// changeSets returns the sets from first on that match q's operations and
// audiences, in order.
func (s *Store) changeSets(ctx context.Context, q segmentation.AudienceChangeQuery, first int64) ([]changeSet, error) {
	query := `SELECT s.set_id, s.operation_id, s.audience, o.as_of FROM audience_change_sets s
		JOIN operations o ON o.operation_id = s.operation_id WHERE s.set_id >= ?`
	args := []any{first}
	if q.Operation != "" {
		query, args = query+` AND s.operation_id = ?`, append(args, q.Operation)
	} else if q.AfterOperation != "" {
		query, args = query+` AND s.operation_id > ?`, append(args, q.AfterOperation)
	}
	if len(q.Audiences) > 0 {
		query += ` AND s.audience IN (?` + strings.Repeat(", ?", len(q.Audiences)-1) + `)`
		for _, a := range q.Audiences {
			args = append(args, a)
		}
	}
	rows, err := s.db.QueryContext(ctx, s.q(query+` ORDER BY s.set_id`), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list audience change sets: %w", err)
	}
	defer rows.Close()
	var out []changeSet
	for rows.Next() {
		var c changeSet
		if err := rows.Scan(&c.id, &c.operation, &c.aud, &c.asOf); err != nil {
			return nil, fmt.Errorf("store: list audience change sets: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// appendChanges appends up to limit changes of set after customer after.
func (s *Store) appendChanges(ctx context.Context, out []segmentation.AudienceChange, query string, set changeSet,
	after string, limit int) ([]segmentation.AudienceChange, error) {
	rows, err := s.db.QueryContext(ctx, query, set.id, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list audience changes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c := segmentation.AudienceChange{Operation: set.operation, Audience: set.aud, AsOf: fromNanos(set.asOf)}
		var entered int64
		if err := rows.Scan(&c.CustomerID, &entered); err != nil {
			return nil, fmt.Errorf("store: list audience changes: %w", err)
		}
		c.Entered = entered == 1
		out = append(out, c)
	}
	return out, rows.Err()
}
