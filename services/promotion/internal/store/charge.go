package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
)

// ChargeAll implements outreach.MessageStore in a few statements however
// many messages it charges: it locks the counters the messages charge
// (creating those not there yet), works out message by message, in order,
// which fit under every cap, and writes back the counters that changed. A
// message charged before answers true without counting again; one a cap
// stops counts nothing.
func (s *Store) ChargeAll(ctx context.Context, reqs []outreach.ChargeRequest) ([]bool, error) {
	var ok []bool
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		fresh, err := s.uncharged(ctx, tx, reqs)
		if err != nil {
			return err
		}
		var charging []outreach.Charge
		for _, r := range reqs {
			if fresh[r.MessageID] {
				charging = append(charging, r.Charges...)
			}
		}
		c, err := s.lockCounters(ctx, tx, charging)
		if err != nil {
			return err
		}
		ok = make([]bool, len(reqs))
		var charged [][]any
		for i, r := range reqs {
			switch {
			case !fresh[r.MessageID]:
				ok[i] = true // charged before, or no such message: nothing to count
			case c.charge(r.Charges):
				ok[i] = true
				charged = append(charged, []any{r.MessageID})
				delete(fresh, r.MessageID) // charged now
			}
		}
		if err := c.write(ctx, s.db, tx); err != nil {
			return err
		}
		return s.db.ExecValues(ctx, tx, "id", []string{"TEXT"},
			`UPDATE outreach_messages SET charged = 1 FROM v WHERE outreach_messages.message_id = v.id`, charged)
	})
	if err != nil {
		return nil, fmt.Errorf("store: charge caps: %w", err)
	}
	return ok, nil
}

// uncharged returns which of the requests' messages exist and are not
// charged yet, locked until the transaction ends.
func (s *Store) uncharged(ctx context.Context, tx *sql.Tx, reqs []outreach.ChargeRequest) (map[string]bool, error) {
	fresh := map[string]bool{}
	if len(reqs) == 0 {
		return fresh, nil
	}
	ids := make([]string, len(reqs))
	for i, r := range reqs {
		ids[i] = r.MessageID
	}
	in, args := inList(ids)
	uncharged, err := s.queryStrings(ctx, tx, `SELECT message_id FROM outreach_messages WHERE charged = 0 AND message_id IN `+in+
		` ORDER BY message_id`+s.forUpdate(), args...)
	for _, id := range uncharged {
		fresh[id] = true
	}
	return fresh, err
}

// dayKey names a per-day cap counter.
type dayKey struct{ key, day string }

// capCounters are the counters of a batch's charges as the batch charges
// them, locked in the database until its transaction ends.
type capCounters struct {
	days      map[dayKey]int     // messages sent per cap and local day
	slots     map[string][]int64 // rolling caps: each slot's last send, in slot order
	dirtyDays map[dayKey]bool
	dirtyKeys map[string]bool // rolling caps with a slot taken
}

// lockCounters creates the counters charges need that are not there yet,
// then reads and locks them all, in key order, so two replicas charging
// the same customer queue up instead of both counting the same slot.
func (s *Store) lockCounters(ctx context.Context, tx *sql.Tx, charges []outreach.Charge) (*capCounters, error) {
	c := &capCounters{days: map[dayKey]int{}, slots: map[string][]int64{}, dirtyDays: map[dayKey]bool{}, dirtyKeys: map[string]bool{}}
	limits := map[string]int{} // rolling caps' slot counts
	for _, ch := range charges {
		if ch.Rolling() {
			limits[ch.Key] = max(limits[ch.Key], ch.Limit)
		} else {
			c.days[dayKey{ch.Key, ch.Day}] = 0
		}
	}
	if err := s.lockDays(ctx, tx, c); err != nil {
		return nil, err
	}
	return c, s.lockSlots(ctx, tx, c, limits)
}

// lockDays reads and locks the per-day counters c.days names.
func (s *Store) lockDays(ctx context.Context, tx *sql.Tx, c *capCounters) error {
	if len(c.days) == 0 {
		return nil
	}
	keys := slices.SortedFunc(maps.Keys(c.days), func(a, b dayKey) int {
		return cmp.Or(strings.Compare(a.key, b.key), strings.Compare(a.day, b.day))
	})
	rows := make([][]any, len(keys))
	args := make([]any, 0, 2*len(keys))
	for i, k := range keys {
		rows[i] = []any{k.key, k.day, 0}
		args = append(args, k.key, k.day)
	}
	if err := s.db.InsertRows(ctx, tx, "outreach_cap_days", "cap_key, day, used", "ON CONFLICT (cap_key, day) DO NOTHING", rows); err != nil {
		return err
	}
	// A join, not "(cap_key, day) IN (…)", which SQLite answers by scanning
	// the table.
	lock := ""
	if s.db.Dialect == sqlstore.Postgres {
		lock = " FOR UPDATE OF d"
	}
	return s.each(ctx, tx, `WITH v (cap_key, day) AS (VALUES (?, ?)`+strings.Repeat(", (?, ?)", len(keys)-1)+`)
		SELECT d.cap_key, d.day, d.used FROM v JOIN outreach_cap_days d ON d.cap_key = v.cap_key AND d.day = v.day
		ORDER BY d.cap_key, d.day`+lock, args, func(r *sql.Rows) error {
		var k dayKey
		var used int
		err := r.Scan(&k.key, &k.day, &used)
		c.days[k] = used
		return err
	})
}

// lockSlots reads and locks the slots of the rolling caps in limits,
// creating each cap's first limits[key] slots if need be.
func (s *Store) lockSlots(ctx context.Context, tx *sql.Tx, c *capCounters, limits map[string]int) error {
	if len(limits) == 0 {
		return nil
	}
	keys := slices.Sorted(maps.Keys(limits))
	var rows [][]any
	for _, k := range keys {
		for slot := range limits[k] {
			rows = append(rows, []any{k, slot, 0})
		}
	}
	if err := s.db.InsertRows(ctx, tx, "outreach_cap_slots", "cap_key, slot, used_ns", "ON CONFLICT (cap_key, slot) DO NOTHING", rows); err != nil {
		return err
	}
	in, args := inList(keys)
	return s.each(ctx, tx, `SELECT cap_key, used_ns FROM outreach_cap_slots WHERE cap_key IN `+in+
		` ORDER BY cap_key, slot`+s.forUpdate(), args, func(r *sql.Rows) error {
		var key string
		var used int64
		err := r.Scan(&key, &used)
		c.slots[key] = append(c.slots[key], used)
		return err
	})
}

// charge counts every one of a message's charges, or none of them when a
// cap is reached, and reports which.
func (c *capCounters) charge(charges []outreach.Charge) bool {
	var undo []func()
	for _, ch := range charges {
		u, ok := c.take(ch)
		if !ok {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
			return false
		}
		undo = append(undo, u)
	}
	return true
}

// take counts one charge if its cap allows it, and returns how to take it
// back. A daily charge counts while fewer than Limit were sent that day; a
// rolling one takes the oldest slot if its send left the window (see
// outreach.TakeSlot).
func (c *capCounters) take(ch outreach.Charge) (undo func(), ok bool) {
	if !ch.Rolling() {
		k := dayKey{ch.Key, ch.Day}
		if c.days[k] >= ch.Limit {
			return nil, false
		}
		c.days[k]++
		c.dirtyDays[k] = true
		return func() { c.days[k]-- }, true
	}
	used := c.slots[ch.Key]
	times := make([]time.Time, min(len(used), ch.Limit))
	for i := range times {
		times[i] = sqlstore.FromNanos(used[i])
	}
	slot, ok := outreach.TakeSlot(times, ch.At, ch.Window)
	if !ok {
		return nil, false
	}
	old := used[slot]
	used[slot] = sqlstore.Nanos(ch.At)
	c.dirtyKeys[ch.Key] = true
	return func() { used[slot] = old }, true
}

// write stores the counters a charge touched.
func (c *capCounters) write(ctx context.Context, db *sqlstore.DB, tx *sql.Tx) error {
	var days, slots [][]any
	for k := range c.dirtyDays {
		days = append(days, []any{k.key, k.day, c.days[k]})
	}
	for key := range c.dirtyKeys {
		for slot, used := range c.slots[key] {
			slots = append(slots, []any{key, slot, used})
		}
	}
	if err := db.InsertRows(ctx, tx, "outreach_cap_days", "cap_key, day, used",
		"ON CONFLICT (cap_key, day) DO UPDATE SET used = excluded.used", days); err != nil {
		return err
	}
	return db.InsertRows(ctx, tx, "outreach_cap_slots", "cap_key, slot, used_ns",
		"ON CONFLICT (cap_key, slot) DO UPDATE SET used_ns = excluded.used_ns", slots)
}
