// Package store implements segmentation's storage interfaces over SQL, one
// implementation for SQLite and PostgreSQL, with its schema migrations
// embedded.
package store

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

//go:embed migrations
var migrations embed.FS

// Store is the SQL implementation of segmentation's storage interfaces,
// one per aggregate.
type Store struct {
	db           *sqlstore.DB
	beforeCommit BeforeCommitFunc
}

var (
	_ segmentation.InputStore     = (*Store)(nil)
	_ segmentation.SettingsStore  = (*Store)(nil)
	_ segmentation.SegmentStore   = (*Store)(nil)
	_ segmentation.OperationStore = (*Store)(nil)
	_ segmentation.ResultStore    = (*Store)(nil)
)

// BeforeCommitFunc is called by ApplyPage inside its transaction, after the
// mutations and the cursor are written and before the commit, with the
// page's range of sequences (from, to]. An error rolls the page back.
type BeforeCommitFunc func(ctx context.Context, tx *sql.Tx, from, to int64) error

// Option configures a Store.
type Option func(*Store)

// WithBeforeCommit installs fn as the ApplyPage hook. Tests use it to keep
// an apply log in the page's transaction and to inject failures.
func WithBeforeCommit(fn BeforeCommitFunc) Option { return func(s *Store) { s.beforeCommit = fn } }

// New returns a Store over db. Call Migrate before use.
func New(db *sqlstore.DB, opts ...Option) *Store {
	s := &Store{db: db}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Migrations returns the embedded schema migrations.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the embedded directory always exists
	}
	return sub
}

// Migrate applies the segmentation schema migrations.
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.db.Migrate(ctx, "segmentation", Migrations()); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return s.migrateIdempotency(ctx)
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func encodeList(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l) // []string always marshals
	return string(b)
}

func decodeList(s string) ([]string, error) {
	if s == "" || s == "[]" {
		return nil, nil
	}
	if l, ok := decodeSimpleList(s, nil); ok {
		return l, nil
	}
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, fmt.Errorf("store: decode list %q: %w", s, err)
	}
	return l, nil
}

// decodeSimpleList decodes the JSON array of strings encodeList writes
// when no string needs an escape (["a","b"], no spaces), interning the
// strings through in when it is not nil. It reports false for anything
// else, which encoding/json then decodes.
func decodeSimpleList(s string, in *interner) ([]string, bool) {
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return nil, false
	}
	body := s[1 : len(s)-1]
	if body == "" {
		return nil, true
	}
	l := make([]string, 0, strings.Count(body, `","`)+1)
	for {
		if len(body) < 2 || body[0] != '"' {
			return nil, false
		}
		end := strings.IndexByte(body[1:], '"') + 1
		if end == 0 {
			return nil, false
		}
		v := body[1:end]
		for i := 0; i < len(v); i++ {
			if v[i] == '\\' || v[i] < 0x20 {
				return nil, false
			}
		}
		if !utf8.ValidString(v) { // encoding/json would replace the bad bytes
			return nil, false
		}
		if in != nil {
			v = in.str(v)
		}
		l = append(l, v)
		body = body[end+1:]
		if body == "" {
			return l, true
		}
		if body[0] != ',' {
			return nil, false
		}
		body = body[1:]
	}
}

// interner shares the strings and string lists that repeat across
// customers (currencies, channels, categories, tags come from small
// vocabularies), so a million loaded customers do not hold millions of
// copies of the same few words. It stops adding entries at internLimit,
// bounding its own size when values turn out not to repeat.
type interner struct {
	strs  map[string]string
	lists map[string][]string
}

const internLimit = 1 << 16

func newInterner() *interner {
	return &interner{strs: map[string]string{}, lists: map[string][]string{}}
}

func (in *interner) str(s string) string {
	if v, ok := in.strs[s]; ok {
		return v
	}
	if len(in.strs) < internLimit {
		s = strings.Clone(s) // s may point into a larger column value
		in.strs[s] = s
	}
	return s
}

// list decodes the encoded list s. Lists with equal encodings share one
// backing array (clipped, so an append copies); callers must not modify
// the elements.
func (in *interner) list(s string) ([]string, error) {
	if s == "" || s == "[]" {
		return nil, nil
	}
	if l, ok := in.lists[s]; ok {
		return l, nil
	}
	l, ok := decodeSimpleList(s, in)
	if !ok {
		var err error
		if l, err = decodeList(s); err != nil {
			return nil, err
		}
		for i := range l {
			l[i] = in.str(l[i])
		}
	}
	l = slices.Clip(l)
	if len(in.lists) < internLimit {
		in.lists[s] = l
	}
	return l, nil
}

func (s *Store) q(query string) string { return s.db.Rebind(query) }

func (s *Store) forUpdate() string {
	if s.db.Dialect == sqlstore.Postgres {
		return " FOR UPDATE"
	}
	return ""
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

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

const featureCols = `first_order_time, last_order_time, last_activity_time, order_count, refund_count, currency,
	gross_minor, net_minor, aov_minor, discount_share, preferred_channel, top_categories`

func featureArgs(f *segmentation.Features) []any {
	return []any{nanos(f.FirstOrderTime), nanos(f.LastOrderTime), nanos(f.LastActivityTime), f.OrderCount, f.RefundCount,
		f.Currency, f.GrossMinor, f.NetMinor, f.AverageOrderValueMinor, f.DiscountShare, f.PreferredChannel, encodeList(f.TopCategories)}
}

// ApplyPage implements segmentation.InputStore.
func (s *Store) ApplyPage(ctx context.Context, muts []segmentation.Mutation, cursor int64) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		cur, err := s.cursor(ctx, tx, s.forUpdate())
		if err != nil {
			return err
		}
		if cursor <= cur {
			return nil // applied already (by this or another replica)
		}
		w := pageWriter{s: s, tx: tx}
		if slices.ContainsFunc(muts, forgets) {
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
		}
		if err := w.flush(ctx); err != nil {
			return err
		}
		if slices.ContainsFunc(muts, forgets) {
			if err := s.forgetRequests(ctx, tx, muts); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO stream_cursor (id, sequence) VALUES (1, ?)
			ON CONFLICT (id) DO UPDATE SET sequence = excluded.sequence`), cursor)
		if err != nil {
			return fmt.Errorf("store: write cursor: %w", err)
		}
		if s.beforeCommit != nil {
			return s.beforeCommit(ctx, tx, cur, cursor)
		}
		return nil
	})
}

// forgets reports whether m deletes or re-keys a customer (and so its
// stored result).
func forgets(m segmentation.Mutation) bool {
	return m.Kind == segmentation.MutationDelete || m.Kind == segmentation.MutationRekey
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
		for _, table := range []string{"customers", "static_members", "results"} {
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
		// The latest results move with the customer: the old id must stop
		// answering at once, and the anonymous id keeps its scores.
		if err == nil {
			err = w.exec(ctx, `DELETE FROM results WHERE customer_id = ?`, m.NewID)
		}
		if err == nil {
			err = w.exec(ctx, `UPDATE results SET customer_id = ? WHERE customer_id = ?`, m.NewID, m.ID)
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

const customerCols = `customer_id, ` + featureCols + `, tags`

func scanCustomer(r interface{ Scan(...any) error }) (segmentation.Customer, error) {
	var c segmentation.Customer
	err := (&customerScanner{}).scan(r, &c)
	return c, err
}

// customerScanner scans customer rows into reused column variables and,
// with an interner, shares repeated strings and lists across customers.
type customerScanner struct {
	first, last, activity int64
	top, tags             string
	in                    *interner
}

// dest returns the scan destinations of a customerCols row into c.
func (cs *customerScanner) dest(c *segmentation.Customer) []any {
	f := &c.Features
	return []any{&c.ID, &cs.first, &cs.last, &cs.activity, &f.OrderCount, &f.RefundCount, &f.Currency, &f.GrossMinor,
		&f.NetMinor, &f.AverageOrderValueMinor, &f.DiscountShare, &f.PreferredChannel, &cs.top, &cs.tags}
}

func (cs *customerScanner) scan(r interface{ Scan(...any) error }, c *segmentation.Customer) error {
	if err := r.Scan(cs.dest(c)...); err != nil {
		return err
	}
	return cs.finish(c)
}

// finish converts the scanned columns into c's fields.
func (cs *customerScanner) finish(c *segmentation.Customer) error {
	f := &c.Features
	f.FirstOrderTime, f.LastOrderTime, f.LastActivityTime = fromNanos(cs.first), fromNanos(cs.last), fromNanos(cs.activity)
	var err error
	if cs.in == nil {
		if f.TopCategories, err = decodeList(cs.top); err != nil {
			return err
		}
		c.Tags, err = decodeList(cs.tags)
		return err
	}
	f.Currency, f.PreferredChannel = cs.in.str(f.Currency), cs.in.str(f.PreferredChannel)
	if f.TopCategories, err = cs.in.list(cs.top); err != nil {
		return err
	}
	c.Tags, err = cs.in.list(cs.tags)
	return err
}

// GetCustomer implements segmentation.InputStore.
func (s *Store) GetCustomer(ctx context.Context, id string) (segmentation.Customer, error) {
	c, err := scanCustomer(s.db.QueryRowContext(ctx, s.q(`SELECT `+customerCols+` FROM customers WHERE customer_id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("%w: %s", segmentation.ErrCustomerNotFound, id)
	}
	if err != nil {
		return c, fmt.Errorf("store: get customer: %w", err)
	}
	return c, nil
}

// LoadCustomers implements segmentation.InputStore. Customers share the
// backing arrays of equal tag and category lists.
func (s *Store) LoadCustomers(ctx context.Context) ([]segmentation.Customer, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM customers`).Scan(&n); err != nil {
		return nil, fmt.Errorf("store: count customers: %w", err)
	}
	out := make([]segmentation.Customer, 0, n)
	cs := customerScanner{in: newInterner()}
	var c segmentation.Customer
	err := s.db.ScanEach(ctx, `SELECT `+customerCols+` FROM customers ORDER BY customer_id`, nil, cs.dest(&c), func() error {
		if err := cs.finish(&c); err != nil {
			return err
		}
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: load customers: %w", err)
	}
	return out, nil
}

// LatestSettings implements segmentation.SettingsStore.
func (s *Store) LatestSettings(ctx context.Context) (segmentation.SettingsVersion, error) {
	return s.scanSettings(s.db.QueryRowContext(ctx, `SELECT version, data, update_time FROM settings ORDER BY version DESC LIMIT 1`), 0)
}

// GetSettings implements segmentation.SettingsStore.
func (s *Store) GetSettings(ctx context.Context, version int64) (segmentation.SettingsVersion, error) {
	return s.scanSettings(s.db.QueryRowContext(ctx, s.q(`SELECT version, data, update_time FROM settings WHERE version = ?`), version), version)
}

func (s *Store) scanSettings(row *sql.Row, version int64) (segmentation.SettingsVersion, error) {
	var (
		v    segmentation.SettingsVersion
		data string
		ut   int64
	)
	err := row.Scan(&v.Version, &data, &ut)
	if errors.Is(err, sql.ErrNoRows) {
		if version == 0 {
			return v, segmentation.ErrSettingsNotFound
		}
		return v, fmt.Errorf("%w: version %d", segmentation.ErrSettingsNotFound, version)
	}
	if err != nil {
		return v, fmt.Errorf("store: read settings: %w", err)
	}
	if err := json.Unmarshal([]byte(data), &v.Settings); err != nil {
		return v, fmt.Errorf("store: decode settings version %d: %w", v.Version, err)
	}
	v.UpdateTime = fromNanos(ut)
	return v, nil
}

// InsertSettings implements segmentation.SettingsStore.
func (s *Store) InsertSettings(ctx context.Context, set segmentation.Settings, expected int64, now time.Time) (segmentation.SettingsVersion, error) {
	data, err := json.Marshal(set)
	if err != nil {
		return segmentation.SettingsVersion{}, fmt.Errorf("store: encode settings: %w", err)
	}
	v := segmentation.SettingsVersion{Version: expected + 1, Settings: set, UpdateTime: now}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		var latest int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM settings`).Scan(&latest); err != nil {
			return err
		}
		if latest != expected {
			return fmt.Errorf("%w: settings are at version %d, not %d", segmentation.ErrETagMismatch, latest, expected)
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO settings (version, data, update_time) VALUES (?, ?, ?)`), v.Version, string(data), nanos(now))
		if s.db.IsUniqueViolation(err) {
			return fmt.Errorf("%w: settings version %d exists", segmentation.ErrETagMismatch, v.Version)
		}
		return err
	})
	if err != nil {
		if errors.Is(err, segmentation.ErrETagMismatch) {
			return segmentation.SettingsVersion{}, err
		}
		return segmentation.SettingsVersion{}, fmt.Errorf("store: insert settings: %w", err)
	}
	return v, nil
}

const segmentCols = `segment_id, display_name, description, kind, rule, create_time, update_time, revision`

func scanSegment(r interface{ Scan(...any) error }) (segmentation.SegmentDef, error) {
	var (
		g      segmentation.SegmentDef
		kind   int64
		ct, ut int64
	)
	err := r.Scan(&g.ID, &g.DisplayName, &g.Description, &kind, &g.Rule, &ct, &ut, &g.Revision)
	g.Kind = segmentation.SegmentKind(kind)
	g.CreateTime, g.UpdateTime = fromNanos(ct), fromNanos(ut)
	return g, err
}

// CreateSegment implements segmentation.SegmentStore.
func (s *Store) CreateSegment(ctx context.Context, g segmentation.SegmentDef) (segmentation.SegmentDef, error) {
	g.Revision = 1
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO segments (`+segmentCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		g.ID, g.DisplayName, g.Description, int64(g.Kind), g.Rule, nanos(g.CreateTime), nanos(g.UpdateTime), g.Revision)
	if s.db.IsUniqueViolation(err) {
		return segmentation.SegmentDef{}, fmt.Errorf("%w: %s", segmentation.ErrSegmentAlreadyExists, g.ID)
	}
	if err != nil {
		return segmentation.SegmentDef{}, fmt.Errorf("store: create segment: %w", err)
	}
	return g, nil
}

func (s *Store) getSegment(ctx context.Context, q queryer, id, suffix string) (segmentation.SegmentDef, error) {
	g, err := scanSegment(q.QueryRowContext(ctx, s.q(`SELECT `+segmentCols+` FROM segments WHERE segment_id = ?`+suffix), id))
	if errors.Is(err, sql.ErrNoRows) {
		return g, fmt.Errorf("%w: %s", segmentation.ErrSegmentNotFound, id)
	}
	if err != nil {
		return g, fmt.Errorf("store: get segment: %w", err)
	}
	return g, nil
}

// GetSegment implements segmentation.SegmentStore.
func (s *Store) GetSegment(ctx context.Context, id string) (segmentation.SegmentDef, error) {
	return s.getSegment(ctx, s.db, id, "")
}

// ListSegments implements segmentation.SegmentStore.
func (s *Store) ListSegments(ctx context.Context, afterID string, limit int) ([]segmentation.SegmentDef, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+segmentCols+` FROM segments WHERE segment_id > ? ORDER BY segment_id LIMIT ?`), afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list segments: %w", err)
	}
	defer rows.Close()
	var out []segmentation.SegmentDef
	for rows.Next() {
		g, err := scanSegment(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list segments: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// UpdateSegment implements segmentation.SegmentStore.
func (s *Store) UpdateSegment(ctx context.Context, id string, fn func(*segmentation.SegmentDef) error) (segmentation.SegmentDef, error) {
	var out segmentation.SegmentDef
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		g, err := s.getSegment(ctx, tx, id, s.forUpdate())
		if err != nil {
			return err
		}
		if err := fn(&g); err != nil {
			return err
		}
		g.ID = id
		g.Revision++
		_, err = tx.ExecContext(ctx, s.q(`UPDATE segments SET display_name = ?, description = ?, rule = ?, update_time = ?, revision = ?
			WHERE segment_id = ?`), g.DisplayName, g.Description, g.Rule, nanos(g.UpdateTime), g.Revision, id)
		if err != nil {
			return fmt.Errorf("store: update segment: %w", err)
		}
		out = g
		return nil
	})
	return out, err
}

// DeleteSegment implements segmentation.SegmentStore.
func (s *Store) DeleteSegment(ctx context.Context, id string, check func(segmentation.SegmentDef) error) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		g, err := s.getSegment(ctx, tx, id, s.forUpdate())
		if err != nil {
			return err
		}
		if err := check(g); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM static_members WHERE segment_id = ?`), id); err != nil {
			return fmt.Errorf("store: delete segment members: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM segments WHERE segment_id = ?`), id); err != nil {
			return fmt.Errorf("store: delete segment: %w", err)
		}
		return nil
	})
}

func (s *Store) changeMembers(ctx context.Context, id string, customers []string, add bool) (changed, total int64, err error) {
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		changed, total = 0, 0
		g, err := s.getSegment(ctx, tx, id, s.forUpdate())
		if err != nil {
			return err
		}
		if g.Kind != segmentation.SegmentKindStatic {
			return fmt.Errorf("%w: %s is a rule segment", segmentation.ErrNotStaticSegment, id)
		}
		query := s.q(`DELETE FROM static_members WHERE segment_id = ? AND customer_id = ?`)
		if add {
			query = s.q(`INSERT INTO static_members (segment_id, customer_id) VALUES (?, ?) ON CONFLICT DO NOTHING`)
		}
		stmt, err := tx.PrepareContext(ctx, query)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, c := range customers {
			res, err := stmt.ExecContext(ctx, id, c)
			if err != nil {
				return fmt.Errorf("store: change members: %w", err)
			}
			n, _ := res.RowsAffected()
			changed += n
		}
		return tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM static_members WHERE segment_id = ?`), id).Scan(&total)
	})
	return changed, total, err
}

// AddStaticMembers implements segmentation.SegmentStore.
func (s *Store) AddStaticMembers(ctx context.Context, id string, customers []string) (int64, int64, error) {
	return s.changeMembers(ctx, id, customers, true)
}

// RemoveStaticMembers implements segmentation.SegmentStore.
func (s *Store) RemoveStaticMembers(ctx context.Context, id string, customers []string) (int64, int64, error) {
	return s.changeMembers(ctx, id, customers, false)
}

// StaticMembers implements segmentation.SegmentStore.
func (s *Store) StaticMembers(ctx context.Context) (map[string][]string, error) {
	out := map[string][]string{}
	rows, err := s.db.QueryContext(ctx, `SELECT g.segment_id, m.customer_id FROM segments g
		LEFT JOIN static_members m ON m.segment_id = g.segment_id
		WHERE g.kind = 2 ORDER BY g.segment_id, m.customer_id`)
	if err != nil {
		return nil, fmt.Errorf("store: static members: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seg string
		var c sql.NullString
		if err := rows.Scan(&seg, &c); err != nil {
			return nil, fmt.Errorf("store: static members: %w", err)
		}
		if c.Valid {
			out[seg] = append(out[seg], c.String)
		} else {
			out[seg] = nil
		}
	}
	return out, rows.Err()
}
