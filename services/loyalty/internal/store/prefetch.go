package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/tenurehq/tenure/services/loyalty/internal/loyalty"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
)

// Prefetch implements loyalty.Ledger: the members of ids not loaded yet
// (rows locked in id order), their buckets and the named orders, with one
// statement per table for every batchRows members.
func (l *txLedger) Prefetch(ctx context.Context, ids []string, orders map[string][]string) error {
	var need []string
	for _, id := range ids {
		if _, ok := l.accounts[id]; !ok && !l.absent[id] {
			need = append(need, id)
		}
	}
	found := map[string]loyalty.Member{}
	buckets := map[string][]*loyalty.Bucket{}
	err := chunks(need, func(part []any) error {
		if err := l.prefetchMembers(ctx, part, found); err != nil {
			return err
		}
		return l.prefetchBuckets(ctx, part, buckets)
	})
	if err != nil {
		return err
	}
	var members []string
	for _, id := range need {
		m, ok := found[id]
		if !ok {
			l.absent[id] = true
			continue
		}
		l.keep(loyalty.NewAccount(m, buckets[id]))
		if len(orders[id]) > 0 {
			members = append(members, id)
		}
	}
	return l.prefetchOrders(ctx, members, orders)
}

func (l *txLedger) prefetchMembers(ctx context.Context, part []any, found map[string]loyalty.Member) error {
	rows, err := l.query(ctx, `SELECT `+memberCols+` FROM members WHERE member_id IN `+inList+
		` ORDER BY member_id`+l.s.forUpdate(), part...)
	if err != nil {
		return fmt.Errorf("store: prefetch members: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		m, err := scanMember(rows)
		if err != nil {
			return fmt.Errorf("store: prefetch members: %w", err)
		}
		found[m.ID] = m
	}
	return rows.Err()
}

func (l *txLedger) prefetchBuckets(ctx context.Context, part []any, out map[string][]*loyalty.Bucket) error {
	args := append(part, unixNano(l.from))
	rows, err := l.query(ctx, `SELECT member_id, `+bucketCols+` FROM buckets WHERE member_id IN `+inList+`
		AND (remaining > 0 OR (qualifying = 1 AND earned_at > ?)) ORDER BY member_id, bucket_id`, args...)
	if err != nil {
		return fmt.Errorf("store: prefetch buckets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		b, err := scanBucket(rows, &id)
		if err != nil {
			return fmt.Errorf("store: prefetch buckets: %w", err)
		}
		out[id] = append(out[id], b)
	}
	return rows.Err()
}

// prefetchOrders loads the orders named for the loaded members, by
// (member, order) pairs, and remembers the ones that do not exist.
func (l *txLedger) prefetchOrders(ctx context.Context, members []string, orders map[string][]string) error {
	var pairs []any
	for _, id := range members {
		for _, o := range orders[id] {
			l.noOrder[orderKey(id, o)] = true
			pairs = append(pairs, id, o)
		}
	}
	for start := 0; start < len(pairs); start += 2 * batchRows {
		part := pairs[start:min(start+2*batchRows, len(pairs))]
		for len(part) < 2*batchRows { // padded, as inList is
			part = append(part, part[len(part)-2], part[len(part)-1])
		}
		if err := l.readOrders(ctx, part); err != nil {
			return err
		}
	}
	return nil
}

// orderPairs is the VALUES list of batchRows (member, order) pairs.
var orderPairs = strings.TrimSuffix(strings.Repeat("(?, ?),", batchRows), ",")

// readOrders reads the orders of batchRows (member, order) pairs given
// flat. PostgreSQL joins a VALUES list by hashing it against the whole
// table, slower as the table grows; the pairs as two arrays, unnested, are
// joined by the primary key instead.
func (l *txLedger) readOrders(ctx context.Context, pairs []any) error {
	query := `SELECT member_id, order_id, currency, total_minor, earned, refunded, bucket_id
		FROM orders WHERE (member_id, order_id) IN (VALUES ` + orderPairs + `)`
	args := pairs
	if l.s.db.Dialect == sqlstore.Postgres {
		members, orders := make([]string, len(pairs)/2), make([]string, len(pairs)/2)
		for i := range members {
			members[i], orders[i] = pairs[2*i].(string), pairs[2*i+1].(string)
		}
		query = `SELECT o.member_id, o.order_id, o.currency, o.total_minor, o.earned, o.refunded, o.bucket_id
			FROM unnest(CAST(? AS TEXT[]), CAST(? AS TEXT[])) AS v(member_id, order_id)
			JOIN orders o ON o.member_id = v.member_id AND o.order_id = v.order_id`
		args = []any{members, orders}
	}
	rows, err := l.query(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("store: prefetch orders: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var member string
		var o loyalty.Order
		if err := rows.Scan(&member, &o.ID, &o.Currency, &o.TotalMinor, &o.Earned, &o.Refunded, &o.Bucket); err != nil {
			return fmt.Errorf("store: prefetch orders: %w", err)
		}
		if l.noOrder[orderKey(member, o.ID)] {
			delete(l.noOrder, orderKey(member, o.ID))
			l.accounts[member].Orders[o.ID] = &o
		}
	}
	return rows.Err()
}
