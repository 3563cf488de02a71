package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tenurehq/tenure/services/loyalty/internal/loyalty"
	"github.com/tenurehq/tenure/services/platform/idempotency"
)

// txLedger is loyalty.Ledger in one transaction: it loads accounts with
// their member row locked, keeps them for the transaction and saves their
// changes before the commit.
type txLedger struct {
	s  *Store
	tx *sql.Tx
	// conn is the transaction's connection, for COPY on PostgreSQL; nil
	// where few rows are written.
	conn     *sql.Conn
	from     time.Time
	accounts map[string]*loyalty.Account
	touched  []*loyalty.Account
	// absent and noOrder remember what Prefetch did not find: member ids,
	// and orderKey(member, order).
	absent  map[string]bool
	noOrder map[string]bool
	// complete are the members whose orders and action counts are all in
	// memory (this transaction created them, or the cache had them since
	// then): they have none to read.
	complete map[string]bool
	// cache is the consumer's account cache, in a page's transaction;
	// gone are the members the transaction re-keyed or deleted.
	cache *accountCache
	gone  []string
}

func orderKey(member, order string) string { return member + "\x00" + order }

// InLedger implements loyalty.LedgerStore.
func (s *Store) InLedger(ctx context.Context, from time.Time, fn func(ctx context.Context, l loyalty.Ledger) error) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		l := s.newLedger(tx, from)
		if err := fn(ctx, l); err != nil {
			return err
		}
		return l.save(ctx)
	})
}

// ApplyPage implements loyalty.LedgerStore.
func (s *Store) ApplyPage(ctx context.Context, to int64, from time.Time, fn func(ctx context.Context, l loyalty.Ledger, cursor int64) error) error {
	var l *txLedger
	var start int64
	err := s.db.InConnTx(ctx, func(conn *sql.Conn, tx *sql.Tx) error {
		l = nil
		if err := tx.QueryRowContext(ctx, `SELECT sequence FROM stream_cursor WHERE id = 1`+s.forUpdate()).Scan(&start); err != nil {
			return fmt.Errorf("store: read cursor: %w", err)
		}
		if to <= start {
			return nil // applied already, by this replica or another
		}
		l = s.newLedger(tx, from)
		l.conn, l.cache = conn, s.accounts
		s.accounts.start(start)
		if err := fn(ctx, l, start); err != nil {
			return err
		}
		if err := l.save(ctx); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(`UPDATE stream_cursor SET sequence = ? WHERE id = 1`), to)
		return err
	})
	if err == nil && l != nil {
		s.accounts.put(start, to, l)
	}
	return err
}

// Cursor implements loyalty.LedgerStore.
func (s *Store) Cursor(ctx context.Context) (int64, error) {
	var cur int64
	err := s.db.QueryRowContext(ctx, `SELECT sequence FROM stream_cursor WHERE id = 1`).Scan(&cur)
	return cur, err
}

// ReadAccount implements loyalty.LedgerStore.
func (s *Store) ReadAccount(ctx context.Context, id string, from time.Time) (*loyalty.Account, error) {
	return s.loadAccount(ctx, s.db, id, from, "")
}

func (s *Store) newLedger(tx *sql.Tx, from time.Time) *txLedger {
	return &txLedger{s: s, tx: tx, from: from, accounts: map[string]*loyalty.Account{},
		absent: map[string]bool{}, noOrder: map[string]bool{}, complete: map[string]bool{}}
}

const memberCols = `member_id, enrolled, tier, tier_since, birthday, time_zone, lifetime, seq, last_birthday_year,
	skipped_orders, create_time, matured_at`

const bucketCols = `bucket_id, points, remaining, earned_at, available_at, expires_at, order_id, qualifying, reversed`

// loadAccount reads a member row (locked with lock) and its live and
// qualifying buckets; nil if there is no row.
func (s *Store) loadAccount(ctx context.Context, q queryer, id string, from time.Time, lock string) (*loyalty.Account, error) {
	m, err := scanMember(q.QueryRowContext(ctx, s.q(`SELECT `+memberCols+` FROM members WHERE member_id = ?`+lock), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: read member %s: %w", id, err)
	}
	buckets, err := s.readBuckets(ctx, q, `SELECT `+bucketCols+` FROM buckets
		WHERE member_id = ? AND (remaining > 0 OR (qualifying = 1 AND earned_at > ?)) ORDER BY bucket_id`, id, unixNano(from))
	if err != nil {
		return nil, err
	}
	return loyalty.NewAccount(m, buckets), nil
}

// scanMember reads memberCols.
func scanMember(row interface{ Scan(...any) error }) (loyalty.Member, error) {
	var m loyalty.Member
	var enrolled int
	var since, created, matured int64
	err := row.Scan(&m.ID, &enrolled, &m.Tier, &since, &m.Birthday, &m.TimeZone, &m.Lifetime, &m.Seq, &m.LastBirthdayYear,
		&m.SkippedOrders, &created, &matured)
	m.Enrolled, m.TierSince, m.CreateTime, m.MaturedAt = enrolled == 1, timeOf(since), timeOf(created), timeOf(matured)
	return m, err
}

// readBuckets runs a query for bucketCols.
func (s *Store) readBuckets(ctx context.Context, q queryer, query string, args ...any) ([]*loyalty.Bucket, error) {
	rows, err := q.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: read buckets: %w", err)
	}
	defer rows.Close()
	var out []*loyalty.Bucket
	for rows.Next() {
		b, err := scanBucket(rows)
		if err != nil {
			return nil, fmt.Errorf("store: read buckets: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// scanBucket reads bucketCols, after the columns prefix scans into.
func scanBucket(row interface{ Scan(...any) error }, prefix ...any) (*loyalty.Bucket, error) {
	var b loyalty.Bucket
	var earned, avail, expires int64
	var qualifying int
	dest := []any{&b.ID, &b.Points, &b.Remaining, &earned, &avail, &expires, &b.OrderID, &qualifying, &b.Reversed}
	err := row.Scan(append(prefix, dest...)...)
	b.EarnedAt, b.AvailableAt, b.ExpiresAt, b.Qualifying = timeOf(earned), timeOf(avail), timeOf(expires), qualifying == 1
	return &b, err
}

// Account implements loyalty.Ledger.
func (l *txLedger) Account(ctx context.Context, id string) (*loyalty.Account, error) {
	if a, ok := l.accounts[id]; ok || l.absent[id] {
		return a, nil
	}
	a, err := l.s.loadAccount(ctx, l.tx, id, l.from, l.s.forUpdate())
	if err != nil || a == nil {
		return nil, err
	}
	l.keep(a)
	return a, nil
}

func (l *txLedger) keep(a *loyalty.Account) {
	l.accounts[a.Member.ID] = a
	l.touched = append(l.touched, a)
}

// Create implements loyalty.Ledger. The row is written at once, so that a
// concurrent creator waits for it and then finds it.
func (l *txLedger) Create(ctx context.Context, m loyalty.Member) (*loyalty.Account, error) {
	st, err := l.s.db.TxStmt(ctx, l.tx, l.s.q(`INSERT INTO members (`+memberCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (member_id) DO NOTHING`))
	if err != nil {
		return nil, err
	}
	res, err := st.ExecContext(ctx, memberArgs(m)...)
	if err != nil {
		return nil, fmt.Errorf("store: create member %s: %w", m.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return l.Account(ctx, m.ID) // created meanwhile by another transaction
	}
	delete(l.absent, m.ID)
	l.complete[m.ID] = true
	a := loyalty.NewAccount(m, nil)
	l.keep(a)
	return a, nil
}

// CreateAll implements loyalty.Ledger: a multi-row insert per up to
// batchRows members, whose rows are written at once as Create's are.
func (l *txLedger) CreateAll(ctx context.Context, ms []loyalty.Member) error {
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(memberArgs(loyalty.Member{}))), ",") + ")"
	for len(ms) > 0 {
		n := writeSizes[slices.IndexFunc(writeSizes, func(size int) bool { return size <= len(ms) })]
		var args []any
		for _, m := range ms[:n] {
			args = append(args, memberArgs(m)...)
		}
		created := map[string]bool{}
		err := l.readRows(ctx, `INSERT INTO members (`+memberCols+`) VALUES `+strings.TrimSuffix(strings.Repeat(one+",", n), ",")+`
			ON CONFLICT (member_id) DO NOTHING RETURNING member_id`, args, func(rows *sql.Rows) error {
			var id string
			err := rows.Scan(&id)
			created[id] = true
			return err
		})
		if err != nil {
			return fmt.Errorf("store: create members: %w", err)
		}
		for _, m := range ms[:n] {
			delete(l.absent, m.ID) // one created meanwhile is read by Account
			if created[m.ID] {
				l.complete[m.ID] = true
				l.keep(loyalty.NewAccount(m, nil))
			}
		}
		ms = ms[n:]
	}
	return nil
}

func memberArgs(m loyalty.Member) []any {
	return []any{m.ID, boolInt(m.Enrolled), m.Tier, unixNano(m.TierSince), m.Birthday, m.TimeZone, m.Lifetime, m.Seq,
		m.LastBirthdayYear, m.SkippedOrders, unixNano(m.CreateTime), unixNano(m.MaturedAt)}
}

// LoadOrder implements loyalty.Ledger.
func (l *txLedger) LoadOrder(ctx context.Context, a *loyalty.Account, orderID string) (*loyalty.Order, error) {
	if o, ok := a.Orders[orderID]; ok {
		return o, l.loadBuckets(ctx, a, o.Bucket)
	}
	if l.noOrder[orderKey(a.Member.ID, orderID)] || l.complete[a.Member.ID] {
		return nil, nil
	}
	o := loyalty.Order{ID: orderID}
	st, err := l.s.db.TxStmt(ctx, l.tx, l.s.q(`SELECT currency, total_minor, earned, refunded, bucket_id FROM orders
		WHERE member_id = ? AND order_id = ?`))
	if err != nil {
		return nil, err
	}
	err = st.QueryRowContext(ctx, a.Member.ID, orderID).Scan(&o.Currency, &o.TotalMinor, &o.Earned, &o.Refunded, &o.Bucket)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: read order %s of %s: %w", orderID, a.Member.ID, err)
	}
	a.Orders[orderID] = &o
	return &o, l.loadBuckets(ctx, a, o.Bucket)
}

// loadBuckets adds the buckets with ids that a has not loaded.
func (l *txLedger) loadBuckets(ctx context.Context, a *loyalty.Account, ids ...int64) error {
	have := map[int64]bool{}
	for _, b := range a.Buckets {
		have[b.ID] = true
	}
	for _, id := range ids {
		if id == 0 || have[id] {
			continue
		}
		bs, err := l.s.readBuckets(ctx, l.tx, `SELECT `+bucketCols+` FROM buckets WHERE member_id = ? AND bucket_id = ?`, a.Member.ID, id)
		if err != nil {
			return err
		}
		a.Buckets = append(a.Buckets, bs...)
		have[id] = true
	}
	return nil
}

// LoadCount implements loyalty.Ledger.
func (l *txLedger) LoadCount(ctx context.Context, a *loyalty.Account, key string) error {
	if _, ok := a.Counts[key]; ok {
		return nil
	}
	var n int64
	if l.complete[a.Member.ID] {
		a.Counts[key] = 0
		return nil
	}
	st, err := l.s.db.TxStmt(ctx, l.tx, l.s.q(`SELECT count FROM action_counts WHERE member_id = ? AND key = ?`))
	if err != nil {
		return err
	}
	err = st.QueryRowContext(ctx, a.Member.ID, key).Scan(&n)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: read action count: %w", err)
	}
	a.Counts[key] = n
	return nil
}

// Rekey implements loyalty.Ledger: the customer's rows move to the new id
// and the requests about it are forgotten.
func (l *txLedger) Rekey(ctx context.Context, from, to string) error {
	if err := l.save(ctx); err != nil {
		return err
	}
	for _, table := range []string{"members", "buckets", "entries", "orders", "action_counts", "reward_redemptions"} {
		if _, err := l.tx.ExecContext(ctx, l.s.q(`UPDATE `+table+` SET member_id = ? WHERE member_id = ?`), to, from); err != nil {
			return fmt.Errorf("store: re-key %s of %s: %w", table, from, err)
		}
	}
	l.forgetCached(from, to)
	l.gone = append(l.gone, from, to)
	return l.s.forget.Forget(ctx, l.tx, idempotency.CustomerSubject(from))
}

// Delete implements loyalty.Ledger.
func (l *txLedger) Delete(ctx context.Context, id string) error {
	if err := l.save(ctx); err != nil {
		return err
	}
	for _, table := range []string{"reward_redemptions", "action_counts", "orders", "entries", "buckets", "members"} {
		if _, err := l.tx.ExecContext(ctx, l.s.q(`DELETE FROM `+table+` WHERE member_id = ?`), id); err != nil {
			return fmt.Errorf("store: delete %s of %s: %w", table, id, err)
		}
	}
	l.forgetCached(id)
	l.gone = append(l.gone, id)
	return l.s.forget.Forget(ctx, l.tx, idempotency.CustomerSubject(id))
}

// forgetCached drops saved accounts from the transaction's cache.
func (l *txLedger) forgetCached(ids ...string) {
	for _, id := range ids {
		delete(l.accounts, id)
		delete(l.complete, id)
	}
	l.touched = l.touched[:0]
	for _, a := range l.accounts {
		l.touched = append(l.touched, a)
	}
}
