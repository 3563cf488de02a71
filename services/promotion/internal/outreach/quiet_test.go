package outreach

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestRelease(t *testing.T) {
	night := QuietHours{Start: 22 * 60, End: 6 * 60}
	tests := []struct {
		name     string
		zone     string
		q        QuietHours
		due      string
		want     string
		wantHeld bool
	}{
		{"due 05:30 with quiet 22-06 goes at 06:00", "UTC", night, "2026-06-10T05:30:00Z", "2026-06-10T06:00:00Z", true},
		{"due 23:10 goes at 06:00 the next day", "UTC", night, "2026-06-10T23:10:00Z", "2026-06-11T06:00:00Z", true},
		{"due at 22:00 is held", "UTC", night, "2026-06-10T22:00:00Z", "2026-06-11T06:00:00Z", true},
		{"due at 06:00 goes at once", "UTC", night, "2026-06-10T06:00:00Z", "2026-06-10T06:00:00Z", false},
		{"due at 21:59 goes at once", "UTC", night, "2026-06-10T21:59:00Z", "2026-06-10T21:59:00Z", false},
		{"no quiet hours", "UTC", QuietHours{}, "2026-06-10T03:00:00Z", "2026-06-10T03:00:00Z", false},
		{"quiet hours within a day", "UTC", QuietHours{Start: 12 * 60, End: 14 * 60}, "2026-06-10T13:00:00Z", "2026-06-10T14:00:00Z", true},
		{"customer's zone: 05:30 in New York", "America/New_York", night, "2026-06-10T09:30:00Z", "2026-06-10T10:00:00Z", true},
		{"customer's zone: 05:30 UTC is 01:30 in New York", "America/New_York", night, "2026-06-10T05:30:00Z", "2026-06-10T10:00:00Z", true},
		{"customer's zone: 05:30 UTC is 14:30 in Tokyo", "Asia/Tokyo", night, "2026-06-10T05:30:00Z", "2026-06-10T05:30:00Z", false},
		// New York springs forward on 8 March 2026 at 02:00 EST → 03:00 EDT.
		{"spring forward: 23:00 EST → 06:00 EDT, six hours later", "America/New_York", night, "2026-03-08T04:00:00Z", "2026-03-08T10:00:00Z", true},
		{"spring forward: 05:30 EDT → 06:00 EDT", "America/New_York", night, "2026-03-08T09:30:00Z", "2026-03-08T10:00:00Z", true},
		{"spring forward: an end in the skipped hour is the jump", "America/New_York", QuietHours{Start: 22 * 60, End: 2*60 + 30},
			"2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z", true},
		// New York falls back on 1 November 2026 at 02:00 EDT → 01:00 EST.
		{"fall back: 23:00 EDT → 06:00 EST, eight hours later", "America/New_York", night, "2026-11-01T03:00:00Z", "2026-11-01T11:00:00Z", true},
		{"fall back: an end that happens twice is the first", "America/New_York", QuietHours{Start: 22 * 60, End: 90},
			"2026-11-01T04:30:00Z", "2026-11-01T05:30:00Z", true},
		// London springs forward on 29 March 2026 at 01:00 GMT → 02:00 BST.
		{"London spring forward: 00:30 GMT → 06:00 BST", "Europe/London", night, "2026-03-29T00:30:00Z", "2026-03-29T05:00:00Z", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, held := Release(utc(tt.due), zone(t, tt.zone), tt.q)
			if !got.Equal(utc(tt.want)) || held != tt.wantHeld {
				t.Errorf("Release(%s): got %s held %v, want %s held %v", tt.due, got.UTC().Format(time.RFC3339), held, tt.want, tt.wantHeld)
			}
		})
	}
}

func TestLocalTime(t *testing.T) {
	ny := zone(t, "America/New_York")
	tests := []struct {
		name      string
		y         int
		m         time.Month
		d, minute int
		want      string
	}{
		{"ordinary", 2026, time.June, 10, 6 * 60, "2026-06-10T10:00:00Z"},
		{"skipped 02:30 is the jump at 03:00 EDT", 2026, time.March, 8, 150, "2026-03-08T07:00:00Z"},
		{"01:30 twice: the first, in EDT", 2026, time.November, 1, 90, "2026-11-01T05:30:00Z"},
		{"day 0 is the last of the month before", 2026, time.July, 0, 0, "2026-06-30T04:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LocalTime(tt.y, tt.m, tt.d, tt.minute, ny); !got.Equal(utc(tt.want)) {
				t.Errorf("got %s, want %s", got.UTC().Format(time.RFC3339), tt.want)
			}
		})
	}
}

func TestQuietHoursCheck(t *testing.T) {
	if err := (QuietHours{Start: 1320, End: 360}).Check("quiet_hours"); err != nil {
		t.Errorf("22:00-06:00: %v", err)
	}
	if err := (QuietHours{Start: 1440}).Check("quiet_hours"); err == nil || !strings.Contains(err.Error(), "quiet_hours.start_minute") {
		t.Errorf("start 1440: got %v, want an error naming quiet_hours.start_minute", err)
	}
}

func TestLoadZone(t *testing.T) {
	fallback := zone(t, "Europe/London")
	if got, err := LoadZone("time_zone", "", fallback); err != nil || got != fallback {
		t.Errorf("no zone: got %v, %v; want the programme's default", got, err)
	}
	if got, err := LoadZone("time_zone", "Asia/Tokyo", fallback); err != nil || got.String() != "Asia/Tokyo" {
		t.Errorf("Asia/Tokyo: got %v, %v", got, err)
	}
	if _, err := LoadZone("time_zone", "Mars/Olympus", fallback); !errors.Is(err, ErrInvalidTimeZone) {
		t.Errorf("unknown zone: got %v, want ErrInvalidTimeZone", err)
	}
}
