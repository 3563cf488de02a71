package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/tenurehq/tenure/services/loyalty/internal/loyalty"
)

// dueBucket selects the buckets of b that expire at the time given as its
// parameter: points left and an expiry (0 is never) at or before it, as
// loyalty.Account.Expire decides for the buckets loaded.
const dueBucket = `b.remaining > 0 AND b.expires_at > 0 AND b.expires_at <= ?`

// bColumns is bucketCols of the table named b.
var bColumns = "b." + strings.ReplaceAll(bucketCols, ", ", ", b.")

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
// buckets, each with only those buckets.
func (l *txLedger) dueAccounts(ctx context.Context, asOf time.Time, after string, limit int) ([]*loyalty.Account, error) {
	var first, last string
	rows, err := l.query(ctx, `SELECT member_id FROM members m WHERE member_id > ? AND enrolled = 1
		AND EXISTS (SELECT 1 FROM buckets b WHERE b.member_id = m.member_id AND `+dueBucket+`)
		ORDER BY member_id LIMIT ?`+l.s.forUpdate(), after, unixNano(asOf), limit)
	if err != nil {
		return nil, fmt.Errorf("store: select members to expire: %w", err)
	}
	for rows.Next() {
		if err := rows.Scan(&last); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: select members to expire: %w", err)
		}
		if first == "" {
			first = last
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || first == "" {
		return nil, err
	}
	rows, err = l.query(ctx, `SELECT m.member_id, m.enrolled, m.seq, `+bColumns+` FROM members m
		JOIN buckets b ON b.member_id = m.member_id
		WHERE b.member_id >= ? AND b.member_id <= ? AND m.enrolled = 1 AND `+dueBucket+`
		ORDER BY b.member_id, b.bucket_id`, /* the buckets' key order: no sort */ first, last, unixNano(asOf))
	if err != nil {
		return nil, fmt.Errorf("store: read buckets to expire: %w", err)
	}
	defer rows.Close()
	var out []*loyalty.Account
	for rows.Next() {
		var m loyalty.Member
		var enrolled int
		b, err := scanBucket(rows, &m.ID, &enrolled, &m.Seq)
		if err != nil {
			return nil, fmt.Errorf("store: read buckets to expire: %w", err)
		}
		if n := len(out); n == 0 || out[n-1].Member.ID != m.ID {
			m.Enrolled = enrolled == 1
			out = append(out, loyalty.NewAccount(m, nil))
		}
		a := out[len(out)-1]
		a.Buckets = append(a.Buckets, b)
	}
	return out, rows.Err()
}

// saveExpired writes the accounts' expire entries, adds one to their
// members' entry numbers and empties the due buckets of their range: the
// members and buckets the entries are for, which it checks by counting.
func (l *txLedger) saveExpired(ctx context.Context, accounts []*loyalty.Account, asOf time.Time) error {
	var entries [][]any
	var members []string
	var changes int64
	for _, a := range accounts {
		c := a.Changes()
		switch {
		case len(c.Entries) == 0:
			continue
		case len(c.Entries) > 1 || c.Entries[0].Type != loyalty.EntryExpire:
			return fmt.Errorf("store: expiring %s wrote %d entries, want one expire entry", a.Member.ID, len(c.Entries))
		}
		entries = append(entries, append([]any{a.Member.ID}, entryArgs(c.Entries[0])...))
		members = append(members, a.Member.ID)
		changes += int64(len(c.Entries[0].Buckets))
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
