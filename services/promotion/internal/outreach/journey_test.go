package outreach

import (
	"testing"
	"time"
)

func TestJourneyCheck(t *testing.T) {
	ok := Journey{ID: "j", Trigger: Trigger{Kind: TriggerCartAbandoned, Hours: 4}, Channels: []Channel{ChannelPush, ChannelEmail}}
	with := func(f func(*Journey)) Journey {
		j := ok
		j.Channels = append([]Channel(nil), ok.Channels...)
		f(&j)
		return j
	}
	tests := []struct {
		name string
		j    Journey
		path string // "" for valid
	}{
		{"cart abandoned", ok, ""},
		{"post purchase", with(func(j *Journey) { j.Trigger = Trigger{Kind: TriggerPostPurchase, Days: 14} }), ""},
		{"first order", with(func(j *Journey) { j.Trigger = Trigger{Kind: TriggerFirstOrder} }), ""},
		{"birthday", with(func(j *Journey) { j.Trigger = Trigger{Kind: TriggerBirthday, Days: 3, LocalMinute: 9 * 60} }), ""},
		{"holiday", with(func(j *Journey) {
			j.Trigger = Trigger{Kind: TriggerHoliday, LocalMinute: 600, Holidays: []Holiday{{"Boxing Day", time.Date(2026, 12, 26, 0, 0, 0, 0, time.UTC)}}}
		}), ""},
		{"audience entered", with(func(j *Journey) { j.Trigger = Trigger{Kind: TriggerAudienceEntered, Audience: "stages/dormant"} }), ""},
		{"points expiring", with(func(j *Journey) { j.Trigger = Trigger{Kind: TriggerPointsExpiring, Days: 7} }), ""},
		{"no trigger", with(func(j *Journey) { j.Trigger = Trigger{} }), "trigger.kind"},
		{"zero hours", with(func(j *Journey) { j.Trigger.Hours = 0 }), "trigger.hours"},
		{"post purchase without days", with(func(j *Journey) { j.Trigger = Trigger{Kind: TriggerPostPurchase} }), "trigger.days"},
		{"birthday at minute 1440", with(func(j *Journey) { j.Trigger = Trigger{Kind: TriggerBirthday, LocalMinute: 1440} }), "trigger.local_minute"},
		{"holiday without dates", with(func(j *Journey) { j.Trigger = Trigger{Kind: TriggerHoliday} }), "trigger.holidays"},
		{"holiday without a name", with(func(j *Journey) { j.Trigger = Trigger{Kind: TriggerHoliday, Holidays: []Holiday{{}}} }), "trigger.holidays[0].name"},
		{"audience missing", with(func(j *Journey) { j.Trigger = Trigger{Kind: TriggerAudienceLeft} }), "trigger.audience"},
		{"audience filter", with(func(j *Journey) { j.AudienceFilter = "tiers/vip" }), ""},
		{"audience filter not a name", with(func(j *Journey) { j.AudienceFilter = "vip" }), "audience_filter"},
		{"audience filter without an id", with(func(j *Journey) { j.AudienceFilter = "segments/" }), "audience_filter"},
		{"negative delay", with(func(j *Journey) { j.Delay = -time.Second }), "delay"},
		{"no channels", with(func(j *Journey) { j.Channels = nil }), "channels"},
		{"unknown channel", with(func(j *Journey) { j.Channels[1] = Channel(42) }), "channels[1]"},
		{"repeated channel", with(func(j *Journey) { j.Channels[1] = ChannelPush }), "channels[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.j.Check()
			if got := fieldOf(err); got != tt.path {
				t.Errorf("got %v, want an error on %q", err, tt.path)
			}
		})
	}
}

func TestOccurrenceKeys(t *testing.T) {
	london, _ := time.LoadLocation("Europe/London")
	keys := []string{
		OccurrenceKey("j", "c1", CartOccurrence("e1")),
		OccurrenceKey("j", "c1", CartOccurrence("e2")),
		OccurrenceKey("j", "c2", CartOccurrence("e1")),
		OccurrenceKey("k", "c1", CartOccurrence("e1")),
		OccurrenceKey("j", "c1", OrderOccurrence("e1")),
		OccurrenceKey("j", "c1", FirstOrderOccurrence),
		OccurrenceKey("j", "c1", BirthdayOccurrence(2026)),
		OccurrenceKey("j", "c1", BirthdayOccurrence(2027)),
		OccurrenceKey("j", "c1", HolidayOccurrence(Holiday{"Xmas", time.Date(2026, 12, 25, 0, 0, 0, 0, time.UTC)})),
		OccurrenceKey("j", "c1", AudienceOccurrence("op-1")),
		OccurrenceKey("j", "c1", PointsOccurrence(time.Date(2026, 6, 30, 23, 30, 0, 0, time.UTC), london)),
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k] {
			t.Errorf("key %q made twice", k)
		}
		seen[k] = true
	}
	// The same occurrence always makes the same key: a replay finds it.
	if OccurrenceKey("j", "c1", CartOccurrence("e1")) != keys[0] {
		t.Error("the same occurrence made another key")
	}
	if got := PointsOccurrence(time.Date(2026, 6, 30, 23, 30, 0, 0, time.UTC), london); got != "points:2026-07-01" {
		t.Errorf("points expiring at 23:30 UTC on 30 June: got %q, want the London date points:2026-07-01", got)
	}
}

func TestCartAbandoned(t *testing.T) {
	cart := utc("2026-06-01T10:00:00Z")
	tests := []struct {
		name        string
		orders      []string
		now         string
		fire, known bool
	}{
		{"no order within 4 hours", nil, "2026-06-01T14:00:00Z", true, true},
		{"still waiting", nil, "2026-06-01T13:59:00Z", false, false},
		{"ordered within the wait", []string{"2026-06-01T12:00:00Z"}, "2026-06-01T12:00:00Z", false, true},
		{"ordered at the end of the wait", []string{"2026-06-01T14:00:00Z"}, "2026-06-01T15:00:00Z", false, true},
		{"ordered after the wait", []string{"2026-06-01T14:01:00Z"}, "2026-06-01T15:00:00Z", true, true},
		{"an order before the cart does not count", []string{"2026-06-01T09:00:00Z"}, "2026-06-01T15:00:00Z", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var orders []time.Time
			for _, o := range tt.orders {
				orders = append(orders, utc(o))
			}
			due, fire, known := CartAbandoned(cart, 4, orders, utc(tt.now))
			if fire != tt.fire || known != tt.known || !due.Equal(utc("2026-06-01T14:00:00Z")) {
				t.Errorf("got due %s fire %v decided %v, want 14:00 fire %v decided %v", due, fire, known, tt.fire, tt.known)
			}
		})
	}
}

func TestBirthday(t *testing.T) {
	tests := []struct {
		name     string
		zone     string
		month    time.Month
		day      int
		days     int
		now      string
		want     string
		wantYear int
	}{
		{"3 days before at 09:00 local", "Europe/London", time.July, 10, 3, "2026-06-01T00:00:00Z", "2026-07-07T08:00:00Z", 2026},
		{"days before cross the month", "Europe/London", time.March, 2, 3, "2026-01-01T00:00:00Z", "2026-02-27T09:00:00Z", 2026},
		{"passed this year: next year", "Europe/London", time.March, 2, 0, "2026-03-02T09:00:01Z", "2027-03-02T09:00:00Z", 2027},
		{"29 February in a common year is the 28th", "UTC", time.February, 29, 0, "2026-01-01T00:00:00Z", "2026-02-28T09:00:00Z", 2026},
		{"29 February in a leap year", "UTC", time.February, 29, 0, "2028-01-01T00:00:00Z", "2028-02-29T09:00:00Z", 2028},
		{"early January birthday from December", "UTC", time.January, 2, 5, "2026-12-20T00:00:00Z", "2026-12-28T09:00:00Z", 2027},
		{"local hour in Tokyo", "Asia/Tokyo", time.June, 10, 0, "2026-06-01T00:00:00Z", "2026-06-10T00:00:00Z", 2026},
		{"09:00 local on the day New York springs forward", "America/New_York", time.March, 8, 0, "2026-01-01T00:00:00Z", "2026-03-08T13:00:00Z", 2026},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			due, year := Birthday(tt.month, tt.day, tt.days, 9*60, zone(t, tt.zone), utc(tt.now))
			if !due.Equal(utc(tt.want)) || year != tt.wantYear {
				t.Errorf("got %s (%d), want %s (%d)", due.UTC().Format(time.RFC3339), year, tt.want, tt.wantYear)
			}
		})
	}
}

func TestNextHoliday(t *testing.T) {
	cal := []Holiday{
		{"New Year", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"Christmas", time.Date(2026, 12, 25, 0, 0, 0, 0, time.UTC)},
		{"Boxing Day", time.Date(2026, 12, 26, 0, 0, 0, 0, time.UTC)},
	}
	ny := zone(t, "America/New_York")
	h, due, ok := NextHoliday(cal, 10*60, ny, utc("2026-12-25T15:00:01Z"))
	if !ok || h.Name != "Boxing Day" || !due.Equal(utc("2026-12-26T15:00:00Z")) {
		t.Errorf("got %v %s %v, want Boxing Day at 10:00 EST", h.Name, due, ok)
	}
	if _, _, ok := NextHoliday(cal, 0, ny, utc("2027-02-01T00:00:00Z")); ok {
		t.Error("a holiday after the calendar's last")
	}
}

func TestPointsExpiring(t *testing.T) {
	now := utc("2026-06-01T00:00:00Z")
	for _, tt := range []struct {
		expiry string
		want   bool
	}{
		{"2026-06-08T00:00:00Z", true}, {"2026-06-08T00:00:01Z", false}, {"2026-06-01T00:00:00Z", false}, {"2026-06-02T00:00:00Z", true},
	} {
		if got := PointsExpiring(utc(tt.expiry), 7, now); got != tt.want {
			t.Errorf("expiry %s within 7 days: got %v, want %v", tt.expiry, got, tt.want)
		}
	}
}

func TestDue(t *testing.T) {
	night := QuietHours{Start: 22 * 60, End: 6 * 60}
	j := Journey{Delay: 2 * time.Hour}
	if due, held := Due(j, utc("2026-06-01T03:30:00Z"), time.UTC, night); !held || !due.Equal(utc("2026-06-01T06:00:00Z")) {
		t.Errorf("03:30 + 2 h inside quiet hours: got %s held %v, want 06:00 held", due, held)
	}
	if due, held := Due(j, utc("2026-06-01T08:00:00Z"), time.UTC, night); held || !due.Equal(utc("2026-06-01T10:00:00Z")) {
		t.Errorf("08:00 + 2 h: got %s held %v, want 10:00", due, held)
	}
	j.Transactional = true
	if due, held := Due(j, utc("2026-06-01T03:30:00Z"), time.UTC, night); held || !due.Equal(utc("2026-06-01T05:30:00Z")) {
		t.Errorf("transactional: got %s held %v, want 05:30 not held", due, held)
	}
	if got := PostPurchase(utc("2026-03-01T12:00:00Z"), 14); !got.Equal(utc("2026-03-15T12:00:00Z")) {
		t.Errorf("PostPurchase: got %s", got)
	}
}
