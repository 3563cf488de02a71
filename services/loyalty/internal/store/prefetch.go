package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/tenurehq/tenure/services/loyalty/internal/loyalty"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
)

// Prefetch implements loyalty.Ledger: the members of ids not loaded yet
// (rows locked in id order), their buckets and the named orders, with one
// statement per table for every batchRows members. In an event-log page,
// the members whose accounts the cache holds as their rows are stored need
// no buckets or orders read.
func (l *txLedger) Prefetch(ctx context.Context, ids []string, orders map[string][]string) error {
	var need []string
	for _, id := range ids {
		if _, ok := l.accounts[id]; !ok && !l.absent[id] {
			need = append(need, id)
		}
	}
	found := map[string]loyalty.Member{}
	if err := chunks(need, func(part []any) error { return l.prefetchMembers(ctx, part, found) }); err != nil {
		return err
	}
	var load, members []string
	for _, id := range need {
		m, ok := found[id]
		if !ok {
			l.absent[id] = true
			continue
		}
		if !l.fromCache(m) {
			load = append(load, id)
		}
		if len(orders[id]) > 0 && !l.complete[id] {
			members = append(members, id)
		}
	}
	buckets := map[string][]*loyalty.Bucket{}
	if err := chunks(load, func(part []any) error { return l.prefetchBuckets(ctx, part, buckets) }); err != nil {
		return err
	}
	for _, id := range load {
		l.keep(loyalty.NewAccount(found[id], buckets[id]))
	}
	return l.prefetchOrders(ctx, members, orders)
}

// fromCache keeps m's account from the consumer's cache, if the cache
// has it as m's row is stored.
func (l *txLedger) fromCache(m loyalty.Member) bool {
	if l.cache == nil {
		return false
	}
	a, complete := l.cache.take(m, l.from)
	if a == nil {
		return false
	}
	l.keep(a)
	l.complete[m.ID] = complete
	return true
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
			if _, ok := l.accounts[id].Orders[o]; ok {
				continue
			}
			l.noOrder[orderKey(id, o)] = true
			pairs = append(pairs, id, o)
		}
	}
	return l.readPairs(ctx, "orders", "order_id", "currency, total_minor, earned, refunded, bucket_id", pairs,
		func(rows *sql.Rows) error {
			var member string
			var o loyalty.Order
			if err := rows.Scan(&member, &o.ID, &o.Currency, &o.TotalMinor, &o.Earned, &o.Refunded, &o.Bucket); err != nil {
				return fmt.Errorf("store: prefetch orders: %w", err)
			}
			if l.noOrder[orderKey(member, o.ID)] {
				delete(l.noOrder, orderKey(member, o.ID))
				l.accounts[member].Orders[o.ID] = &o
			}
			return nil
		})
}

// PrefetchCounts implements loyalty.Ledger: the counts named for loaded
// accounts that have not loaded them, 0 for those without a row.
func (l *txLedger) PrefetchCounts(ctx context.Context, keys map[string][]string) error {
	var pairs []any
	for id, ks := range keys {
		a := l.accounts[id]
		if a == nil || l.complete[id] {
			continue // LoadCount reads nothing for them
		}
		for _, k := range ks {
			if _, ok := a.Counts[k]; !ok {
				a.Counts[k] = 0
				pairs = append(pairs, id, k)
			}
		}
	}
	return l.readPairs(ctx, "action_counts", "key", "count", pairs, func(rows *sql.Rows) error {
		var member, key string
		var n int64
		if err := rows.Scan(&member, &key, &n); err != nil {
			return fmt.Errorf("store: prefetch action counts: %w", err)
		}
		l.accounts[member].Counts[key] = n
		return nil
	})
}

// pairValues is the VALUES list of batchRows pairs.
var pairValues = strings.TrimSuffix(strings.Repeat("(?, ?),", batchRows), ",")

// readPairs reads table's rows keyed by (member_id, key) pairs given
// flat, batchRows pairs a statement (padded, as inList is), as member_id,
// key, cols for scan. PostgreSQL joins a VALUES list by hashing it against
// the whole table, slower as the table grows; the pairs as two arrays,
// unnested, are joined by the primary key instead.
func (l *txLedger) readPairs(ctx context.Context, table, key, cols string, pairs []any, scan func(*sql.Rows) error) error {
	query := `SELECT member_id, ` + key + `, ` + cols + ` FROM ` + table + ` WHERE (member_id, ` + key + `) IN (VALUES ` +
		pairValues + `)`
	if l.s.db.Dialect == sqlstore.Postgres {
		query = `SELECT t.member_id, t.` + key + `, t.` + strings.ReplaceAll(cols, ", ", ", t.") + `
			FROM unnest(CAST(? AS TEXT[]), CAST(? AS TEXT[])) AS v(member_id, k)
			JOIN ` + table + ` t ON t.member_id = v.member_id AND t.` + key + ` = v.k`
	}
	for start := 0; start < len(pairs); start += 2 * batchRows {
		part := pairs[start:min(start+2*batchRows, len(pairs))]
		for len(part) < 2*batchRows {
			part = append(part, part[len(part)-2], part[len(part)-1])
		}
		args := part
		if l.s.db.Dialect == sqlstore.Postgres {
			members, keys := make([]string, batchRows), make([]string, batchRows)
			for i := range members {
				members[i], keys[i] = part[2*i].(string), part[2*i+1].(string)
			}
			args = []any{members, keys}
		}
		if err := l.readRows(ctx, query, args, scan); err != nil {
			return fmt.Errorf("store: read %s: %w", table, err)
		}
	}
	return nil
}

// readRows runs a query and calls scan for each row.
func (l *txLedger) readRows(ctx context.Context, query string, args []any, scan func(*sql.Rows) error) error {
	rows, err := l.query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
