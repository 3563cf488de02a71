package feedback

import (
	"testing"
	"time"
)

// FuzzCalendarAddBetween checks that Add and Between agree: the business
// time between a start and the due time Add gives is the target, in a
// zone with daylight saving and around holidays; and the due time is
// never before the start.
func FuzzCalendarAddBetween(f *testing.F) {
	f.Add(int64(0), int64(2*60))
	f.Add(int64(3*24*60+7*60), int64(20*60))    // a Sunday morning, 20 h
	f.Add(int64(297*24*60+23*60+30), int64(90)) // around the October DST change
	f.Add(int64(84*24*60+1*60), int64(8*60*5))  // around the March DST change, a week
	f.Add(int64(358*24*60+16*60+59), int64(1))  // Christmas Eve, one minute
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		f.Fatal(err)
	}
	cal := weekdays(berlin, "2026-12-24", "2026-12-25", "2026-12-31")
	origin := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, startMin, targetMin int64) {
		if startMin < 0 || startMin > 366*24*60 || targetMin < 0 || targetMin > 60*24*60 {
			t.Skip()
		}
		start := origin.Add(time.Duration(startMin) * time.Minute)
		d := time.Duration(targetMin) * time.Minute
		due := cal.Add(start, d)
		if due.Before(start) {
			t.Fatalf("Add(%s, %s) = %s, before the start", start, d, due)
		}
		if got := cal.Between(start, due); got != d {
			t.Fatalf("Between(%s, Add(…, %s) = %s) = %s, want %s", start, d, due, got, d)
		}
	})
}
