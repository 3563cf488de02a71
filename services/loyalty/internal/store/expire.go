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

// ExpireBatch implements loyalty.JobStore. The members are locked (on
// PostgreSQL) and read in key order, their due buckets in one range read,
// and the changes saved with one statement per table for the whole range,
// so the job reads and writes each table page once.
func (s *Store) ExpireBatch(ctx context.Context, asOf time.Time, after string, limit int, fn func(accounts []*loyalty.Account) (loyalty.Operation, error)) (string, error) {
	var last string
	err := s.db.InConnTx(ctx, func(conn *sql.Conn, tx *sql.Tx) error {
		l := s.newLedger(tx, time.Time{})
		l.conn = conn
		accounts, err := l.dueAccounts(ctx, asOf, after, limit)
		if err != nil || len(accounts) == 0 {
			last = ""
			return err
		}
		last = accounts[len(accounts)-1].Member.ID
		op, err := fn(accounts)
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

// dueAccounts loads up to limit enrolled members after after with due
// buckets, each with only those buckets, and of them only what Expire
// reads: id, points left and expiry. The members are read (and locked)
// first; the buckets of their range come as one row a member, its due
// buckets in a string, so that a batch reads a row per member rather than
// per bucket and joins no table: a member of the range that the first
// read did not return is not enrolled, and its buckets are skipped.
func (l *txLedger) dueAccounts(ctx context.Context, asOf time.Time, after string, limit int) ([]*loyalty.Account, error) {
	var out []*loyalty.Account
	err := l.readRows(ctx, `SELECT member_id, seq FROM members m WHERE member_id > ? AND enrolled = 1
		AND EXISTS (SELECT 1 FROM buckets b WHERE b.member_id = m.member_id AND `+dueBucket+`)
		ORDER BY member_id LIMIT ?`+l.s.forUpdate(), []any{after, unixNano(asOf), limit}, func(rows *sql.Rows) error {
		m := loyalty.Member{Enrolled: true}
		err := rows.Scan(&m.ID, &m.Seq)
		out = append(out, loyalty.NewAccount(m, nil))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: select members to expire: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
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

// saveExpired writes the accounts' expire entries, adds one to their
// members' entry numbers and empties the due buckets of their range: the
// members and buckets the entries are for, which it checks by counting.
func (l *txLedger) saveExpired(ctx context.Context, accounts []*loyalty.Account, asOf time.Time) error {
	var entries [][]any
	var members []string
	var changes int64
	for _, a := range accounts {
		es := a.Unsaved()
		switch {
		case len(es) == 0:
			continue
		case len(es) > 1 || es[0].Type != loyalty.EntryExpire:
			return fmt.Errorf("store: expiring %s wrote %d entries, want one expire entry", a.Member.ID, len(es))
		}
		entries = append(entries, append([]any{a.Member.ID}, entryArgs(es[0])...))
		members = append(members, a.Member.ID)
		changes += int64(len(es[0].Buckets))
		a.Saved()
	}
	if len(members) == 0 {
		return nil
	}
	first, last := accounts[0].Member.ID, accounts[len(accounts)-1].Member.ID
	// The members first: which of them have due buckets is what the
	// buckets' update changes.
	err := l.execCount(ctx, int64(len(members)), `UPDATE members SET seq = seq + 1 WHERE member_id >= ? AND member_id <= ?
		AND enrolled = 1 AND EXISTS (SELECT 1 FROM buckets b WHERE b.member_id = members.member_id AND `+dueBucket+`)`,
		first, last, unixNano(asOf))
	if err != nil {
		return fmt.Errorf("store: expire: number entries: %w", err)
	}
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
