package outreach

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Customer is what the promotion service keeps about a customer for date
// triggers, from profile's event log.
type Customer struct {
	ID         string
	BirthMonth time.Month // 0 when the birthday is unknown
	BirthDay   int
	TimeZone   string // IANA name; "" when unknown
}

// MonthDay is a day of the year.
type MonthDay struct {
	Month time.Month
	Day   int
}

// CustomerStore reads the customers the promotion service knows.
type CustomerStore interface {
	// CustomersBornOn returns up to limit customers with ids after
	// `after`, in id order, whose birthday is on one of days (an indexed
	// lookup, not a scan).
	CustomersBornOn(ctx context.Context, days []MonthDay, after string, limit int) ([]Customer, error)
	// ListCustomers returns up to limit customers with ids after `after`,
	// in id order.
	ListCustomers(ctx context.Context, after string, limit int) ([]Customer, error)
	// LookupCustomers returns those of ids it knows.
	LookupCustomers(ctx context.Context, ids []string) ([]Customer, error)
}

// BatchMessageStore creates many messages at once.
type BatchMessageStore interface {
	// CreateMessages stores each message and its outbox entry unless one
	// with its id exists, like CreateMessage, and returns how many it
	// created.
	CreateMessages(ctx context.Context, ms []Message) (int, error)
}

// Membership reads segmentation's audiences, for journeys' audience
// filters.
type Membership interface {
	// InAudience says, for each of customerIDs, whether it is a member.
	InAudience(ctx context.Context, audience string, customerIDs []string) ([]bool, error)
	// Members pages through an audience's members in id order.
	Members(ctx context.Context, audience, pageToken string) (ids []string, next string, err error)
}

// DateTriggers makes the messages of birthday and holiday journeys. Each
// run covers, per journey, the time from where the last run stopped (its
// cursor; the journey's creation at first) to Ahead past now, and creates
// the messages due in it, each due at its local time in its customer's
// zone, so the dispatcher sends it then. A run that finds less than half
// of Ahead left to cover does nothing, so runs every few seconds cost
// almost nothing. Creating a message twice makes one (its id comes from
// the occurrence), so a crash before the cursor moves, or a second
// replica, sends nothing twice.
type DateTriggers struct {
	TriggerEnv
	Ahead time.Duration // how far ahead messages are made (default 1h)
}

// TriggerEnv is what the date and points triggers read and write, and the
// programme's rules their messages follow.
type TriggerEnv struct {
	Journeys  JourneyLister
	Customers CustomerStore
	Messages  BatchMessageStore
	Members   Membership // nil: no journey may have an audience filter
	Cursors   CursorStore
	Zone      *time.Location // the programme's default time zone
	Quiet     QuietHours
	Clock     func() time.Time
	Batch     int // messages written in one transaction (default 50,000)
}

// Limits of a date trigger run.
const (
	// maxSpan bounds the time one run covers: after an outage, runs catch
	// up a week at a time.
	maxSpan = 7 * 24 * time.Hour
	// StaleAfter: a message whose trigger time is this far in the past when
	// its run comes (after an outage) is not made.
	StaleAfter = 24 * time.Hour
	// The zones furthest from UTC, for holiday spans.
	maxEast = 14 * time.Hour
	maxWest = 12 * time.Hour
)

// span is the part of time one run covers for a journey.
type span struct{ from, to, now time.Time }

// in reports whether a trigger time t falls in s and is not stale.
func (s span) in(t time.Time) bool {
	return !t.Before(s.from) && t.Before(s.to) && !t.Before(s.now.Add(-StaleAfter))
}

// RunOnce covers every birthday and holiday journey and returns how many
// messages it created. A journey that fails (its audience unreadable) is
// tried again from the same cursor next time; the others go on.
func (d DateTriggers) RunOnce(ctx context.Context) (int, error) {
	js, err := journeysOf(ctx, d.Journeys, TriggerBirthday, TriggerHoliday)
	if err != nil {
		return 0, err
	}
	created := 0
	var errs []error
	for _, j := range js {
		n, err := d.runJourney(ctx, j)
		created += n
		if err != nil {
			errs = append(errs, fmt.Errorf("outreach: journey %s: %w", j.ID, err))
		}
	}
	return created, errors.Join(errs...)
}

// DateCursor names the cursor of a date journey: the end of the time its
// runs covered.
func DateCursor(journeyID string) string { return "dates:" + journeyID }

func (d DateTriggers) runJourney(ctx context.Context, j JourneyDef) (int, error) {
	ahead := d.Ahead
	if ahead <= 0 {
		ahead = time.Hour
	}
	now := d.Clock().UTC()
	cur, err := d.Cursors.TriggerCursor(ctx, DateCursor(j.ID))
	if err != nil {
		return 0, err
	}
	s := span{from: j.CreateTime.UTC(), now: now}
	if cur != "" {
		if s.from, err = time.Parse(time.RFC3339Nano, cur); err != nil {
			return 0, fmt.Errorf("cursor %q: %w", cur, err)
		}
	}
	s.to = now.Add(ahead)
	if end := s.from.Add(maxSpan); end.Before(s.to) {
		s.to = end
	}
	if s.to.Sub(s.from) < ahead/2 {
		return 0, nil
	}
	var n int
	if j.Trigger.Kind == TriggerBirthday {
		n, err = d.birthdays(ctx, j, s)
	} else {
		n, err = d.holidays(ctx, j, s)
	}
	if err != nil {
		return n, err
	}
	return n, d.Cursors.SetTriggerCursor(ctx, DateCursor(j.ID), s.to.Format(time.RFC3339Nano))
}

// BirthdayCandidates are the birthdays whose message, days before at any
// local minute in any zone, may fall in [from, to): a few days, so the
// customers are found by an indexed lookup. 28 February brings 29
// February along (Birthday moves it in other years).
func BirthdayCandidates(from, to time.Time, days int) []MonthDay {
	var out []MonthDay
	first := from.UTC().Add(-maxEast - 24*time.Hour)
	last := to.UTC().Add(maxWest + 24*time.Hour)
	for t := first; !t.After(last); t = t.AddDate(0, 0, 1) {
		b := t.AddDate(0, 0, days)
		out = append(out, MonthDay{b.Month(), b.Day()})
		if b.Month() == time.February && b.Day() == 28 {
			out = append(out, MonthDay{time.February, 29})
		}
	}
	return out
}

// birthdays makes the birthday messages due in s.
func (d DateTriggers) birthdays(ctx context.Context, j JourneyDef, s span) (int, error) {
	w := d.writer(j)
	days := BirthdayCandidates(s.from, s.to, j.Trigger.Days)
	after := ""
	for {
		page, err := d.Customers.CustomersBornOn(ctx, days, after, 1000)
		if err != nil {
			return w.created, err
		}
		for _, c := range page {
			loc := w.zones.of(c.TimeZone)
			due, year := Birthday(c.BirthMonth, c.BirthDay, j.Trigger.Days, j.Trigger.LocalMinute, loc, s.from)
			if s.in(due) {
				w.add(c.ID, BirthdayOccurrence(year), due, loc, s.now)
			}
		}
		if len(page) < 1000 {
			return w.created, w.done(ctx)
		}
		if err := w.flush(ctx); err != nil {
			return w.created, err
		}
		after = page[len(page)-1].ID
	}
}

// holidays makes the messages of each holiday whose span (its local
// minute from the easternmost zone to the westernmost) starts in s, or
// started before the journey was created and runs into s: to every member
// of the journey's audience, or every customer when it has none.
func (d DateTriggers) holidays(ctx context.Context, j JourneyDef, s span) (int, error) {
	created := 0
	for _, h := range j.Trigger.Holidays {
		y, m, dd := h.Date.Date()
		at := LocalTime(y, m, dd, j.Trigger.LocalMinute, time.UTC)
		start := at.Add(-maxEast)
		if c := j.CreateTime.UTC(); c.After(start) {
			start = c
		}
		if start.Before(s.from) || !start.Before(s.to) || at.Add(maxWest).Before(s.now.Add(-StaleAfter)) {
			continue
		}
		n, err := d.holiday(ctx, j, h, s)
		created += n
		if err != nil {
			return created, err
		}
	}
	return created, nil
}

// holiday makes one holiday's messages, each due at the local minute of
// the holiday in its customer's zone, from the start of s on.
func (d DateTriggers) holiday(ctx context.Context, j JourneyDef, h Holiday, s span) (int, error) {
	w := d.writer(j)
	y, m, dd := h.Date.Date()
	occurrence := HolidayOccurrence(h)
	dues := map[string]time.Time{}
	add := func(cs []Customer) {
		for _, c := range cs {
			due, ok := dues[c.TimeZone]
			if !ok {
				due = LocalTime(y, m, dd, j.Trigger.LocalMinute, w.zones.of(c.TimeZone))
				dues[c.TimeZone] = due
			}
			if !due.Before(s.from) && !due.Before(s.now.Add(-StaleAfter)) {
				w.add(c.ID, occurrence, due, w.zones.of(c.TimeZone), s.now)
			}
		}
	}
	err := d.eachCustomer(ctx, j.AudienceFilter, func(cs []Customer) error {
		add(cs)
		return w.flush(ctx)
	})
	if err == nil {
		err = w.done(ctx)
	}
	return w.created, err
}

// eachCustomer calls fn with pages of the members of audience, or of every
// customer the store knows when audience is "". A member the store does
// not know has no time zone (the programme's default applies).
func (d DateTriggers) eachCustomer(ctx context.Context, audience string, fn func([]Customer) error) error {
	if audience == "" {
		after := ""
		for {
			page, err := d.Customers.ListCustomers(ctx, after, 5000)
			if err != nil {
				return err
			}
			if err := fn(page); err != nil {
				return err
			}
			if len(page) < 5000 {
				return nil
			}
			after = page[len(page)-1].ID
		}
	}
	if d.Members == nil {
		return fmt.Errorf("no audience membership source for %s", audience)
	}
	token := ""
	for {
		ids, next, err := d.Members.Members(ctx, audience, token)
		if err != nil {
			return err
		}
		known, err := d.Customers.LookupCustomers(ctx, ids)
		if err != nil {
			return err
		}
		if err := fn(withKnown(ids, known)); err != nil {
			return err
		}
		if token = next; token == "" {
			return nil
		}
	}
}

// withKnown returns ids as customers, with what known says about them.
func withKnown(ids []string, known []Customer) []Customer {
	byID := make(map[string]Customer, len(known))
	for _, c := range known {
		byID[c.ID] = c
	}
	out := make([]Customer, len(ids))
	for i, id := range ids {
		c, ok := byID[id]
		if !ok {
			c = Customer{ID: id}
		}
		out[i] = c
	}
	return out
}

// writer makes the messages of journey j in batches, keeping those of its
// audience (a holiday journey reads its audience's members instead).
func (e TriggerEnv) writer(j JourneyDef) *batchWriter {
	return &batchWriter{journey: j.Journey, store: e.Messages, members: e.Members, filter: j.Trigger.Kind != TriggerHoliday, quiet: e.Quiet,
		zones: zoneCache{def: e.Zone, locs: map[string]*time.Location{}}, batch: e.Batch}
}

// journeysOf returns the journeys whose trigger is one of kinds.
func journeysOf(ctx context.Context, s JourneyLister, kinds ...TriggerKind) ([]JourneyDef, error) {
	var out []JourneyDef
	after := ""
	for {
		page, err := s.ListJourneys(ctx, after, 500)
		if err != nil {
			return nil, err
		}
		for _, d := range page {
			for _, k := range kinds {
				if d.Trigger.Kind == k {
					out = append(out, d)
				}
			}
		}
		if len(page) < 500 {
			return out, nil
		}
		after = page[len(page)-1].ID
	}
}
