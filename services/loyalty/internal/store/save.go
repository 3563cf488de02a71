package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tenurehq/tenure/services/loyalty/internal/loyalty"
)

// save writes the changes of every account the transaction touched.
func (l *txLedger) save(ctx context.Context) error {
	for _, a := range l.touched {
		if err := l.saveAccount(ctx, a); err != nil {
			return err
		}
		a.Saved()
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

// saveAccount writes one account's changes: the member row, then its
// buckets, orders, action counts and new entries.
func (l *txLedger) saveAccount(ctx context.Context, a *loyalty.Account) error {
	c := a.Changes()
	id := c.Member.ID
	if c.MemberChanged {
		args := append(memberArgs(c.Member)[1:], id)
		if err := l.exec(ctx, `UPDATE members SET enrolled = ?, tier = ?, tier_since = ?, birthday = ?, time_zone = ?,
			lifetime = ?, seq = ?, last_birthday_year = ?, skipped_orders = ?, create_time = ? WHERE member_id = ?`, args...); err != nil {
			return fmt.Errorf("store: save member %s: %w", id, err)
		}
	}
	for _, b := range c.Buckets {
		if err := l.exec(ctx, `INSERT INTO buckets (member_id, `+bucketCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (member_id, bucket_id) DO UPDATE SET remaining = excluded.remaining, reversed = excluded.reversed`,
			id, b.ID, b.Points, b.Remaining, unixNano(b.EarnedAt), unixNano(b.AvailableAt), unixNano(b.ExpiresAt),
			b.OrderID, boolInt(b.Qualifying), b.Reversed); err != nil {
			return fmt.Errorf("store: save bucket %d of %s: %w", b.ID, id, err)
		}
	}
	for _, o := range c.Orders {
		if err := l.exec(ctx, `INSERT INTO orders (member_id, order_id, currency, total_minor, earned, refunded, bucket_id)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (member_id, order_id) DO UPDATE SET refunded = excluded.refunded`,
			id, o.ID, o.Currency, o.TotalMinor, o.Earned, o.Refunded, o.Bucket); err != nil {
			return fmt.Errorf("store: save order %s of %s: %w", o.ID, id, err)
		}
	}
	for k, n := range c.Counts {
		if err := l.exec(ctx, `INSERT INTO action_counts (member_id, key, count) VALUES (?, ?, ?)
			ON CONFLICT (member_id, key) DO UPDATE SET count = excluded.count`, id, k, n); err != nil {
			return fmt.Errorf("store: save action count of %s: %w", id, err)
		}
	}
	for _, e := range c.Entries {
		if err := l.exec(ctx, `INSERT INTO entries (member_id, `+entryCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			append([]any{id}, entryArgs(e)...)...); err != nil {
			return fmt.Errorf("store: save entry %d of %s: %w", e.Seq, id, err)
		}
	}
	return nil
}

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
