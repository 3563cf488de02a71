package outreach

import (
	"fmt"
	"time"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

// MinutesPerDay bounds a minute of the local day.
const MinutesPerDay = 24 * 60

// QuietHours are local times of day during which marketing messages are
// held: from Start to End, in minutes after local midnight. Start > End
// wraps past midnight (22:00–06:00 is Start 1320, End 360). Start == End
// means none.
type QuietHours struct {
	Start, End int
}

// Check validates q, naming fields under path.
func (q QuietHours) Check(path string) error {
	for _, f := range []struct {
		name string
		v    int
	}{{"start_minute", q.Start}, {"end_minute", q.End}} {
		if f.v < 0 || f.v >= MinutesPerDay {
			return fielderr.New(path+"."+f.name, "must be a minute of the day from 0 to 1439, got %d", f.v)
		}
	}
	return nil
}

// contains reports whether the local minute of the day m is quiet.
func (q QuietHours) contains(m int) bool {
	switch {
	case q.Start == q.End:
		return false
	case q.Start < q.End:
		return m >= q.Start && m < q.End
	default:
		return m >= q.Start || m < q.End
	}
}

// Release returns when a message due at due may go out under quiet hours
// q in loc: due itself when it is not inside them, otherwise the first
// instant their end is reached on the local clock (due 05:30 with quiet
// hours 22:00–06:00 → 06:00 the same local day; due 23:10 → 06:00 the
// next). Across a daylight-saving change the end is a local time: 06:00
// the morning after the clocks change, however many hours that is; an end
// that falls in the skipped hour is reached when the clocks jump past it.
// held reports whether due was inside the quiet hours.
func Release(due time.Time, loc *time.Location, q QuietHours) (release time.Time, held bool) {
	local := due.In(loc)
	m := local.Hour()*60 + local.Minute()
	if !q.contains(m) {
		return due, false
	}
	y, mo, d := local.Date()
	if q.Start > q.End && m >= q.Start { // before midnight: ends tomorrow
		d++
	}
	return LocalTime(y, mo, d, q.End, loc), true
}

// LocalTime returns the first instant at which the local clock in loc
// reads minute of the day minute (0–1439) on the given date (normalised
// like time.Date). When that local time does not exist (the clocks
// jumped over it), it is the instant of the jump; when it exists twice
// (the clocks went back), the first.
func LocalTime(year int, month time.Month, day, minute int, loc *time.Location) time.Time {
	t := time.Date(year, month, day, minute/60, minute%60, 0, 0, loc)
	want := time.Date(year, month, day, minute/60, minute%60, 0, 0, time.UTC) // wall clock, normalised
	if wall(t) == wall(want) {
		// Existing time; of two (clocks went back) take the earlier.
		if e := t.Add(-time.Hour); wall(e.In(loc)) == wall(want) {
			return e
		}
		if e := t.Add(-30 * time.Minute); wall(e.In(loc)) == wall(want) { // half-hour shifts (Lord Howe)
			return e
		}
		return t
	}
	// Skipped: the jump is the first instant at or after the wanted wall
	// clock. Search the day around t for the offset change.
	return offsetChange(t.Add(-6*time.Hour), t.Add(6*time.Hour), loc)
}

// wall is an instant's local date and clock as a UTC time, for comparing
// wall clocks.
func wall(t time.Time) time.Time {
	y, mo, d := t.Date()
	return time.Date(y, mo, d, t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
}

// offsetChange returns the first instant in (lo, hi] whose UTC offset in
// loc differs from lo's, to the second (hi when there is none).
func offsetChange(lo, hi time.Time, loc *time.Location) time.Time {
	_, off := lo.In(loc).Zone()
	for hi.Sub(lo) > time.Second {
		mid := lo.Add(hi.Sub(lo) / 2).Truncate(time.Second)
		if _, o := mid.In(loc).Zone(); o == off {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

// LoadZone returns the time zone named name (IANA, e.g. "Europe/London"),
// or fallback when name is empty. An unknown name is an error naming path.
func LoadZone(path, name string, fallback *time.Location) (*time.Location, error) {
	if name == "" {
		return fallback, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, &fielderr.Error{Path: path, Problem: fmt.Sprintf("unknown time zone %q", name),
			Fix: "use an IANA name such as Europe/London", Err: ErrInvalidTimeZone}
	}
	return loc, nil
}
