// Package store implements profile.Store over SQL, one implementation for
// SQLite and PostgreSQL, with its schema migrations embedded.
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

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/profile/internal/profile"
)

//go:embed migrations
var migrations embed.FS

// appendLockKey is the PostgreSQL advisory lock every writer of the event
// log holds for the rest of its transaction. It makes sequence order equal
// commit order, and serialises feature folding per customer across
// replicas. (SQLite transactions are immediate, so writers are serialised
// already.)
const appendLockKey = 5_837_104_113

// Store is the SQL implementation of profile.Store.
type Store struct {
	db *sqlstore.DB
}

var _ profile.Store = (*Store)(nil)

// New returns a Store over db. Call Migrate before use.
func New(db *sqlstore.DB) *Store {
	return &Store{db: db}
}

// Migrations returns the embedded schema migrations, laid out as
// sqlstore.DB.Migrate expects.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the embedded directory always exists
	}
	return sub
}

// Migrate applies the profile schema migrations.
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.db.Migrate(ctx, "profile", Migrations()); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return s.migrateIdempotency(ctx)
}

const customerColumns = `customer_id, full_name, email, phone, birthday, time_zone, country,
	registration_time, registration_channel, consent_email, consent_sms, consent_push,
	tags, state, features, create_time, update_time, revision`

// Timestamps are stored as Unix nanoseconds; 0 is the zero time.
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

type rowScanner interface {
	Scan(dest ...any) error
}

func scanCustomer(r rowScanner) (profile.Customer, error) {
	var (
		c                                   profile.Customer
		regTime, createTime, updateTime     int64
		consentEmail, consentSMS, consentPh int64
		state                               int64
		tags, features                      string
	)
	err := r.Scan(&c.ID, &c.FullName, &c.Email, &c.Phone, &c.Birthday, &c.TimeZone, &c.Country,
		&regTime, &c.RegistrationChannel, &consentEmail, &consentSMS, &consentPh,
		&tags, &state, &features, &createTime, &updateTime, &c.Revision)
	if err != nil {
		return profile.Customer{}, err
	}
	c.RegistrationTime = fromNanos(regTime)
	c.Consent = profile.Consent{
		Email: profile.ConsentState(consentEmail),
		SMS:   profile.ConsentState(consentSMS),
		Push:  profile.ConsentState(consentPh),
	}
	c.State = profile.CustomerState(state)
	c.CreateTime = fromNanos(createTime)
	c.UpdateTime = fromNanos(updateTime)
	if err := json.Unmarshal([]byte(tags), &c.Tags); err != nil {
		return profile.Customer{}, fmt.Errorf("store: decode tags of %s: %w", c.ID, err)
	}
	if len(c.Tags) == 0 {
		c.Tags = nil
	}
	if c.Features, err = parseFeatures(features); err != nil {
		return profile.Customer{}, fmt.Errorf("store: decode features of %s: %w", c.ID, err)
	}
	return c, nil
}

func encodeTags(tags []string) (string, error) {
	if tags == nil {
		tags = []string{}
	}
	b, err := json.Marshal(tags)
	return string(b), err
}

// lockLog takes the event-log lock on PostgreSQL.
func (s *Store) lockLog(ctx context.Context, tx *sql.Tx) error {
	if s.db.Dialect != sqlstore.Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(appendLockKey)); err != nil {
		return fmt.Errorf("store: lock event log: %w", err)
	}
	return nil
}

// forUpdate is the row-locking suffix for a read that precedes a write.
func (s *Store) forUpdate() string {
	if s.db.Dialect == sqlstore.Postgres {
		return " FOR UPDATE"
	}
	return "" // the immediate transaction already holds the write lock
}

// queryRower is a *sql.DB or a *sql.Tx.
type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// getCustomer reads one customer; lock also locks its row until the end of
// the transaction q belongs to.
func (s *Store) getCustomer(ctx context.Context, q queryRower, id string, lock bool) (profile.Customer, error) {
	query := `SELECT ` + customerColumns + ` FROM customers WHERE customer_id = ?`
	if lock {
		query += s.forUpdate()
	}
	stmt, err := s.db.Prepared(ctx, s.db.Rebind(query))
	if err != nil {
		return profile.Customer{}, fmt.Errorf("store: get customer %s: %w", id, err)
	}
	if tx, ok := q.(*sql.Tx); ok {
		stmt = tx.StmtContext(ctx, stmt)
		defer stmt.Close()
	}
	c, err := scanCustomer(stmt.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return profile.Customer{}, fmt.Errorf("%w: %s", profile.ErrCustomerNotFound, id)
	}
	if err != nil {
		return profile.Customer{}, fmt.Errorf("store: get customer %s: %w", id, err)
	}
	return c, nil
}

// insertCustomer writes every column of c as a new row.
func (s *Store) insertCustomer(ctx context.Context, tx *sql.Tx, c profile.Customer, onConflictNothing bool) (bool, error) {
	tags, err := encodeTags(c.Tags)
	if err != nil {
		return false, err
	}
	features, err := encodeFeatures(c.Features)
	if err != nil {
		return false, err
	}
	query := `INSERT INTO customers (` + customerColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	if onConflictNothing {
		query += ` ON CONFLICT (customer_id) DO NOTHING`
	}
	res, err := tx.ExecContext(ctx, s.db.Rebind(query),
		c.ID, c.FullName, c.Email, c.Phone, c.Birthday, c.TimeZone, c.Country,
		nanos(c.RegistrationTime), c.RegistrationChannel,
		int64(c.Consent.Email), int64(c.Consent.SMS), int64(c.Consent.Push),
		tags, int64(c.State), features, nanos(c.CreateTime), nanos(c.UpdateTime), c.Revision)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// writeProfile writes the profile fields, state, update time and revision
// of c, and syncs customer_tags from old to c.Tags.
func (s *Store) writeProfile(ctx context.Context, tx *sql.Tx, c profile.Customer, oldTags []string) error {
	tags, err := encodeTags(c.Tags)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, s.db.Rebind(`UPDATE customers SET
		full_name = ?, email = ?, phone = ?, birthday = ?, time_zone = ?, country = ?,
		registration_time = ?, registration_channel = ?,
		consent_email = ?, consent_sms = ?, consent_push = ?,
		tags = ?, state = ?, update_time = ?, revision = ?
		WHERE customer_id = ?`),
		c.FullName, c.Email, c.Phone, c.Birthday, c.TimeZone, c.Country,
		nanos(c.RegistrationTime), c.RegistrationChannel,
		int64(c.Consent.Email), int64(c.Consent.SMS), int64(c.Consent.Push),
		tags, int64(c.State), nanos(c.UpdateTime), c.Revision, c.ID)
	if err != nil {
		return fmt.Errorf("store: write customer %s: %w", c.ID, err)
	}
	return s.syncTags(ctx, tx, c.ID, oldTags, c.Tags)
}

func (s *Store) syncTags(ctx context.Context, tx *sql.Tx, id string, oldTags, newTags []string) error {
	for _, t := range oldTags {
		if !slices.Contains(newTags, t) {
			if _, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM customer_tags WHERE tag = ? AND customer_id = ?`), t, id); err != nil {
				return fmt.Errorf("store: remove tag: %w", err)
			}
		}
	}
	for _, t := range newTags {
		if !slices.Contains(oldTags, t) {
			if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO customer_tags (tag, customer_id) VALUES (?, ?)
				ON CONFLICT (tag, customer_id) DO NOTHING`), t, id); err != nil {
				return fmt.Errorf("store: add tag: %w", err)
			}
		}
	}
	return nil
}

// CreateCustomer implements profile.Store.
func (s *Store) CreateCustomer(ctx context.Context, c profile.Customer, event profile.CustomerEventFunc) (profile.Customer, error) {
	var out profile.Customer
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if event != nil {
			if err := s.lockLog(ctx, tx); err != nil {
				return err
			}
		}
		c := c
		c.Revision = 1
		c.Features = profile.Features{}
		inserted, err := s.insertCustomer(ctx, tx, c, true)
		if err != nil {
			return fmt.Errorf("store: create customer %s: %w", c.ID, err)
		}
		if inserted {
			if err := s.syncTags(ctx, tx, c.ID, nil, c.Tags); err != nil {
				return err
			}
			out = c
			return s.appendCustomerEvent(ctx, tx, event, profile.Customer{}, c)
		}
		existing, err := s.getCustomer(ctx, tx, c.ID, true)
		if err != nil {
			return err
		}
		if existing.State != profile.StateProvisional {
			return fmt.Errorf("%w (customer %s)", profile.ErrCustomerAlreadyExists, c.ID)
		}
		c.Features = existing.Features
		c.CreateTime = existing.CreateTime
		c.Revision = existing.Revision + 1
		c.State = profile.StateActive
		if err := s.writeProfile(ctx, tx, c, existing.Tags); err != nil {
			return err
		}
		out = c
		return s.appendCustomerEvent(ctx, tx, event, existing, c)
	})
	if err != nil {
		return profile.Customer{}, err
	}
	return out, nil
}

// GetCustomer implements profile.Store.
func (s *Store) GetCustomer(ctx context.Context, id string) (profile.Customer, error) {
	return s.getCustomer(ctx, s.db, id, false)
}

// ListCustomers implements profile.Store.
func (s *Store) ListCustomers(ctx context.Context, f profile.CustomerFilter) ([]profile.Customer, error) {
	var (
		b    strings.Builder
		args []any
	)
	b.WriteString(`SELECT `)
	for i, col := range strings.Split(customerColumns, ",") {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("c.")
		b.WriteString(strings.TrimSpace(col))
	}
	b.WriteString(` FROM customers c`)
	if f.Tag != "" {
		b.WriteString(` JOIN customer_tags t ON t.customer_id = c.customer_id AND t.tag = ?`)
		args = append(args, f.Tag)
	}
	b.WriteString(` WHERE c.customer_id > ?`)
	args = append(args, f.AfterID)
	if !f.UpdatedAfter.IsZero() {
		b.WriteString(` AND c.update_time >= ?`)
		args = append(args, nanos(f.UpdatedAfter))
	}
	b.WriteString(` ORDER BY c.customer_id LIMIT ?`)
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	args = append(args, limit)

	rows, err := s.db.QueryContext(ctx, s.db.Rebind(b.String()), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list customers: %w", err)
	}
	defer rows.Close()
	var out []profile.Customer
	for rows.Next() {
		c, err := scanCustomer(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list customers: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list customers: %w", err)
	}
	return out, nil
}

// UpdateCustomer implements profile.Store.
func (s *Store) UpdateCustomer(ctx context.Context, id string, fn func(c *profile.Customer) error, event profile.CustomerEventFunc) (profile.Customer, error) {
	var out profile.Customer
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		// The log lock comes before the row lock, in the order appends take
		// them.
		if event != nil {
			if err := s.lockLog(ctx, tx); err != nil {
				return err
			}
		}
		old, err := s.getCustomer(ctx, tx, id, true)
		if err != nil {
			return err
		}
		c := old
		c.Tags = slices.Clone(old.Tags)
		if err := fn(&c); err != nil {
			return err
		}
		// Only the profile fields are the callback's to change.
		c.ID, c.Features, c.CreateTime = old.ID, old.Features, old.CreateTime
		c.Revision = old.Revision + 1
		if err := s.writeProfile(ctx, tx, c, old.Tags); err != nil {
			return err
		}
		out = c
		return s.appendCustomerEvent(ctx, tx, event, old, c)
	})
	if err != nil {
		return profile.Customer{}, err
	}
	return out, nil
}

// DeleteCustomer implements profile.Store. A customer with events in the
// log other than system events is never deleted
// (profile.ErrCustomerHasEvents), whatever check says, so the log never
// refers to activity of a customer that is gone.
func (s *Store) DeleteCustomer(ctx context.Context, id string, check func(c profile.Customer) error, event profile.CustomerEventFunc) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		// Appends create customers; hold the log lock so none creates this
		// one's first event while it is deleted.
		if err := s.lockLog(ctx, tx); err != nil {
			return err
		}
		c, err := s.getCustomer(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if err := check(c); err != nil {
			return err
		}
		args := []any{id}
		for _, k := range profile.SystemKinds {
			args = append(args, string(k))
		}
		var one int
		err = tx.QueryRowContext(ctx, s.db.Rebind(`SELECT 1 FROM events WHERE customer_id = ?
			AND kind NOT IN (?`+strings.Repeat(", ?", len(profile.SystemKinds)-1)+`) LIMIT 1`), args...).Scan(&one)
		switch {
		case err == nil:
			return fmt.Errorf("%w (customer %s)", profile.ErrCustomerHasEvents, id)
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("store: delete customer %s: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM customers WHERE customer_id = ?`), id); err != nil {
			return fmt.Errorf("store: delete customer %s: %w", id, err)
		}
		if err := s.forgetResponses(ctx, tx, id); err != nil {
			return err
		}
		return s.appendCustomerEvent(ctx, tx, event, c, profile.Customer{})
	})
}

// appendCustomerEvent appends the system event event returns for a write of
// a customer, if any. The caller holds the log lock.
func (s *Store) appendCustomerEvent(ctx context.Context, tx *sql.Tx, event profile.CustomerEventFunc, before, after profile.Customer) error {
	if event == nil {
		return nil
	}
	e, ok := event(before, after)
	if !ok {
		return nil
	}
	kind, payload, err := encodePayload(e.Payload)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO events
		(event_id, customer_id, kind, occurred_at, record_time, payload) VALUES (?, ?, ?, ?, ?, ?)`),
		e.ID, e.CustomerID, kind, nanos(e.OccurredAt), nanos(e.RecordTime), payload); err != nil {
		return fmt.Errorf("store: append %s for %s: %w", kind, e.CustomerID, err)
	}
	return nil
}

// CustomerFeatures implements profile.Store.
func (s *Store) CustomerFeatures(ctx context.Context, ids []string) (map[string]profile.Features, error) {
	out := make(map[string]profile.Features, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var (
		rows *sql.Rows
		err  error
	)
	if s.db.Dialect == sqlstore.Postgres {
		rows, err = s.db.QueryContext(ctx, `SELECT customer_id, features FROM customers WHERE customer_id = ANY($1::text[])`, ids)
	} else {
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
		rows, err = s.db.QueryContext(ctx, `SELECT customer_id, features FROM customers WHERE customer_id IN (?`+
			strings.Repeat(", ?", len(ids)-1)+`)`, args...)
	}
	if err != nil {
		return nil, fmt.Errorf("store: customer features: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, data string
		if err := rows.Scan(&id, &data); err != nil {
			return nil, fmt.Errorf("store: customer features: %w", err)
		}
		f, err := parseFeatures(data)
		if err != nil {
			return nil, fmt.Errorf("store: decode features of %s: %w", id, err)
		}
		out[id] = f
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: customer features: %w", err)
	}
	return out, nil
}

const eventColumns = `sequence, event_id, customer_id, kind, occurred_at, record_time, payload`

func scanEvents(rows *sql.Rows) ([]profile.Event, error) {
	defer rows.Close()
	var out []profile.Event
	for rows.Next() {
		var (
			e                      profile.Event
			kind, payload          string
			occurredAt, recordTime int64
		)
		if err := rows.Scan(&e.Sequence, &e.ID, &e.CustomerID, &kind, &occurredAt, &recordTime, &payload); err != nil {
			return nil, err
		}
		p, err := decodePayload(kind, payload)
		if err != nil {
			return nil, fmt.Errorf("store: event %s: %w", e.ID, err)
		}
		e.Payload = p
		e.OccurredAt = fromNanos(occurredAt)
		e.RecordTime = fromNanos(recordTime)
		out = append(out, e)
	}
	return out, rows.Err()
}

// HeadSequence implements profile.Store.
func (s *Store) HeadSequence(ctx context.Context) (int64, error) {
	var head int64
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(sequence), 0) FROM events`).Scan(&head); err != nil {
		return 0, fmt.Errorf("store: head sequence: %w", err)
	}
	return head, nil
}

// ListEvents implements profile.Store.
func (s *Store) ListEvents(ctx context.Context, afterSequence int64, limit int) ([]profile.Event, error) {
	rows, err := s.db.QueryContext(ctx, s.db.Rebind(`SELECT `+eventColumns+` FROM events
		WHERE sequence > ? ORDER BY sequence LIMIT ?`), afterSequence, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list events: %w", err)
	}
	events, err := scanEvents(rows)
	if err != nil {
		return nil, fmt.Errorf("store: list events: %w", err)
	}
	return events, nil
}

// ListCustomerEvents implements profile.Store.
func (s *Store) ListCustomerEvents(ctx context.Context, customerID string, afterSequence int64, limit int) ([]profile.Event, error) {
	rows, err := s.db.QueryContext(ctx, s.db.Rebind(`SELECT `+eventColumns+` FROM events
		WHERE customer_id = ? AND sequence > ? ORDER BY sequence LIMIT ?`), customerID, afterSequence, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list customer events: %w", err)
	}
	events, err := scanEvents(rows)
	if err != nil {
		return nil, fmt.Errorf("store: list customer events: %w", err)
	}
	return events, nil
}

// EraseCustomer implements profile.Store.
func (s *Store) EraseCustomer(ctx context.Context, id string, erased profile.Event) (int64, error) {
	p, ok := erased.Payload.(profile.CustomerErased)
	if !ok || p.AnonymousID == "" {
		return 0, fmt.Errorf("store: erase %s: payload is not customer_erased with an anonymous id", id)
	}
	kind, payload, err := encodePayload(erased.Payload)
	if err != nil {
		return 0, err
	}
	var rekeyed int64
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockLog(ctx, tx); err != nil {
			return err
		}
		c, err := s.getCustomer(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if c.State == profile.StateErased {
			return fmt.Errorf("%w (customer %s)", profile.ErrCustomerErased, id)
		}
		res, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE events SET customer_id = ? WHERE customer_id = ?`), p.AnonymousID, id)
		if err != nil {
			return fmt.Errorf("store: re-key events of %s: %w", id, err)
		}
		if rekeyed, err = res.RowsAffected(); err != nil {
			return err
		}
		// Tags are personal data: drop them from the re-keyed
		// customer_updated events as from the customer.
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE events SET payload = ? WHERE customer_id = ? AND kind = ?`),
			"{}", p.AnonymousID, string(profile.KindCustomerUpdated)); err != nil {
			return fmt.Errorf("store: remove tags from events of %s: %w", id, err)
		}
		anon := profile.Customer{
			ID:         p.AnonymousID,
			State:      profile.StateErased,
			Features:   c.Features,
			CreateTime: c.CreateTime,
			UpdateTime: erased.RecordTime,
			Revision:   c.Revision + 1,
		}
		if _, err := s.insertCustomer(ctx, tx, anon, false); err != nil {
			return fmt.Errorf("store: write anonymous customer for %s: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM customers WHERE customer_id = ?`), id); err != nil {
			return fmt.Errorf("store: delete erased customer %s: %w", id, err)
		}
		if err := s.forgetResponses(ctx, tx, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO events
			(event_id, customer_id, kind, occurred_at, record_time, payload) VALUES (?, ?, ?, ?, ?, ?)`),
			erased.ID, id, kind, nanos(erased.OccurredAt), nanos(erased.RecordTime), payload); err != nil {
			return fmt.Errorf("store: append customer_erased for %s: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return rekeyed, nil
}
