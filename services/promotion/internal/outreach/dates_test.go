package outreach

import (
	"context"
	"slices"
	"testing"
	"time"
)

// simulate runs triggers every step from `from` to `to`, as the elected
// replica's loop does.
func simulate(t *testing.T, run func(context.Context) (int, error), c *clock, from, to time.Time, step time.Duration) {
	t.Helper()
	for c.t = from; c.t.Before(to); c.t = c.t.Add(step) {
		if _, err := run(context.Background()); err != nil {
			t.Fatalf("at %s: %v", c.t, err)
		}
	}
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestBirthdayCandidates(t *testing.T) {
	got := BirthdayCandidates(time.Date(2027, 2, 25, 10, 0, 0, 0, time.UTC), time.Date(2027, 2, 25, 11, 0, 0, 0, time.UTC), 3)
	for _, want := range []MonthDay{{time.February, 28}, {time.February, 29}, {time.March, 1}} {
		if !slices.Contains(got, want) {
			t.Errorf("got %v, want it to hold %v", got, want)
		}
	}
	if len(got) > 6 {
		t.Errorf("got %d candidate days for an hour, want a few: %v", len(got), got)
	}
}

func TestDateTriggersBirthday(t *testing.T) {
	tests := []struct {
		name     string
		days     int
		minute   int
		created  time.Time
		until    time.Time
		audience string
		want     []string
	}{
		{name: "zones, DST and the default zone", days: 2, minute: 60, created: day(2026, 3, 20), until: day(2026, 4, 1), want: []string{
			"a birthday:2026 2026-03-29T01:00:00Z", // London skips 01:00 that day: the jump, 01:00 UTC
			"b birthday:2026 2026-03-23T05:00:00Z", // New York, on summer time since 8 March
			"c birthday:2026 2026-03-20T16:00:00Z", // no zone: the programme's, Tokyo
		}},
		{name: "29 February in a common year", days: 0, minute: 9 * 60, created: day(2027, 2, 20), until: day(2027, 3, 5), want: []string{
			"leap birthday:2027 2027-02-28T09:00:00Z",
		}},
		{name: "audience filter", days: 2, minute: 60, created: day(2026, 3, 20), until: day(2026, 4, 1), audience: "tiers/vip", want: []string{
			"b birthday:2026 2026-03-23T05:00:00Z",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newMemory()
			s.addCustomers(
				Customer{ID: "a", BirthMonth: time.March, BirthDay: 31, TimeZone: "Europe/London"},
				Customer{ID: "b", BirthMonth: time.March, BirthDay: 25, TimeZone: "America/New_York"},
				Customer{ID: "c", BirthMonth: time.March, BirthDay: 23},
				Customer{ID: "e", BirthMonth: time.April, BirthDay: 30, TimeZone: "UTC"},
				Customer{ID: "f", BirthMonth: time.March, BirthDay: 21, TimeZone: "UTC"}, // message due before the journey existed
				Customer{ID: "leap", BirthMonth: time.February, BirthDay: 29, TimeZone: "UTC"},
				Customer{ID: "none"},
			)
			s.audiences["tiers/vip"] = []string{"b", "x"}
			s.journeys = []JourneyDef{{Journey: Journey{ID: "bday", AudienceFilter: tt.audience,
				Trigger: Trigger{Kind: TriggerBirthday, Days: tt.days, LocalMinute: tt.minute}}, CreateTime: tt.created}}
			c := &clock{}
			d := DateTriggers{TriggerEnv: TriggerEnv{Journeys: s, Customers: s, Messages: s, Members: s, Cursors: s, Zone: zone(t, "Asia/Tokyo"), Clock: c.now}}
			simulate(t, d.RunOnce, c, tt.created, tt.until, 7*time.Minute)
			if got := s.sent(); !slices.Equal(got, tt.want) {
				t.Errorf("got\n%s\nwant\n%s", lines(got...), lines(tt.want...))
			}
			if tt.audience == "" && s.writes != len(tt.want) {
				t.Errorf("got %d message writes, want %d: each customer's message made once", s.writes, len(tt.want))
			}
			// A replica that lost the cursors makes the same messages again:
			// nothing new.
			clear(s.cursors)
			c.t = tt.created
			if n, err := d.RunOnce(context.Background()); err != nil || n != 0 {
				t.Errorf("got %d, %v after losing the cursors, want 0 new messages", n, err)
			}
		})
	}
}

func TestDateTriggersHoliday(t *testing.T) {
	xmas := Holiday{Name: "Christmas", Date: day(2026, 12, 25)}
	tests := []struct {
		name     string
		holiday  Holiday
		minute   int
		created  time.Time
		audience string
		want     []string
	}{
		{name: "every customer, in their zones", holiday: xmas, minute: 600, created: day(2026, 12, 20), want: []string{
			"la holiday:Christmas:2026-12-25 2026-12-25T18:00:00Z",
			"london holiday:Christmas:2026-12-25 2026-12-25T10:00:00Z",
			"nozone holiday:Christmas:2026-12-25 2026-12-25T10:00:00Z",
			"ny holiday:Christmas:2026-12-25 2026-12-25T15:00:00Z",
			"tokyo holiday:Christmas:2026-12-25 2026-12-25T01:00:00Z",
		}},
		{name: "created once the holiday began in Tokyo", holiday: xmas, minute: 600, created: time.Date(2026, 12, 25, 5, 0, 0, 0, time.UTC), want: []string{
			"la holiday:Christmas:2026-12-25 2026-12-25T18:00:00Z",
			"london holiday:Christmas:2026-12-25 2026-12-25T10:00:00Z",
			"nozone holiday:Christmas:2026-12-25 2026-12-25T10:00:00Z",
			"ny holiday:Christmas:2026-12-25 2026-12-25T15:00:00Z",
		}},
		{name: "the audience's members, known or not", holiday: xmas, minute: 600, created: day(2026, 12, 20), audience: "tiers/vip", want: []string{
			"la holiday:Christmas:2026-12-25 2026-12-25T18:00:00Z",
			"stranger holiday:Christmas:2026-12-25 2026-12-25T10:00:00Z",
			"tokyo holiday:Christmas:2026-12-25 2026-12-25T01:00:00Z",
		}},
		{name: "a local minute the DST change skips", holiday: Holiday{Name: "Pi", Date: day(2027, 3, 14)}, minute: 150, created: day(2027, 3, 10), want: []string{
			"la holiday:Pi:2027-03-14 2027-03-14T10:00:00Z",
			"london holiday:Pi:2027-03-14 2027-03-14T02:30:00Z",
			"nozone holiday:Pi:2027-03-14 2027-03-14T02:30:00Z",
			"ny holiday:Pi:2027-03-14 2027-03-14T07:00:00Z", // 02:30 does not exist: 03:00 EDT
			"tokyo holiday:Pi:2027-03-14 2027-03-13T17:30:00Z",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newMemory()
			s.addCustomers(Customer{ID: "london", TimeZone: "Europe/London"}, Customer{ID: "tokyo", TimeZone: "Asia/Tokyo"},
				Customer{ID: "la", TimeZone: "America/Los_Angeles"}, Customer{ID: "ny", TimeZone: "America/New_York"},
				Customer{ID: "nozone"})
			s.audiences["tiers/vip"] = []string{"la", "stranger", "tokyo"}
			s.journeys = []JourneyDef{{Journey: Journey{ID: "hol", AudienceFilter: tt.audience,
				Trigger: Trigger{Kind: TriggerHoliday, LocalMinute: tt.minute, Holidays: []Holiday{tt.holiday}}}, CreateTime: tt.created}}
			c := &clock{}
			d := DateTriggers{TriggerEnv: TriggerEnv{Journeys: s, Customers: s, Messages: s, Members: s, Cursors: s, Zone: time.UTC, Clock: c.now}}
			simulate(t, d.RunOnce, c, tt.created, tt.created.AddDate(0, 0, 8), 13*time.Minute)
			if got := s.sent(); !slices.Equal(got, tt.want) {
				t.Errorf("got\n%s\nwant\n%s", lines(got...), lines(tt.want...))
			}
			if s.writes != len(tt.want) {
				t.Errorf("got %d message writes, want %d: the holiday's messages made once", s.writes, len(tt.want))
			}
		})
	}
}

func TestDateTriggersCatchUpAfterOutage(t *testing.T) {
	s := newMemory()
	s.addCustomers(Customer{ID: "a", BirthMonth: time.June, BirthDay: 10, TimeZone: "UTC"},
		Customer{ID: "b", BirthMonth: time.June, BirthDay: 14, TimeZone: "UTC"})
	s.journeys = []JourneyDef{{Journey: Journey{ID: "bday", Trigger: Trigger{Kind: TriggerBirthday, Days: 0, LocalMinute: 600}},
		CreateTime: day(2026, 6, 1)}}
	c := &clock{t: day(2026, 6, 1)}
	d := DateTriggers{TriggerEnv: TriggerEnv{Journeys: s, Customers: s, Messages: s, Cursors: s, Clock: c.now}}
	if _, err := d.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Down from 1 to 14 June, 12:00: a's message is stale, b's (due two
	// hours ago) still goes.
	simulate(t, d.RunOnce, c, time.Date(2026, 6, 14, 12, 0, 0, 0, time.UTC), day(2026, 6, 15), 10*time.Minute)
	want := []string{"b birthday:2026 2026-06-14T10:00:00Z"}
	if got := s.sent(); !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestDateTriggersJourneyFailing: a journey whose audience cannot be read
// fails and keeps its cursor; the other journeys go on.
func TestDateTriggersJourneyFailing(t *testing.T) {
	s := newMemory()
	s.addCustomers(Customer{ID: "a", BirthMonth: time.June, BirthDay: 1, TimeZone: "UTC"})
	created := day(2026, 5, 31)
	s.journeys = []JourneyDef{
		{Journey: Journey{ID: "a-vip", AudienceFilter: "tiers/vip", Trigger: Trigger{Kind: TriggerHoliday, LocalMinute: 600,
			Holidays: []Holiday{{Name: "June", Date: day(2026, 6, 1)}}}}, CreateTime: created},
		{Journey: Journey{ID: "b-bday", Trigger: Trigger{Kind: TriggerBirthday, LocalMinute: 600}}, CreateTime: created},
	}
	c := &clock{t: time.Date(2026, 6, 1, 9, 30, 0, 0, time.UTC)}
	d := DateTriggers{TriggerEnv: TriggerEnv{Journeys: s, Customers: s, Messages: s, Cursors: s, Clock: c.now}} // no membership source
	n, err := d.RunOnce(context.Background())
	if err == nil || n != 1 || s.cursors[DateCursor("a-vip")] != "" || s.cursors[DateCursor("b-bday")] == "" {
		t.Errorf("got %d, %v, cursors %v; want the birthday made and the holiday's error", n, err, s.cursors)
	}
}
