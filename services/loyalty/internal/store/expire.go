package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tenurehq/tenure/services/loyalty/internal/loyalty"
)

// dueBucket selects the buckets of b that expire at the time given as its
// parameter: points left and an expiry (0 is never) at or before it, as
// loyalty.Account.Expire decides for the buckets loaded.
const dueBucket = `b.remaining > 0 AND b.expires_at > 0 AND b.expires_at <= ?`

// ExpireBatch implements loyalty.JobStore. A batch is a range of members
// in key order: one statement locks those with due buckets and numbers
// their expire entries, their due buckets come in one range read, and the
// changes are saved with one statement per table for the whole range, so
// the job reads and writes each table page once. Every statement is
// bounded by the range, whatever plan PostgreSQL picks (a fresh table has
// no statistics, and cached plans do not see the parameters).
func (s *Store) ExpireBatch(ctx context.Context, asOf time.Time, after string, limit int, fn func(accounts []*loyalty.Account, last string) (loyalty.Operation, error)) (string, error) {
	var last string
	err := s.db.InConnTx(ctx, func(conn *sql.Conn, tx *sql.Tx) error {
		l := s.newLedger(tx, time.Time{})
		l.conn = conn
		var err error
		if last, err = l.rangeEnd(ctx, after, limit); err != nil || last == "" {
			return err
		}
		accounts, err := l.dueAccounts(ctx, asOf, after, last)
		if err != nil {
			return err
		}
		op, err := fn(accounts, last)
		if err != nil {
			return err
		}
		if err := l.saveExpired(ctx, accounts, asOf); err != nil {
			return err
		}
		return s.saveProgress(ctx, tx, op)
	})
	return last, err
}

// rangeEnd returns the id of the limit-th member after after, or of the
// last one when fewer are left: "" when none is.
func (l *txLedger) rangeEnd(ctx context.Context, after string, limit int) (string, error) {
	var last sql.NullString
	err := l.readRows(ctx, `SELECT MAX(member_id) FROM (SELECT member_id FROM members WHERE member_id > ?
		ORDER BY member_id LIMIT ?) AS r`, []any{after, limit}, func(rows *sql.Rows) error { return rows.Scan(&last) })
	if err != nil {
		return "", fmt.Errorf("store: find the members to expire: %w", err)
	}
	return last.String, nil
}

// dueAccounts loads the enrolled members after after up to last that have
// due buckets, each with only those buckets, and of them only what Expire
// reads: id, points left and expiry.
//
// The members are taken by an UPDATE that adds one to their entry
// numbers: it locks them, in key order as the range is read, and writes
// each member row once where locking (FOR UPDATE) and then numbering
// wrote it twice. A member whose due buckets went while the UPDATE waited
// for its lock (PostgreSQL rechecks only the member row) is numbered all
// the same; saveExpired takes the number back when Expire writes it no
// entry.
//
// The buckets of the range come as one row a member, its due buckets in a
// string, so that a batch reads a row per member rather than per bucket
// and joins no table: a member of the range that the UPDATE did not
// return is not enrolled, and its buckets are skipped.
func (l *txLedger) dueAccounts(ctx context.Context, asOf time.Time, after, last string) ([]*loyalty.Account, error) {
	var out []*loyalty.Account
	err := l.readRows(ctx, `UPDATE members SET seq = seq + 1 WHERE member_id > ? AND member_id <= ? AND enrolled = 1
		AND EXISTS (SELECT 1 FROM buckets b WHERE b.member_id = members.member_id AND b.member_id > ? AND b.member_id <= ?
		AND `+dueBucket+`) RETURNING member_id, seq`, []any{after, last, after, last, unixNano(asOf)}, func(rows *sql.Rows) error {
		m := loyalty.Member{Enrolled: true}
		err := rows.Scan(&m.ID, &m.Seq)
		m.Seq-- // the number before this batch's entry, which Expire adds again
		out = append(out, loyalty.NewAccount(m, nil))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: number members to expire: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	// RETURNING gives the rows in no set order.
	slices.SortFunc(out, func(a, b *loyalty.Account) int { return cmp.Compare(a.Member.ID, b.Member.ID) })
	i := 0
	err = l.readRows(ctx, `SELECT member_id, string_agg(CAST(bucket_id AS TEXT) || ':' || CAST(remaining AS TEXT) || ':' ||
		CAST(expires_at AS TEXT), ' ') FROM buckets b WHERE member_id >= ? AND member_id <= ? AND `+dueBucket+`
		GROUP BY member_id ORDER BY member_id`, []any{out[0].Member.ID, out[len(out)-1].Member.ID, unixNano(asOf)},
		func(rows *sql.Rows) error {
			var id, due string
			if err := rows.Scan(&id, &due); err != nil {
				return err
			}
			for i < len(out) && out[i].Member.ID < id {
				i++
			}
			if i == len(out) || out[i].Member.ID != id {
				return nil // not enrolled
			}
			var err error
			out[i].Buckets, err = parseDue(due)
			return err
		})
	if err != nil {
		return nil, fmt.Errorf("store: read buckets to expire: %w", err)
	}
	return out, nil
}

// parseDue reads dueAccounts' "id:remaining:expires_at …" into buckets in
// id order.
func parseDue(s string) ([]*loyalty.Bucket, error) {
	var out []*loyalty.Bucket
	for _, f := range strings.Fields(s) {
		var n [3]int64
		for k := range n {
			v, rest, _ := strings.Cut(f, ":")
			var err error
			if n[k], err = strconv.ParseInt(v, 10, 64); err != nil {
				return nil, fmt.Errorf("bad due bucket %q", f)
			}
			f = rest
		}
		out = append(out, &loyalty.Bucket{ID: n[0], Remaining: n[1], ExpiresAt: timeOf(n[2])})
	}
	slices.SortFunc(out, func(a, b *loyalty.Bucket) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// saveExpired writes the accounts' expire entries, takes back the entry
// number dueAccounts gave a member that got none, and empties the due
// buckets of their range: the buckets the entries are for, which it checks
// by counting.
func (l *txLedger) saveExpired(ctx context.Context, accounts []*loyalty.Account, asOf time.Time) error {
	var entries [][]any
	var unnumber []string
	var changes int64
	for _, a := range accounts {
		es := a.Unsaved()
		switch {
		case len(es) == 0:
			unnumber = append(unnumber, a.Member.ID)
			continue
		case len(es) > 1 || es[0].Type != loyalty.EntryExpire:
			return fmt.Errorf("store: expiring %s wrote %d entries, want one expire entry", a.Member.ID, len(es))
		}
		entries = append(entries, append([]any{a.Member.ID}, entryArgs(es[0])...))
		changes += int64(len(es[0].Buckets))
		a.Saved()
	}
	err := chunks(unnumber, func(part []any) error {
		return l.exec(ctx, `UPDATE members SET seq = seq - 1 WHERE member_id IN `+inList, part...)
	})
	if err != nil {
		return fmt.Errorf("store: expire: take back entry numbers: %w", err)
	}
	if len(entries) == 0 {
		return nil
	}
	first, last := accounts[0].Member.ID, accounts[len(accounts)-1].Member.ID
	err = l.execCount(ctx, changes, `UPDATE buckets AS b SET remaining = 0 WHERE b.member_id >= ? AND b.member_id <= ?
		AND b.member_id IN (SELECT member_id FROM members WHERE member_id >= ? AND member_id <= ? AND enrolled = 1)
		AND `+dueBucket, first, last, first, last, unixNano(asOf))
	if err != nil {
		return fmt.Errorf("store: expire buckets: %w", err)
	}
	return l.writeRows(ctx, "entries", "member_id, "+entryCols, "", entries)
}

// execCount runs a statement that must change want rows.
func (l *txLedger) execCount(ctx context.Context, want int64, query string, args ...any) error {
	st, err := l.s.db.TxStmt(ctx, l.tx, l.s.q(query))
	if err != nil {
		return err
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != want {
		return fmt.Errorf("changed %d rows, the entries are for %d (%v)", n, want, err)
	}
	return nil
}
