package store

import (
	"context"
	"fmt"
	"time"

	"github.com/tenurehq/tenure/services/loyalty/internal/loyalty"
)

// Report implements loyalty.ReportStore.
func (s *Store) Report(ctx context.Context, at time.Time) (loyalty.Report, error) {
	r := loyalty.Report{Tiers: map[string]int64{}}
	now := unixNano(at)
	err := s.db.QueryRowContext(ctx, s.q(`SELECT
			COALESCE(SUM(CASE WHEN available_at <= ? AND (expires_at = 0 OR expires_at > ?) THEN remaining ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN available_at > ? THEN remaining ELSE 0 END), 0)
		FROM buckets WHERE remaining > 0`), now, now, now).Scan(&r.Available, &r.Pending)
	if err != nil {
		return r, fmt.Errorf("store: report balances: %w", err)
	}
	err = s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(skipped_orders), 0) FROM members`).Scan(&r.SkippedOrders)
	if err != nil {
		return r, fmt.Errorf("store: report skipped orders: %w", err)
	}
	if err := s.reportMonths(ctx, &r); err != nil {
		return r, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT tier, COUNT(*) FROM members WHERE enrolled = 1 GROUP BY tier`)
	if err != nil {
		return r, fmt.Errorf("store: report tiers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var tier string
		var n int64
		if err := rows.Scan(&tier, &n); err != nil {
			return r, err
		}
		r.Tiers[tier] = n
	}
	return r, rows.Err()
}

// reportMonths sums the entries per month and type.
func (s *Store) reportMonths(ctx context.Context, r *loyalty.Report) error {
	rows, err := s.db.QueryContext(ctx, `SELECT month, type, SUM(points), SUM(unrecovered) FROM entries
		GROUP BY month, type ORDER BY month`)
	if err != nil {
		return fmt.Errorf("store: report months: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var month, typ string
		var points, unrecovered int64
		if err := rows.Scan(&month, &typ, &points, &unrecovered); err != nil {
			return err
		}
		if n := len(r.Months); n == 0 || r.Months[n-1].Month != month {
			r.Months = append(r.Months, loyalty.MonthTotals{Month: month})
		}
		m := &r.Months[len(r.Months)-1]
		switch loyalty.EntryType(typ) {
		case loyalty.EntryEarn, loyalty.EntryAction:
			m.Earned += points
		case loyalty.EntryRedeem, loyalty.EntryCancel:
			m.Redeemed -= points
		case loyalty.EntryExpire:
			m.Expired -= points
		case loyalty.EntryReverse:
			m.Reversed -= points
			r.Unrecovered += unrecovered
		}
	}
	return rows.Err()
}
