package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// Cursor implements segmentation.InputStore.
func (s *Store) Cursor(ctx context.Context) (int64, error) {
	return s.cursor(ctx, s.db, "")
}

func (s *Store) cursor(ctx context.Context, q queryer, suffix string) (int64, error) {
	var seq int64
	err := q.QueryRowContext(ctx, `SELECT sequence FROM stream_cursor WHERE id = 1`+suffix).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: read cursor: %w", err)
	}
	return seq, nil
}

// AppliedEvents implements segmentation.InputStore.
func (s *Store) AppliedEvents(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT applied_events FROM stream_cursor WHERE id = 1`).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: read applied events: %w", err)
	}
	return n, nil
}

// countAbove is how many of seqs are above cur.
func countAbove(seqs []int64, cur int64) int {
	n := 0
	for _, s := range seqs {
		if s > cur {
			n++
		}
	}
	return n
}

const featureCols = `first_order_time, last_order_time, last_activity_time, order_count, refund_count, currency,
	gross_minor, net_minor, aov_minor, discount_share, preferred_channel, top_categories`

func featureArgs(f *segmentation.Features) []any {
	return []any{nanos(f.FirstOrderTime), nanos(f.LastOrderTime), nanos(f.LastActivityTime), f.OrderCount, f.RefundCount,
		f.Currency, f.GrossMinor, f.NetMinor, f.AverageOrderValueMinor, f.DiscountShare, f.PreferredChannel, encodeList(f.TopCategories)}
}

// ApplyPage implements segmentation.InputStore.
func (s *Store) ApplyPage(ctx context.Context, muts []segmentation.Mutation, cursor int64, sequences []int64) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		cur, err := s.cursor(ctx, tx, s.forUpdate())
		if err != nil {
			return err
		}
		if cursor <= cur {
			return nil // applied already (by this or another replica)
		}
		w := pageWriter{s: s, tx: tx}
		if slices.ContainsFunc(muts, segmentation.Mutation.Forgets) {
			// Before the results rows change: FinishOperation takes the
			// generation row, then the results, in that order too.
			if w.gen, w.record, err = s.bumpGeneration(ctx, tx); err != nil {
				return err
			}
		}
		for i := range muts {
			if err := w.apply(ctx, &muts[i]); err != nil {
				return err
			}
			if err := w.applyPurchases(ctx, &muts[i]); err != nil {
				return err
			}
		}
		if err := w.flush(ctx); err != nil {
			return err
		}
		if err := w.flushPurchases(ctx); err != nil {
			return err
		}
		if slices.ContainsFunc(muts, segmentation.Mutation.Forgets) {
			if err := s.forgetRequests(ctx, tx, muts); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO stream_cursor (id, sequence, applied_events) VALUES (1, ?, ?)
			ON CONFLICT (id) DO UPDATE SET sequence = excluded.sequence,
				applied_events = stream_cursor.applied_events + excluded.applied_events`), cursor, countAbove(sequences, cur))
		if err != nil {
			return fmt.Errorf("store: write cursor: %w", err)
		}
		if s.beforeCommit != nil {
			return s.beforeCommit(ctx, tx, cur, cursor)
		}
		return nil
	})
}

// bumpGeneration increments the results generation, returns the new
// value and whether a recompute is running (then the page records its
// re-keys for FinishOperation).
func (s *Store) bumpGeneration(ctx context.Context, tx *sql.Tx) (gen int64, running bool, err error) {
	if _, err := tx.ExecContext(ctx, `UPDATE results_generation SET generation = generation + 1 WHERE id = 1`); err != nil {
		return 0, false, fmt.Errorf("store: bump results generation: %w", err)
	}
	if gen, err = s.resultsGeneration(ctx, tx, ""); err != nil {
		return 0, false, err
	}
	// After the update, which waits for a StartOperation holding the
	// generation row: a recompute starting now is seen.
	err = tx.QueryRowContext(ctx, s.q(`SELECT EXISTS (SELECT 1 FROM operations WHERE state = ?)`), int64(segmentation.OperationRunning)).Scan(&running)
	if err != nil {
		return 0, false, fmt.Errorf("store: read running operation: %w", err)
	}
	if !running {
		err = s.dropRekeys(ctx, tx)
	}
	return gen, running, err
}

// dropRekeys deletes the recorded re-keys unless a recompute is running:
// only a running one can need them (see FinishOperation), and they hold
// ids of erased customers.
func (s *Store) dropRekeys(ctx context.Context, q queryer) error {
	if _, err := q.ExecContext(ctx, s.q(`DELETE FROM rekeys WHERE NOT EXISTS (SELECT 1 FROM operations WHERE state = ?)`),
		int64(segmentation.OperationRunning)); err != nil {
		return fmt.Errorf("store: drop re-keys: %w", err)
	}
	return nil
}

// ResultsGeneration implements segmentation.InputStore.
func (s *Store) ResultsGeneration(ctx context.Context) (int64, error) {
	return s.resultsGeneration(ctx, s.db, "")
}

func (s *Store) resultsGeneration(ctx context.Context, q queryer, suffix string) (int64, error) {
	var g int64
	if err := q.QueryRowContext(ctx, `SELECT generation FROM results_generation WHERE id = 1`+suffix).Scan(&g); err != nil {
		return 0, fmt.Errorf("store: read results generation: %w", err)
	}
	return g, nil
}

var upsertFeatures = `INSERT INTO customers (customer_id, ` + featureCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (customer_id) DO UPDATE SET first_order_time = excluded.first_order_time,
	last_order_time = excluded.last_order_time, last_activity_time = excluded.last_activity_time,
	order_count = excluded.order_count, refund_count = excluded.refund_count, currency = excluded.currency,
	gross_minor = excluded.gross_minor, net_minor = excluded.net_minor, aov_minor = excluded.aov_minor,
	discount_share = excluded.discount_share, preferred_channel = excluded.preferred_channel,
	top_categories = excluded.top_categories`

// pageWriter applies one page's mutations in its transaction: on SQLite
// through statements prepared once per connection, on PostgreSQL with
// runs of upserts of distinct customers batched into a few array
// statements (one round trip each instead of one or two per customer).
type pageWriter struct {
	s     *Store
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
	batch upsertBatch
	// For pages that forget customers: the results generation the page
	// sets, whether it records its re-keys (a recompute is running) and
	// how many it recorded.
	gen    int64
	record bool
	pos    int64
	// purchases are the purchase days not written yet.
	purchases purchaseBatch
}

func (w *pageWriter) exec(ctx context.Context, query string, args ...any) error {
	if w.s.db.Dialect == sqlstore.Postgres {
		_, err := w.tx.ExecContext(ctx, w.s.q(query), args...)
		return err
	}
	st, ok := w.stmts[query]
	if !ok {
		var err error
		st, err = w.s.db.TxStmt(ctx, w.tx, query) // closed with the transaction
		if err != nil {
			return err
		}
		if w.stmts == nil {
			w.stmts = map[string]*sql.Stmt{}
		}
		w.stmts[query] = st
	}
	_, err := st.ExecContext(ctx, args...)
	return err
}

func (w *pageWriter) apply(ctx context.Context, m *segmentation.Mutation) error {
	if w.s.db.Dialect == sqlstore.Postgres {
		if m.Kind == segmentation.MutationUpsert && !w.batch.has(m.ID) {
			w.batch.add(m)
			return nil
		}
		if err := w.flush(ctx); err != nil { // mutations apply in page order
			return err
		}
		if m.Kind == segmentation.MutationUpsert {
			w.batch.add(m)
			return nil
		}
	}
	return w.applyOne(ctx, m)
}

func (w *pageWriter) flush(ctx context.Context) error {
	if w.batch.len() == 0 {
		return nil
	}
	err := w.batch.write(ctx, w.tx)
	w.batch.reset()
	return err
}

func (w *pageWriter) applyOne(ctx context.Context, m *segmentation.Mutation) error {
	var err error
	switch m.Kind {
	case segmentation.MutationUpsert:
		if m.Features != nil {
			err = w.exec(ctx, upsertFeatures, append([]any{m.ID}, featureArgs(m.Features)...)...)
		} else {
			err = w.exec(ctx, `INSERT INTO customers (customer_id) VALUES (?) ON CONFLICT (customer_id) DO NOTHING`, m.ID)
		}
		if err == nil && m.SetTags {
			err = w.exec(ctx, `UPDATE customers SET tags = ? WHERE customer_id = ?`, encodeList(m.Tags), m.ID)
		}
	case segmentation.MutationDelete:
		for _, table := range []string{"customers", "static_members", "results", "audience_changes"} {
			if err = w.exec(ctx, `DELETE FROM `+table+` WHERE customer_id = ?`, m.ID); err != nil {
				break
			}
		}
	case segmentation.MutationRekey:
		cols := featureCols + `, tags`
		err = w.exec(ctx, `INSERT INTO customers (customer_id, `+cols+`)
			SELECT ?, `+cols+` FROM customers WHERE customer_id = ?
			ON CONFLICT (customer_id) DO UPDATE SET first_order_time = excluded.first_order_time,
			last_order_time = excluded.last_order_time, last_activity_time = excluded.last_activity_time,
			order_count = excluded.order_count, refund_count = excluded.refund_count, currency = excluded.currency,
			gross_minor = excluded.gross_minor, net_minor = excluded.net_minor, aov_minor = excluded.aov_minor,
			discount_share = excluded.discount_share, preferred_channel = excluded.preferred_channel,
			top_categories = excluded.top_categories, tags = excluded.tags`, m.NewID, m.ID)
		if err == nil {
			err = w.exec(ctx, `DELETE FROM customers WHERE customer_id = ?`, m.ID)
		}
		if err == nil {
			err = w.exec(ctx, `DELETE FROM static_members WHERE customer_id = ?`, m.ID)
		}
		if err == nil {
			err = w.exec(ctx, `DELETE FROM audience_changes WHERE customer_id = ?`, m.ID)
		}
		// The latest results move with the customer: the old id must stop
		// answering at once, and the anonymous id keeps its scores.
		if err == nil {
			err = moveResult(ctx, w.exec, m.ID, m.NewID)
		}
		// A recompute that loaded its inputs before this page moves its
		// result the same way when it stores it.
		if err == nil && w.record {
			w.pos++
			err = w.exec(ctx, `INSERT INTO rekeys (generation, position, old_id, new_id) VALUES (?, ?, ?, ?)`, w.gen, w.pos, m.ID, m.NewID)
		}
	default:
		err = fmt.Errorf("unknown mutation kind %d", m.Kind)
	}
	if err != nil {
		return fmt.Errorf("store: apply mutation of %s: %w", m.ID, err)
	}
	return nil
}

// moveResult moves the stored result of customer from to customer to,
// replacing any result to had, with exec running each statement.
func moveResult(ctx context.Context, exec func(ctx context.Context, query string, args ...any) error, from, to string) error {
	if err := exec(ctx, `DELETE FROM results WHERE customer_id = ?`, to); err != nil {
		return err
	}
	return exec(ctx, `UPDATE results SET customer_id = ? WHERE customer_id = ?`, to, from)
}

// upsertBatch collects upserts of distinct customers for PostgreSQL's
// array statements.
type upsertBatch struct {
	seen map[string]bool
	// customers with features
	ids, currency, channel, top                        []string
	first, last, activity, orders, refunds, gross, net []int64
	aov                                                []int64
	share                                              []float64
	// customers without features, and tag updates
	bare, tagIDs, tags []string
}

func (b *upsertBatch) has(id string) bool { return b.seen[id] }
func (b *upsertBatch) len() int           { return len(b.seen) }

func (b *upsertBatch) add(m *segmentation.Mutation) {
	if b.seen == nil {
		b.seen = map[string]bool{}
	}
	b.seen[m.ID] = true
	if f := m.Features; f != nil {
		b.ids = append(b.ids, m.ID)
		b.first, b.last, b.activity = append(b.first, nanos(f.FirstOrderTime)), append(b.last, nanos(f.LastOrderTime)), append(b.activity, nanos(f.LastActivityTime))
		b.orders, b.refunds = append(b.orders, f.OrderCount), append(b.refunds, f.RefundCount)
		b.currency, b.channel, b.top = append(b.currency, f.Currency), append(b.channel, f.PreferredChannel), append(b.top, encodeList(f.TopCategories))
		b.gross, b.net, b.aov = append(b.gross, f.GrossMinor), append(b.net, f.NetMinor), append(b.aov, f.AverageOrderValueMinor)
		b.share = append(b.share, f.DiscountShare)
	} else {
		b.bare = append(b.bare, m.ID)
	}
	if m.SetTags {
		b.tagIDs, b.tags = append(b.tagIDs, m.ID), append(b.tags, encodeList(m.Tags))
	}
}

func (b *upsertBatch) reset() {
	clear(b.seen)
	b.ids, b.currency, b.channel, b.top = b.ids[:0], b.currency[:0], b.channel[:0], b.top[:0]
	b.first, b.last, b.activity, b.orders, b.refunds = b.first[:0], b.last[:0], b.activity[:0], b.orders[:0], b.refunds[:0]
	b.gross, b.net, b.aov, b.share = b.gross[:0], b.net[:0], b.aov[:0], b.share[:0]
	b.bare, b.tagIDs, b.tags = b.bare[:0], b.tagIDs[:0], b.tags[:0]
}

const pgUpsertFeatures = `INSERT INTO customers (customer_id, ` + featureCols + `)
	SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[],
		$8::bigint[], $9::bigint[], $10::bigint[], $11::float8[], $12::text[], $13::text[])
	ON CONFLICT (customer_id) DO UPDATE SET first_order_time = excluded.first_order_time,
	last_order_time = excluded.last_order_time, last_activity_time = excluded.last_activity_time,
	order_count = excluded.order_count, refund_count = excluded.refund_count, currency = excluded.currency,
	gross_minor = excluded.gross_minor, net_minor = excluded.net_minor, aov_minor = excluded.aov_minor,
	discount_share = excluded.discount_share, preferred_channel = excluded.preferred_channel,
	top_categories = excluded.top_categories`

// write applies the batch: the ids are distinct, so the order of the
// statements does not matter except that tags go last.
func (b *upsertBatch) write(ctx context.Context, tx *sql.Tx) error {
	if len(b.ids) > 0 {
		if _, err := tx.ExecContext(ctx, pgUpsertFeatures, b.ids, b.first, b.last, b.activity, b.orders, b.refunds,
			b.currency, b.gross, b.net, b.aov, b.share, b.channel, b.top); err != nil {
			return fmt.Errorf("store: upsert customers: %w", err)
		}
	}
	if len(b.bare) > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO customers (customer_id) SELECT unnest($1::text[])
			ON CONFLICT (customer_id) DO NOTHING`, b.bare); err != nil {
			return fmt.Errorf("store: insert customers: %w", err)
		}
	}
	if len(b.tagIDs) > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE customers AS c SET tags = u.tags
			FROM unnest($1::text[], $2::text[]) AS u(id, tags) WHERE c.customer_id = u.id`, b.tagIDs, b.tags); err != nil {
			return fmt.Errorf("store: update tags: %w", err)
		}
	}
	return nil
}
