package feedback

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxCalendarDays bounds the days Add walks: a calendar with business
// hours reaches any target long before.
const maxCalendarDays = 3660

// Span is the business hours of one weekday, in minutes after local
// midnight: [Start, End).
type Span struct{ Start, End int }

// Calendar is when SLA clocks run: weekly hours in a time zone, minus
// holidays. A nil *Calendar runs around the clock (calendar hours).
type Calendar struct {
	Location *time.Location
	// Hours is indexed by time.Weekday (Sunday = 0); a zero Span is closed.
	Hours [7]Span
	// Holidays are local dates, "2006-01-02".
	Holidays map[string]bool
}

// window returns the business hours of the local day that starts at
// midnight, as absolute times, and false when the day is closed.
func (c *Calendar) window(midnight time.Time) (open, close time.Time, ok bool) {
	span := c.Hours[midnight.Weekday()]
	if span.End <= span.Start || c.Holidays[midnight.Format(time.DateOnly)] {
		return time.Time{}, time.Time{}, false
	}
	y, m, d := midnight.Date()
	at := func(min int) time.Time { return time.Date(y, m, d, 0, min, 0, 0, c.Location) }
	return at(span.Start), at(span.End), true
}

// midnight returns the start of t's local day.
func (c *Calendar) midnight(t time.Time) time.Time {
	y, m, d := t.In(c.Location).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, c.Location)
}

// nextDay returns the start of the local day after midnight.
func (c *Calendar) nextDay(midnight time.Time) time.Time {
	y, m, d := midnight.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, c.Location)
}

// Add returns the time d of business time after t: the moment a target of
// d started at t falls due.
func (c *Calendar) Add(t time.Time, d time.Duration) time.Time {
	if c == nil {
		return t.Add(d)
	}
	day := c.midnight(t)
	for range maxCalendarDays {
		if open, close, ok := c.window(day); ok && t.Before(close) {
			cur := t
			if cur.Before(open) {
				cur = open
			}
			if left := close.Sub(cur); d <= left {
				return cur.Add(d).UTC()
			}
			d -= close.Sub(cur)
		}
		day = c.nextDay(day)
		t = day
	}
	return t.UTC()
}

// Between returns the business time in [from, to).
func (c *Calendar) Between(from, to time.Time) time.Duration {
	if !from.Before(to) {
		return 0
	}
	if c == nil {
		return to.Sub(from)
	}
	var sum time.Duration
	for day := c.midnight(from); day.Before(to); day = c.nextDay(day) {
		open, close, ok := c.window(day)
		if !ok {
			continue
		}
		lo, hi := maxTime(open, from), minTime(close, to)
		if lo.Before(hi) {
			sum += hi.Sub(lo)
		}
	}
	return sum
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// ParseClock parses "HH:MM" (00:00 to 24:00) into minutes after midnight.
func ParseClock(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || len(h) != 2 || len(m) != 2 || err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh*60+mm > 24*60 {
		return 0, fmt.Errorf("must be a time HH:MM from 00:00 to 24:00, got %q", s)
	}
	return hh*60 + mm, nil
}
