package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

const segmentCols = `segment_id, display_name, description, kind, rule, create_time, update_time, revision`

func scanSegment(r interface{ Scan(...any) error }) (segmentation.SegmentDef, error) {
	var (
		g      segmentation.SegmentDef
		kind   int64
		ct, ut int64
	)
	err := r.Scan(&g.ID, &g.DisplayName, &g.Description, &kind, &g.Rule, &ct, &ut, &g.Revision)
	g.Kind = segmentation.SegmentKind(kind)
	g.CreateTime, g.UpdateTime = fromNanos(ct), fromNanos(ut)
	return g, err
}

// CreateSegment implements segmentation.SegmentStore.
func (s *Store) CreateSegment(ctx context.Context, g segmentation.SegmentDef) (segmentation.SegmentDef, error) {
	g.Revision = 1
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO segments (`+segmentCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		g.ID, g.DisplayName, g.Description, int64(g.Kind), g.Rule, nanos(g.CreateTime), nanos(g.UpdateTime), g.Revision)
	if s.db.IsUniqueViolation(err) {
		return segmentation.SegmentDef{}, fmt.Errorf("%w: %s", segmentation.ErrSegmentAlreadyExists, g.ID)
	}
	if err != nil {
		return segmentation.SegmentDef{}, fmt.Errorf("store: create segment: %w", err)
	}
	return g, nil
}

func (s *Store) getSegment(ctx context.Context, q queryer, id, suffix string) (segmentation.SegmentDef, error) {
	g, err := scanSegment(q.QueryRowContext(ctx, s.q(`SELECT `+segmentCols+` FROM segments WHERE segment_id = ?`+suffix), id))
	if errors.Is(err, sql.ErrNoRows) {
		return g, fmt.Errorf("%w: %s", segmentation.ErrSegmentNotFound, id)
	}
	if err != nil {
		return g, fmt.Errorf("store: get segment: %w", err)
	}
	return g, nil
}

// GetSegment implements segmentation.SegmentStore.
func (s *Store) GetSegment(ctx context.Context, id string) (segmentation.SegmentDef, error) {
	return s.getSegment(ctx, s.db, id, "")
}

// ListSegments implements segmentation.SegmentStore.
func (s *Store) ListSegments(ctx context.Context, afterID string, limit int) ([]segmentation.SegmentDef, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+segmentCols+` FROM segments WHERE segment_id > ? ORDER BY segment_id LIMIT ?`), afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list segments: %w", err)
	}
	defer rows.Close()
	var out []segmentation.SegmentDef
	for rows.Next() {
		g, err := scanSegment(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list segments: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// UpdateSegment implements segmentation.SegmentStore.
func (s *Store) UpdateSegment(ctx context.Context, id string, fn func(*segmentation.SegmentDef) error) (segmentation.SegmentDef, error) {
	var out segmentation.SegmentDef
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		g, err := s.getSegment(ctx, tx, id, s.forUpdate())
		if err != nil {
			return err
		}
		if err := fn(&g); err != nil {
			return err
		}
		g.ID = id
		g.Revision++
		_, err = tx.ExecContext(ctx, s.q(`UPDATE segments SET display_name = ?, description = ?, rule = ?, update_time = ?, revision = ?
			WHERE segment_id = ?`), g.DisplayName, g.Description, g.Rule, nanos(g.UpdateTime), g.Revision, id)
		if err != nil {
			return fmt.Errorf("store: update segment: %w", err)
		}
		out = g
		return nil
	})
	return out, err
}

// DeleteSegment implements segmentation.SegmentStore.
func (s *Store) DeleteSegment(ctx context.Context, id string, check func(segmentation.SegmentDef) error) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		g, err := s.getSegment(ctx, tx, id, s.forUpdate())
		if err != nil {
			return err
		}
		if err := check(g); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM static_members WHERE segment_id = ?`), id); err != nil {
			return fmt.Errorf("store: delete segment members: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM segments WHERE segment_id = ?`), id); err != nil {
			return fmt.Errorf("store: delete segment: %w", err)
		}
		return nil
	})
}

func (s *Store) changeMembers(ctx context.Context, id string, customers []string, add bool) (changed, total int64, err error) {
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		changed, total = 0, 0
		g, err := s.getSegment(ctx, tx, id, s.forUpdate())
		if err != nil {
			return err
		}
		if g.Kind != segmentation.SegmentKindStatic {
			return fmt.Errorf("%w: %s is a rule segment", segmentation.ErrNotStaticSegment, id)
		}
		query := s.q(`DELETE FROM static_members WHERE segment_id = ? AND customer_id = ?`)
		if add {
			query = s.q(`INSERT INTO static_members (segment_id, customer_id) VALUES (?, ?) ON CONFLICT DO NOTHING`)
		}
		stmt, err := tx.PrepareContext(ctx, query)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, c := range customers {
			res, err := stmt.ExecContext(ctx, id, c)
			if err != nil {
				return fmt.Errorf("store: change members: %w", err)
			}
			n, _ := res.RowsAffected()
			changed += n
		}
		return tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM static_members WHERE segment_id = ?`), id).Scan(&total)
	})
	return changed, total, err
}

// AddStaticMembers implements segmentation.SegmentStore.
func (s *Store) AddStaticMembers(ctx context.Context, id string, customers []string) (int64, int64, error) {
	return s.changeMembers(ctx, id, customers, true)
}

// RemoveStaticMembers implements segmentation.SegmentStore.
func (s *Store) RemoveStaticMembers(ctx context.Context, id string, customers []string) (int64, int64, error) {
	return s.changeMembers(ctx, id, customers, false)
}

// StaticMembers implements segmentation.SegmentStore.
func (s *Store) StaticMembers(ctx context.Context) (map[string][]string, error) {
	out := map[string][]string{}
	rows, err := s.db.QueryContext(ctx, `SELECT g.segment_id, m.customer_id FROM segments g
		LEFT JOIN static_members m ON m.segment_id = g.segment_id
		WHERE g.kind = 2 ORDER BY g.segment_id, m.customer_id`)
	if err != nil {
		return nil, fmt.Errorf("store: static members: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seg string
		var c sql.NullString
		if err := rows.Scan(&seg, &c); err != nil {
			return nil, fmt.Errorf("store: static members: %w", err)
		}
		if c.Valid {
			out[seg] = append(out[seg], c.String)
		} else {
			out[seg] = nil
		}
	}
	return out, rows.Err()
}
