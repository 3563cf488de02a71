package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
	"github.com/tenurehq/tenure/services/promotion/internal/promotion"
)

var (
	_ outreach.CustomerStore     = (*Store)(nil)
	_ outreach.BatchMessageStore = (*Store)(nil)
)

// applyProfile keeps a customer's birthday and time zone, in the
// transaction that moves the stream cursor past the event; a deletion
// forgets them.
func (s *Store) applyProfile(ctx context.Context, tx *sql.Tx, customerID string, p promotion.ProfileChange) error {
	if p.Deleted {
		_, err := s.exec(ctx, tx, `DELETE FROM outreach_customers WHERE customer_id = ?`, customerID)
		return err
	}
	_, err := s.exec(ctx, tx, `INSERT INTO outreach_customers (customer_id, birth_md, time_zone) VALUES (?, ?, ?)
		ON CONFLICT (customer_id) DO UPDATE SET birth_md = excluded.birth_md, time_zone = excluded.time_zone`,
		customerID, int(p.BirthMonth)*100+p.BirthDay, p.TimeZone)
	return err
}

const customerCols = `customer_id, birth_md, time_zone`

// CustomersBornOn implements outreach.CustomerStore over the birthday index.
func (s *Store) CustomersBornOn(ctx context.Context, days []outreach.MonthDay, after string, limit int) ([]outreach.Customer, error) {
	if len(days) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(days)+2)
	for _, d := range days {
		args = append(args, int(d.Month)*100+d.Day)
	}
	args = append(args, after, limit)
	return s.customers(ctx, `SELECT `+customerCols+` FROM outreach_customers WHERE birth_md IN (`+placeholders(len(days))+`)
		AND customer_id > ? ORDER BY customer_id LIMIT ?`, args...)
}

// ListCustomers implements outreach.CustomerStore.
func (s *Store) ListCustomers(ctx context.Context, after string, limit int) ([]outreach.Customer, error) {
	return s.customers(ctx, `SELECT `+customerCols+` FROM outreach_customers WHERE customer_id > ? ORDER BY customer_id LIMIT ?`, after, limit)
}

// LookupCustomers implements outreach.CustomerStore.
func (s *Store) LookupCustomers(ctx context.Context, ids []string) ([]outreach.Customer, error) {
	var out []outreach.Customer
	for start := 0; start < len(ids); start += 1000 {
		part := ids[start:min(start+1000, len(ids))]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		cs, err := s.customers(ctx, `SELECT `+customerCols+` FROM outreach_customers WHERE customer_id IN (`+placeholders(len(part))+`)`, args...)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	return out, nil
}

func (s *Store) customers(ctx context.Context, query string, args ...any) ([]outreach.Customer, error) {
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: read customers: %w", err)
	}
	defer rows.Close()
	var out []outreach.Customer
	for rows.Next() {
		var c outreach.Customer
		var md int
		if err := rows.Scan(&c.ID, &md, &c.TimeZone); err != nil {
			return nil, fmt.Errorf("store: read customers: %w", err)
		}
		c.BirthMonth, c.BirthDay = time.Month(md/100), md%100
		out = append(out, c)
	}
	return out, rows.Err()
}

// placeholders returns n comma-separated placeholders.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// messageRows is how many messages one SQLite INSERT writes: 14 values
// each, under SQLite's 32,766 parameters.
const messageRows = 1000

// CreateMessages implements outreach.BatchMessageStore, in one
// transaction. On PostgreSQL the messages go through COPY into a
// temporary table and on, with their outbox entries, in one statement; on
// SQLite through multi-row inserts, in id order so that they walk the
// B-trees once, and the outbox entries of the rows the inserts returned.
func (s *Store) CreateMessages(ctx context.Context, ms []outreach.Message) (int, error) {
	created := 0
	err := s.db.InConnTx(ctx, func(conn *sql.Conn, tx *sql.Tx) error {
		ms, err := s.liveOnly(ctx, tx, ms)
		if err != nil {
			return err
		}
		if created, err = s.insertAll(ctx, conn, tx, ms); err != nil {
			return err
		}
		return s.giveCoupons(ctx, tx, ms)
	})
	if err != nil {
		return 0, fmt.Errorf("store: create messages: %w", err)
	}
	return created, nil
}

// insertAll stores ms and their outbox entries and histories, skipping
// those stored before, and returns how many it created: by COPY on
// PostgreSQL, in sorted multi-row inserts on SQLite.
func (s *Store) insertAll(ctx context.Context, conn *sql.Conn, tx *sql.Tx, ms []outreach.Message) (int, error) {
	if s.db.Dialect == sqlstore.Postgres {
		return s.copyMessages(ctx, conn, tx, ms)
	}
	created := 0
	ms = slices.Clone(ms)
	slices.SortFunc(ms, func(a, b outreach.Message) int { return strings.Compare(a.ID, b.ID) })
	for start := 0; start < len(ms); start += messageRows {
		n, err := s.insertMessages(ctx, tx, ms[start:min(start+messageRows, len(ms))])
		if err != nil {
			return created, err
		}
		created += n
	}
	return created, nil
}

func (s *Store) copyMessages(ctx context.Context, conn *sql.Conn, tx *sql.Tx, ms []outreach.Message) (int, error) {
	if _, err := tx.ExecContext(ctx, `CREATE TEMPORARY TABLE IF NOT EXISTS outreach_messages_in
		(LIKE outreach_messages INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`); err != nil {
		return 0, err
	}
	i := 0
	if _, err := sqlstore.CopyRows(ctx, conn, "outreach_messages_in", messageColumns, func(vals []any) (bool, error) {
		if i == len(ms) {
			return false, nil
		}
		copy(vals, messageRow(ms[i]))
		i++
		return true, nil
	}); err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, `WITH created AS (INSERT INTO outreach_messages SELECT * FROM outreach_messages_in
		ON CONFLICT (message_id) DO NOTHING RETURNING message_id, due_ns, state, reason, channel, attempts, update_ns),
		outbox AS (INSERT INTO outreach_outbox (message_id, due_ns) SELECT message_id, due_ns FROM created)
		INSERT INTO outreach_message_history (message_id, seq, state, reason, channel, attempts, due_ns, at_ns)
		SELECT message_id, 1, state, reason, channel, attempts, due_ns, update_ns FROM created`)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// messageColumns are messageCols as a list.
var messageColumns = func() []string {
	cols := strings.Split(messageCols, ",")
	for i, c := range cols {
		cols[i] = strings.TrimSpace(c)
	}
	return cols
}()

func (s *Store) insertMessages(ctx context.Context, tx *sql.Tx, ms []outreach.Message) (int, error) {
	args := make([]any, 0, 15*len(ms))
	for _, m := range ms {
		args = append(args, messageRow(m)...)
	}
	row := "(" + placeholders(15) + ")"
	st, err := s.db.TxStmt(ctx, tx, s.q(`INSERT INTO outreach_messages (`+messageCols+`) VALUES `+
		strings.TrimSuffix(strings.Repeat(row+",", len(ms)), ",")+` ON CONFLICT (message_id) DO NOTHING RETURNING message_id, due_ns`))
	if err != nil {
		return 0, err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	var outbox []any
	for rows.Next() {
		var id string
		var due int64
		if err := rows.Scan(&id, &due); err != nil {
			rows.Close()
			return 0, err
		}
		outbox = append(outbox, id, due)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(outbox) == 0 {
		return 0, err
	}
	n := len(outbox) / 2
	if _, err = tx.ExecContext(ctx, s.q(`INSERT INTO outreach_outbox (message_id, due_ns) VALUES `+
		strings.TrimSuffix(strings.Repeat("(?, ?),", n), ",")), outbox...); err != nil {
		return 0, err
	}
	ids := make([]any, n)
	for i := range n {
		ids[i] = outbox[2*i]
	}
	// Each created message's history starts with the state it was created in.
	_, err = tx.ExecContext(ctx, s.q(`INSERT INTO outreach_message_history (message_id, seq, state, reason, channel, attempts, due_ns, at_ns)
		SELECT message_id, 1, state, reason, channel, attempts, due_ns, update_ns FROM outreach_messages
		WHERE message_id IN (?`+strings.Repeat(",?", n-1)+`)`), ids...)
	return n, err
}

// liveOnly drops the messages of journeys that are paused or deleted, as
// CreateMessage does, holding a share lock on each journey read.
func (s *Store) liveOnly(ctx context.Context, tx *sql.Tx, ms []outreach.Message) ([]outreach.Message, error) {
	live := map[string]bool{}
	out := ms[:0:0]
	for _, m := range ms {
		ok, seen := live[m.JourneyID]
		if !seen {
			var err error
			if ok, err = s.journeyLive(ctx, tx, m.JourneyID); err != nil {
				return nil, err
			}
			live[m.JourneyID] = ok
		}
		if ok {
			out = append(out, m)
		}
	}
	return out, nil
}

// giveCoupons gives each message of a coupon journey that has no code yet
// one (a message created before keeps its own).
func (s *Store) giveCoupons(ctx context.Context, tx *sql.Tx, ms []outreach.Message) error {
	for _, m := range ms {
		if m.Coupon.IsZero() {
			continue
		}
		var code string
		if err := tx.QueryRowContext(ctx, s.q(`SELECT coupon_code FROM outreach_messages WHERE message_id = ?`), m.ID).Scan(&code); err != nil {
			return err
		}
		if code == "" {
			if err := s.giveCoupon(ctx, tx, m); err != nil {
				return err
			}
		}
	}
	return nil
}
