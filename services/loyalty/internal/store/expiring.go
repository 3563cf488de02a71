package store

import (
	"context"
	"fmt"
	"time"

	"github.com/tenurehq/tenure/services/loyalty/internal/loyalty"
)

// ExpiringMembers implements loyalty.ExpiringStore, over the buckets'
// primary key order (member, bucket): one range scan from after.
func (s *Store) ExpiringMembers(ctx context.Context, t, until time.Time, after string, limit int) ([]loyalty.ExpiringMember, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT b.member_id, CAST(SUM(b.remaining) AS BIGINT), MIN(b.expires_at) FROM buckets b
		JOIN members m ON m.member_id = b.member_id AND m.enrolled = 1
		WHERE b.member_id > ? AND b.remaining > 0 AND b.available_at <= ? AND b.expires_at > ? AND b.expires_at <= ?
		GROUP BY b.member_id ORDER BY b.member_id LIMIT ?`), after, unixNano(t), unixNano(t), unixNano(until), limit)
	if err != nil {
		return nil, fmt.Errorf("store: expiring members: %w", err)
	}
	defer rows.Close()
	var out []loyalty.ExpiringMember
	for rows.Next() {
		var m loyalty.ExpiringMember
		var earliest int64
		if err := rows.Scan(&m.MemberID, &m.Points, &earliest); err != nil {
			return nil, fmt.Errorf("store: expiring members: %w", err)
		}
		m.Earliest = timeOf(earliest)
		out = append(out, m)
	}
	return out, rows.Err()
}
