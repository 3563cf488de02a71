package feedback

import (
	"testing"
	"time"
)

// weekdays is Monday–Friday 09:00–17:00 in loc.
func weekdays(loc *time.Location, holidays ...string) *Calendar {
	c := &Calendar{Location: loc, Holidays: map[string]bool{}}
	for d := time.Monday; d <= time.Friday; d++ {
		c.Hours[d] = Span{Start: 9 * 60, End: 17 * 60}
	}
	for _, h := range holidays {
		c.Holidays[h] = true
	}
	return c
}

// at parses "2026-12-02 07:00" in loc (2026-12-02 is a Wednesday).
func at(t *testing.T, loc *time.Location, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCalendarAdd(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		cal   *Calendar
		start string
		d     time.Duration
		want  string
	}{
		{"friday afternoon runs into monday", weekdays(time.UTC), "2026-12-04 16:00", 2 * time.Hour, "2026-12-07 10:00"},
		{"before opening starts at opening", weekdays(time.UTC), "2026-12-02 07:00", 2 * time.Hour, "2026-12-02 11:00"},
		{"after closing starts next morning", weekdays(time.UTC), "2026-12-02 18:00", 2 * time.Hour, "2026-12-03 11:00"},
		{"saturday starts monday", weekdays(time.UTC), "2026-12-05 10:00", 2 * time.Hour, "2026-12-07 11:00"},
		{"inside hours", weekdays(time.UTC), "2026-12-02 10:30", 2 * time.Hour, "2026-12-02 12:30"},
		{"ends exactly at closing", weekdays(time.UTC), "2026-12-02 15:00", 2 * time.Hour, "2026-12-02 17:00"},
		{"starts at closing", weekdays(time.UTC), "2026-12-02 17:00", 2 * time.Hour, "2026-12-03 11:00"},
		{"holiday skipped", weekdays(time.UTC, "2026-12-25"), "2026-12-24 16:00", 2 * time.Hour, "2026-12-28 10:00"},
		{"two holidays in a row", weekdays(time.UTC, "2026-12-03", "2026-12-04"), "2026-12-02 16:00", 2 * time.Hour, "2026-12-07 10:00"},
		{"multi-day target", weekdays(time.UTC), "2026-12-02 09:00", 20 * time.Hour, "2026-12-04 13:00"},
		{"calendar hours", nil, "2026-12-05 10:00", 2 * time.Hour, "2026-12-05 12:00"},
		// Berlin leaves summer time on Sunday 2026-10-25: local 09:00
		// is 07:00 UTC on Friday and 08:00 UTC on Monday.
		{"DST ends over the weekend", weekdays(berlin), "2026-10-23 16:00", 2 * time.Hour, "2026-10-26 10:00"},
		{"DST starts over the weekend", weekdays(berlin), "2026-03-27 16:00", 2 * time.Hour, "2026-03-30 10:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := time.UTC
			if tt.cal != nil {
				loc = tt.cal.Location
			}
			got := tt.cal.Add(at(t, loc, tt.start), tt.d)
			if want := at(t, loc, tt.want); !got.Equal(want) {
				t.Fatalf("got %s, want %s", got.In(loc), want)
			}
		})
	}
}

func TestCalendarDSTWallClock(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	cal := weekdays(berlin)
	// Friday 16:00 CEST is 14:00 UTC; Monday 10:00 CET is 09:00 UTC: the
	// due time follows the local office hours, not a fixed UTC offset.
	got := cal.Add(time.Date(2026, 10, 23, 14, 0, 0, 0, time.UTC), 2*time.Hour)
	if want := time.Date(2026, 10, 26, 9, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestCalendarBetween(t *testing.T) {
	cal := weekdays(time.UTC, "2026-12-25")
	tests := []struct {
		name     string
		from, to string
		want     time.Duration
	}{
		{"inside one day", "2026-12-02 10:00", "2026-12-02 12:30", 150 * time.Minute},
		{"over a weekend", "2026-12-04 16:00", "2026-12-07 10:00", 2 * time.Hour},
		{"night only", "2026-12-02 18:00", "2026-12-03 08:00", 0},
		{"over a holiday", "2026-12-24 16:00", "2026-12-28 10:00", 2 * time.Hour},
		{"reversed", "2026-12-02 12:00", "2026-12-02 10:00", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cal.Between(at(t, time.UTC, tt.from), at(t, time.UTC, tt.to)); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestParseClock(t *testing.T) {
	for in, want := range map[string]int{"09:00": 540, "00:00": 0, "24:00": 1440, "17:30": 1050} {
		if got, err := ParseClock(in); err != nil || got != want {
			t.Errorf("ParseClock(%q) = %d, %v, want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"9:00", "24:01", "12:60", "ab:cd", "", "12"} {
		if _, err := ParseClock(in); err == nil {
			t.Errorf("ParseClock(%q) succeeded, want an error", in)
		}
	}
}
