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
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/profile/internal/profile"
)

//go:embed migrations
var migrations embed.FS

// Ordering of the event log on PostgreSQL. Writers of different customers
// run in parallel, so a sequence can commit after a higher one. Readers of
// the whole log therefore stop below the lowest sequence still in flight
// (see logHorizon), which every writer announces before it takes sequence
// numbers: a shared advisory lock on key inFlightBit|n, held until its
// transaction ends, says "my sequences are above n". Writers of one customer
// are ordered by its row lock, which they take before their sequences.
// (SQLite transactions are immediate: one writer at a time, so sequence
// order is commit order already.)
const (
	// inFlightBit marks the advisory lock keys that announce writers; the
	// rest of the key is a sequence (below 2^62).
	inFlightBit int64 = 1 << 62
	// eventSequence is the sequence behind events.sequence (BIGSERIAL).
	eventSequence = "events_sequence_seq"
)

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

// nanos and fromNanos store timestamps as Unix nanoseconds, 0 for none.
var nanos, fromNanos = sqlstore.Nanos, sqlstore.FromNanos

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

// announceInsert is the condition every PostgreSQL statement that inserts
// into events carries: it announces that its transaction is about to take
// sequence numbers, all above the last one handed out so far. PostgreSQL
// evaluates such an uncorrelated condition once, before the statement
// produces its first row, so before the first sequence is taken; putting
// it in the insert saves a round trip. Writers call it after locking the
// rows of the customers the events are for.
var announceInsert = `(SELECT pg_advisory_xact_lock_shared(
	COALESCE(pg_sequence_last_value('` + eventSequence + `'), 0) | ` + strconv.FormatInt(inFlightBit, 10) + `)) IS NOT NULL`

// insertEvent appends one event that is folded into no features (a system
// event).
func (s *Store) insertEvent(ctx context.Context, tx *sqlstore.Tx, e profile.Event, kind, payload string) error {
	query := `INSERT INTO events (event_id, customer_id, kind, occurred_at, record_time, payload)
		VALUES (?, ?, ?, ?, ?, ?)`
	if s.db.Dialect == sqlstore.Postgres {
		query = `INSERT INTO events (event_id, customer_id, kind, occurred_at, record_time, payload)
			SELECT $1, $2, $3, $4::bigint, $5::bigint, $6 WHERE ` + announceInsert
	}
	return tx.Exec(ctx, query, e.ID, e.CustomerID, kind, nanos(e.OccurredAt), nanos(e.RecordTime), payload)
}

// logHorizon returns the highest sequence a reader of the whole log may
// read up to: every event at or below it is committed or never will be.
// On PostgreSQL that is the last sequence handed out, or the lowest
// announced by a writer still in flight if that is lower. The two are read
// in that order, in separate statements, and the caller reads the events
// in a later statement (a newer snapshot): a writer that announces after
// the first read takes sequences above it, and one whose announcement is
// gone by the second read has committed before the events are read (or
// rolled back).
func (s *Store) logHorizon(ctx context.Context) (int64, error) {
	if s.db.Dialect != sqlstore.Postgres {
		return math.MaxInt64, nil
	}
	var handedOut int64
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(pg_sequence_last_value('`+eventSequence+`'), 0)`).
		Scan(&handedOut); err != nil {
		return 0, fmt.Errorf("store: event log horizon: %w", err)
	}
	var inFlight sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT min(((classid::bigint << 32) | objid::bigint) & $1)
		FROM pg_locks
		WHERE locktype = 'advisory' AND objsubid = 1 AND classid::bigint >> 30 = 1
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
		inFlightBit-1).Scan(&inFlight); err != nil {
		return 0, fmt.Errorf("store: event log horizon: %w", err)
	}
	if inFlight.Valid && inFlight.Int64 < handedOut {
		return inFlight.Int64, nil
	}
	return handedOut, nil
}

// forUpdate is the row-locking suffix for a read that precedes a write.
func (s *Store) forUpdate() string {
	if s.db.Dialect == sqlstore.Postgres {
		return " FOR UPDATE"
	}
	return "" // the immediate transaction already holds the write lock
}

const selectCustomer = `SELECT ` + customerColumns + ` FROM customers WHERE customer_id = ?`

// lockCustomer reads one customer in tx and locks its row until the end
// of tx.
func (s *Store) lockCustomer(ctx context.Context, tx *sqlstore.Tx, id string) (profile.Customer, error) {
	var (
		c     profile.Customer
		found bool
	)
	err := tx.Query(ctx, func(rows sqlstore.Rows) error {
		if !rows.Next() {
			return nil
		}
		found = true
		var err error
		c, err = scanCustomer(rows)
		return err
	}, s.db.Rebind(selectCustomer+s.forUpdate()), id)
	if err == nil {
		err = tx.Flush(ctx)
	}
	if err == nil && !found {
		err = sql.ErrNoRows
	}
	if err != nil {
		return profile.Customer{}, customerError(id, err)
	}
	return c, nil
}

// customerError is the error of reading customer id.
func customerError(id string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %s", profile.ErrCustomerNotFound, id)
	}
	return fmt.Errorf("store: get customer %s: %w", id, err)
}

// insertCustomer writes every column of c as a new row and reports
// whether it did (not if onConflictNothing and the customer exists).
func (s *Store) insertCustomer(ctx context.Context, tx *sqlstore.Tx, c profile.Customer, onConflictNothing bool) (bool, error) {
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
	var inserted bool
	err = tx.Query(ctx, func(rows sqlstore.Rows) error {
		inserted = rows.Next()
		return nil
	}, s.db.Rebind(query+` RETURNING customer_id`),
		c.ID, c.FullName, c.Email, c.Phone, c.Birthday, c.TimeZone, c.Country,
		nanos(c.RegistrationTime), c.RegistrationChannel,
		int64(c.Consent.Email), int64(c.Consent.SMS), int64(c.Consent.Push),
		tags, int64(c.State), features, nanos(c.CreateTime), nanos(c.UpdateTime), c.Revision)
	if err == nil {
		err = tx.Flush(ctx)
	}
	return inserted, err
}

// writeProfile writes the profile fields, state, update time and revision
// of c, and syncs customer_tags from old to c.Tags.
func (s *Store) writeProfile(ctx context.Context, tx *sqlstore.Tx, c profile.Customer, oldTags []string) error {
	tags, err := encodeTags(c.Tags)
	if err != nil {
		return err
	}
	err = tx.Exec(ctx, s.db.Rebind(`UPDATE customers SET
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

func (s *Store) syncTags(ctx context.Context, tx *sqlstore.Tx, id string, oldTags, newTags []string) error {
	for _, t := range oldTags {
		if !slices.Contains(newTags, t) {
			if err := tx.Exec(ctx, s.db.Rebind(`DELETE FROM customer_tags WHERE tag = ? AND customer_id = ?`), t, id); err != nil {
				return fmt.Errorf("store: remove tag: %w", err)
			}
		}
	}
	for _, t := range newTags {
		if !slices.Contains(oldTags, t) {
			if err := tx.Exec(ctx, s.db.Rebind(`INSERT INTO customer_tags (tag, customer_id) VALUES (?, ?)
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
	err := s.db.InPipelinedTx(ctx, func(tx *sqlstore.Tx) error {
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
		existing, err := s.lockCustomer(ctx, tx, c.ID)
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
	stmt, err := s.db.Prepared(ctx, s.db.Rebind(selectCustomer))
	if err != nil {
		return profile.Customer{}, customerError(id, err)
	}
	c, err := scanCustomer(stmt.QueryRowContext(ctx, id))
	if err != nil {
		return profile.Customer{}, customerError(id, err)
	}
	return c, nil
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
	err := s.db.InPipelinedTx(ctx, func(tx *sqlstore.Tx) error {
		old, err := s.lockCustomer(ctx, tx, id)
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
	return s.db.InTx(ctx, func(sqlTx *sql.Tx) error {
		tx := s.db.WrapTx(sqlTx)
		// Appends lock the customer's row before they add its events, and
		// create it again if it is gone by then, so none adds one while
		// this holds the row.
		c, err := s.lockCustomer(ctx, tx, id)
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
		err = sqlTx.QueryRowContext(ctx, s.db.Rebind(`SELECT 1 FROM events WHERE customer_id = ?
			AND kind NOT IN (?`+strings.Repeat(", ?", len(profile.SystemKinds)-1)+`) LIMIT 1`), args...).Scan(&one)
		switch {
		case err == nil:
			return fmt.Errorf("%w (customer %s)", profile.ErrCustomerHasEvents, id)
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("store: delete customer %s: %w", id, err)
		}
		if _, err := sqlTx.ExecContext(ctx, s.db.Rebind(`DELETE FROM customers WHERE customer_id = ?`), id); err != nil {
			return fmt.Errorf("store: delete customer %s: %w", id, err)
		}
		if err := s.forgetResponses(ctx, sqlTx, id); err != nil {
			return err
		}
		return s.appendCustomerEvent(ctx, tx, event, c, profile.Customer{})
	})
}

// appendCustomerEvent appends the system event event returns for a write of
// a customer, if any. The caller holds the customer's row (locked, inserted
// or deleted in tx).
func (s *Store) appendCustomerEvent(ctx context.Context, tx *sqlstore.Tx, event profile.CustomerEventFunc, before, after profile.Customer) error {
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
	if err := s.insertEvent(ctx, tx, e, kind, payload); err != nil {
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

// HeadSequence implements profile.Store. It is the highest sequence a
// reader of the log can read now (see logHorizon).
func (s *Store) HeadSequence(ctx context.Context) (int64, error) {
	horizon, err := s.logHorizon(ctx)
	if err != nil {
		return 0, err
	}
	var head int64
	if err := s.db.QueryRowContext(ctx, s.db.Rebind(`SELECT COALESCE(MAX(sequence), 0) FROM events WHERE sequence <= ?`),
		horizon).Scan(&head); err != nil {
		return 0, fmt.Errorf("store: head sequence: %w", err)
	}
	return head, nil
}

// ListEvents implements profile.Store. It stops at the log horizon, so a
// reader that resumes after the last event it got never misses one that
// commits later (see logHorizon).
func (s *Store) ListEvents(ctx context.Context, afterSequence int64, limit int) ([]profile.Event, error) {
	horizon, err := s.logHorizon(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, s.db.Rebind(`SELECT `+eventColumns+` FROM events
		WHERE sequence > ? AND sequence <= ? ORDER BY sequence LIMIT ?`), afterSequence, horizon, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list events: %w", err)
	}
	events, err := scanEvents(rows)
	if err != nil {
		return nil, fmt.Errorf("store: list events: %w", err)
	}
	return events, nil
}

// ListCustomerEvents implements profile.Store. It needs no horizon: the
// writers of one customer hold its row while they take sequences and
// commit, so its events commit in sequence order.
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
	err = s.db.InTx(ctx, func(sqlTx *sql.Tx) error {
		tx := s.db.WrapTx(sqlTx)
		c, err := s.lockCustomer(ctx, tx, id)
		if err != nil {
			return err
		}
		if c.State == profile.StateErased {
			return fmt.Errorf("%w (customer %s)", profile.ErrCustomerErased, id)
		}
		res, err := sqlTx.ExecContext(ctx, s.db.Rebind(`UPDATE events SET customer_id = ? WHERE customer_id = ?`), p.AnonymousID, id)
		if err != nil {
			return fmt.Errorf("store: re-key events of %s: %w", id, err)
		}
		if rekeyed, err = res.RowsAffected(); err != nil {
			return err
		}
		// Tags are personal data: drop them from the re-keyed
		// customer_updated events as from the customer.
		if _, err := sqlTx.ExecContext(ctx, s.db.Rebind(`UPDATE events SET payload = ? WHERE customer_id = ? AND kind = ?`),
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
		if _, err := sqlTx.ExecContext(ctx, s.db.Rebind(`DELETE FROM customers WHERE customer_id = ?`), id); err != nil {
			return fmt.Errorf("store: delete erased customer %s: %w", id, err)
		}
		if err := s.forgetResponses(ctx, sqlTx, id); err != nil {
			return err
		}
		erased := erased
		erased.CustomerID = id
		if err := s.insertEvent(ctx, tx, erased, kind, payload); err != nil {
			return fmt.Errorf("store: append customer_erased for %s: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return rekeyed, nil
}
