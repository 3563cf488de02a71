package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/tenurehq/tenure/services/loyalty/internal/loyalty"
)

// save writes the changes of every account the transaction touched, a
// table at a time in multi-row statements. Buckets and orders the
// transaction created are plain inserts (COPY on PostgreSQL): a bucket's id
// is the number of the entry that created it, so the buckets numbered from
// the transaction's first entry on are new, and so are the orders that
// earned them.
func (l *txLedger) save(ctx context.Context) error {
	var members, buckets, newBuckets, orders, newOrders, counts, entries [][]any
	// In key order, each statement's rows go to neighbouring places of the
	// tables' indexes.
	slices.SortFunc(l.touched, func(x, y *loyalty.Account) int { return strings.Compare(x.Member.ID, y.Member.ID) })
	for _, a := range l.touched {
		c := a.Changes()
		id := c.Member.ID
		if c.MemberChanged {
			members = append(members, memberArgs(c.Member))
		}
		first := int64(1<<63 - 1)
		if len(c.Entries) > 0 {
			first = c.Entries[0].Seq
		}
		for _, b := range c.Buckets {
			row := []any{id, b.ID, b.Points, b.Remaining, unixNano(b.EarnedAt), unixNano(b.AvailableAt),
				unixNano(b.ExpiresAt), b.OrderID, boolInt(b.Qualifying), b.Reversed}
			if b.ID >= first {
				newBuckets = append(newBuckets, row)
			} else {
				buckets = append(buckets, row)
			}
		}
		for _, o := range c.Orders {
			row := []any{id, o.ID, o.Currency, o.TotalMinor, o.Earned, o.Refunded, o.Bucket}
			if o.Bucket >= first {
				newOrders = append(newOrders, row)
			} else {
				orders = append(orders, row)
			}
		}
		for k, n := range c.Counts {
			counts = append(counts, []any{id, k, n})
		}
		for _, e := range c.Entries {
			entries = append(entries, append([]any{id}, entryArgs(e)...))
		}
		a.Saved()
	}
	writes := []struct {
		table, cols, suffix string
		rows                [][]any
	}{
		{"members", memberCols, `ON CONFLICT (member_id) DO UPDATE SET enrolled = excluded.enrolled, tier = excluded.tier,
			tier_since = excluded.tier_since, birthday = excluded.birthday, time_zone = excluded.time_zone,
			lifetime = excluded.lifetime, seq = excluded.seq, last_birthday_year = excluded.last_birthday_year,
			skipped_orders = excluded.skipped_orders, create_time = excluded.create_time, matured_at = excluded.matured_at`, members},
		{"buckets", "member_id, " + bucketCols,
			`ON CONFLICT (member_id, bucket_id) DO UPDATE SET remaining = excluded.remaining, reversed = excluded.reversed`, buckets},
		{"buckets", "member_id, " + bucketCols, "", newBuckets},
		{"orders", orderCols, `ON CONFLICT (member_id, order_id) DO UPDATE SET refunded = excluded.refunded`, orders},
		{"orders", orderCols, "", newOrders},
		{"action_counts", "member_id, key, count", `ON CONFLICT (member_id, key) DO UPDATE SET count = excluded.count`, counts},
		{"entries", "member_id, " + entryCols, "", entries},
	}
	for _, w := range writes {
		if err := l.writeRows(ctx, w.table, w.cols, w.suffix, w.rows); err != nil {
			return err
		}
	}
	return nil
}

func (l *txLedger) exec(ctx context.Context, query string, args ...any) error {
	st, err := l.s.db.TxStmt(ctx, l.tx, l.s.q(query))
	if err != nil {
		return err
	}
	_, err = st.ExecContext(ctx, args...)
	return err
}

const orderCols = "member_id, order_id, currency, total_minor, earned, refunded, bucket_id"

const entryCols = `seq, type, points, unrecovered, buckets, event_id, order_id, reward_redemption, operator, reason, action,
	ref, programme_version, time, month, cancelled`

func entryArgs(e loyalty.Entry) []any {
	src := e.Source
	return []any{e.Seq, string(e.Type), e.Points, e.Unrecovered, encodeChanges(e.Buckets), src.EventID, src.OrderID,
		src.RewardRedemption, src.Operator, src.Reason, src.Action, src.Ref, e.ProgrammeVersion, unixNano(e.Time),
		e.Time.UTC().Format("2006-01"), boolInt(e.Cancelled)}
}

// encodeChanges writes bucket changes as "id:points id:points".
func encodeChanges(cs []loyalty.BucketChange) string {
	var b strings.Builder
	for i, c := range cs {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatInt(c.Bucket, 10))
		b.WriteByte(':')
		b.WriteString(strconv.FormatInt(c.Points, 10))
	}
	return b.String()
}

func decodeChanges(s string) ([]loyalty.BucketChange, error) {
	var out []loyalty.BucketChange
	for _, f := range strings.Fields(s) {
		id, pts, ok := strings.Cut(f, ":")
		b, err1 := strconv.ParseInt(id, 10, 64)
		p, err2 := strconv.ParseInt(pts, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("store: bad bucket change %q", f)
		}
		out = append(out, loyalty.BucketChange{Bucket: b, Points: p})
	}
	return out, nil
}

// scanEntry reads entryCols.
func scanEntry(row interface{ Scan(...any) error }) (loyalty.Entry, error) {
	var e loyalty.Entry
	var typ, changes, month string
	var t int64
	var cancelled int
	src := &e.Source
	if err := row.Scan(&e.Seq, &typ, &e.Points, &e.Unrecovered, &changes, &src.EventID, &src.OrderID, &src.RewardRedemption,
		&src.Operator, &src.Reason, &src.Action, &src.Ref, &e.ProgrammeVersion, &t, &month, &cancelled); err != nil {
		return e, err
	}
	e.Type, e.Time, e.Cancelled = loyalty.EntryType(typ), timeOf(t), cancelled == 1
	var err error
	e.Buckets, err = decodeChanges(changes)
	return e, err
}

// Entry implements loyalty.Ledger.
func (l *txLedger) Entry(ctx context.Context, a *loyalty.Account, seq int64) (loyalty.Entry, error) {
	e, err := scanEntry(l.tx.QueryRowContext(ctx, l.s.q(`SELECT `+entryCols+` FROM entries WHERE member_id = ? AND seq = ?`),
		a.Member.ID, seq))
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("%w: entry %d of %s", loyalty.ErrRedemptionNotFound, seq, a.Member.ID)
	}
	if err != nil {
		return e, fmt.Errorf("store: read entry %d of %s: %w", seq, a.Member.ID, err)
	}
	ids := make([]int64, len(e.Buckets))
	for i, c := range e.Buckets {
		ids[i] = c.Bucket
	}
	return e, l.loadBuckets(ctx, a, ids...)
}

// UpdateEntry implements loyalty.Ledger.
func (l *txLedger) UpdateEntry(ctx context.Context, a *loyalty.Account, e loyalty.Entry) error {
	return l.exec(ctx, `UPDATE entries SET cancelled = ? WHERE member_id = ? AND seq = ?`, boolInt(e.Cancelled), a.Member.ID, e.Seq)
}

// ListEntries implements loyalty.LedgerStore.
func (s *Store) ListEntries(ctx context.Context, member string, before int64, limit int) ([]loyalty.Entry, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+entryCols+` FROM entries WHERE member_id = ? AND seq < ?
		ORDER BY seq DESC LIMIT ?`), member, before, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list entries of %s: %w", member, err)
	}
	defer rows.Close()
	var out []loyalty.Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list entries of %s: %w", member, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
