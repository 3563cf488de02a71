// Package store implements segmentation.Store over SQL, one implementation
// for SQLite and PostgreSQL, with its schema migrations embedded.
package store

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

//go:embed migrations
var migrations embed.FS

// Store is the SQL implementation of segmentation.Store.
type Store struct {
	db           *sqlstore.DB
	beforeCommit BeforeCommitFunc
}

var _ segmentation.Store = (*Store)(nil)

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
	return nil
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
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, fmt.Errorf("store: decode list %q: %w", s, err)
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

// Cursor implements segmentation.Store.
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

// ApplyPage implements segmentation.Store.
func (s *Store) ApplyPage(ctx context.Context, muts []segmentation.Mutation, cursor int64) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		cur, err := s.cursor(ctx, tx, s.forUpdate())
		if err != nil {
			return err
		}
		if cursor <= cur {
			return nil // applied already (by this or another replica)
		}
		forgets := false
		for i := range muts {
			if err := s.apply(ctx, tx, &muts[i]); err != nil {
				return err
			}
			forgets = forgets || muts[i].Kind == segmentation.MutationDelete || muts[i].Kind == segmentation.MutationRekey
		}
		if forgets {
			if _, err := tx.ExecContext(ctx, `UPDATE results_generation SET generation = generation + 1 WHERE id = 1`); err != nil {
				return fmt.Errorf("store: bump results generation: %w", err)
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

// ResultsGeneration implements segmentation.Store.
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

func (s *Store) apply(ctx context.Context, tx *sql.Tx, m *segmentation.Mutation) error {
	var err error
	switch m.Kind {
	case segmentation.MutationUpsert:
		if m.Features != nil {
			_, err = tx.ExecContext(ctx, s.q(upsertFeatures), append([]any{m.ID}, featureArgs(m.Features)...)...)
		} else {
			_, err = tx.ExecContext(ctx, s.q(`INSERT INTO customers (customer_id) VALUES (?) ON CONFLICT (customer_id) DO NOTHING`), m.ID)
		}
		if err == nil && m.SetTags {
			_, err = tx.ExecContext(ctx, s.q(`UPDATE customers SET tags = ? WHERE customer_id = ?`), encodeList(m.Tags), m.ID)
		}
	case segmentation.MutationDelete:
		for _, table := range []string{"customers", "static_members", "results"} {
			if _, err = tx.ExecContext(ctx, s.q(`DELETE FROM `+table+` WHERE customer_id = ?`), m.ID); err != nil {
				break
			}
		}
	case segmentation.MutationRekey:
		cols := featureCols + `, tags`
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO customers (customer_id, `+cols+`)
			SELECT ?, `+cols+` FROM customers WHERE customer_id = ?
			ON CONFLICT (customer_id) DO UPDATE SET first_order_time = excluded.first_order_time,
			last_order_time = excluded.last_order_time, last_activity_time = excluded.last_activity_time,
			order_count = excluded.order_count, refund_count = excluded.refund_count, currency = excluded.currency,
			gross_minor = excluded.gross_minor, net_minor = excluded.net_minor, aov_minor = excluded.aov_minor,
			discount_share = excluded.discount_share, preferred_channel = excluded.preferred_channel,
			top_categories = excluded.top_categories, tags = excluded.tags`), m.NewID, m.ID)
		if err == nil {
			_, err = tx.ExecContext(ctx, s.q(`DELETE FROM customers WHERE customer_id = ?`), m.ID)
		}
		if err == nil {
			_, err = tx.ExecContext(ctx, s.q(`DELETE FROM static_members WHERE customer_id = ?`), m.ID)
		}
		// The latest results move with the customer: the old id must stop
		// answering at once, and the anonymous id keeps its scores.
		if err == nil {
			_, err = tx.ExecContext(ctx, s.q(`DELETE FROM results WHERE customer_id = ?`), m.NewID)
		}
		if err == nil {
			_, err = tx.ExecContext(ctx, s.q(`UPDATE results SET customer_id = ? WHERE customer_id = ?`), m.NewID, m.ID)
		}
	default:
		err = fmt.Errorf("unknown mutation kind %d", m.Kind)
	}
	if err != nil {
		return fmt.Errorf("store: apply mutation of %s: %w", m.ID, err)
	}
	return nil
}

const customerCols = `customer_id, ` + featureCols + `, tags`

func scanCustomer(r interface{ Scan(...any) error }) (segmentation.Customer, error) {
	var (
		c                     segmentation.Customer
		first, last, activity int64
		top, tags             string
	)
	f := &c.Features
	if err := r.Scan(&c.ID, &first, &last, &activity, &f.OrderCount, &f.RefundCount, &f.Currency, &f.GrossMinor,
		&f.NetMinor, &f.AverageOrderValueMinor, &f.DiscountShare, &f.PreferredChannel, &top, &tags); err != nil {
		return c, err
	}
	f.FirstOrderTime, f.LastOrderTime, f.LastActivityTime = fromNanos(first), fromNanos(last), fromNanos(activity)
	var err error
	if f.TopCategories, err = decodeList(top); err != nil {
		return c, err
	}
	c.Tags, err = decodeList(tags)
	return c, err
}

// GetCustomer implements segmentation.Store.
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

// LoadCustomers implements segmentation.Store.
func (s *Store) LoadCustomers(ctx context.Context) ([]segmentation.Customer, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM customers`).Scan(&n); err != nil {
		return nil, fmt.Errorf("store: count customers: %w", err)
	}
	out := make([]segmentation.Customer, 0, n)
	rows, err := s.db.QueryContext(ctx, `SELECT `+customerCols+` FROM customers ORDER BY customer_id`)
	if err != nil {
		return nil, fmt.Errorf("store: load customers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanCustomer(rows)
		if err != nil {
			return nil, fmt.Errorf("store: load customers: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: load customers: %w", err)
	}
	return out, nil
}

// LatestSettings implements segmentation.Store.
func (s *Store) LatestSettings(ctx context.Context) (segmentation.SettingsVersion, error) {
	return s.scanSettings(s.db.QueryRowContext(ctx, `SELECT version, data, update_time FROM settings ORDER BY version DESC LIMIT 1`), 0)
}

// GetSettings implements segmentation.Store.
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

// InsertSettings implements segmentation.Store.
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

// CreateSegment implements segmentation.Store.
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

// GetSegment implements segmentation.Store.
func (s *Store) GetSegment(ctx context.Context, id string) (segmentation.SegmentDef, error) {
	return s.getSegment(ctx, s.db, id, "")
}

// ListSegments implements segmentation.Store.
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

// UpdateSegment implements segmentation.Store.
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

// DeleteSegment implements segmentation.Store.
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

// AddStaticMembers implements segmentation.Store.
func (s *Store) AddStaticMembers(ctx context.Context, id string, customers []string) (int64, int64, error) {
	return s.changeMembers(ctx, id, customers, true)
}

// RemoveStaticMembers implements segmentation.Store.
func (s *Store) RemoveStaticMembers(ctx context.Context, id string, customers []string) (int64, int64, error) {
	return s.changeMembers(ctx, id, customers, false)
}

// StaticMembers implements segmentation.Store.
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
