package outreach

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestPointsTriggers(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	s := newMemory()
	s.addCustomers(Customer{ID: "a", TimeZone: "Asia/Tokyo"}, Customer{ID: "c", TimeZone: "UTC"})
	s.points = []ExpiringPoints{
		{CustomerID: "a", Points: 120, Expiry: time.Date(2026, 5, 4, 20, 0, 0, 0, time.UTC)}, // 5 May in Tokyo
		{CustomerID: "b", Points: 40, Expiry: now.AddDate(0, 0, 5)},                          // unknown: the default zone
		{CustomerID: "c", Points: 75, Expiry: now.AddDate(0, 0, 9)},                          // outside the journey's 7 days
	}
	s.journeys = []JourneyDef{{Journey: Journey{ID: "pts", Trigger: Trigger{Kind: TriggerPointsExpiring, Days: 7}}, CreateTime: now}}
	c := &clock{t: now}
	p := PointsTriggers{TriggerEnv: TriggerEnv{Journeys: s, Customers: s, Messages: s, Members: s, Cursors: s, Zone: time.UTC, Clock: c.now}, Points: s}
	run := func(wantNew int) {
		t.Helper()
		if n, err := p.RunOnce(context.Background()); err != nil || n != wantNew {
			t.Fatalf("at %s: got %d, %v, want %d new messages", c.t, n, err, wantNew)
		}
	}
	run(2)
	want := []string{"a points:2026-05-05 2026-05-01T12:00:00Z", "b points:2026-05-06 2026-05-01T12:00:00Z"}
	if got := s.sent(); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	m := s.messages[MessageID("pts", "a", "points:2026-05-05")]
	if m.ExpiringPoints != 120 || !m.PointsExpiry.Equal(s.points[0].Expiry) {
		t.Errorf("got %d points expiring %s, want 120 at %s", m.ExpiringPoints, m.PointsExpiry, s.points[0].Expiry)
	}
	// Within the hour: not read again. Later: read again, nothing new.
	c.t = now.Add(30 * time.Minute)
	run(0)
	if s.writes != 2 {
		t.Errorf("got %d writes, want 2: no run within the hour", s.writes)
	}
	c.t = now.Add(2 * time.Hour)
	run(0)
	// a's points expire; later ones come up: a new expiry date, a new
	// message.
	c.t = now.AddDate(0, 0, 4)
	s.points = []ExpiringPoints{{CustomerID: "a", Points: 30, Expiry: now.AddDate(0, 0, 8)}}
	run(1)
}

func TestPointsTriggersAudienceFilter(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	s := newMemory()
	s.points = []ExpiringPoints{{CustomerID: "a", Points: 10, Expiry: now.AddDate(0, 0, 2)}, {CustomerID: "b", Points: 10, Expiry: now.AddDate(0, 0, 2)}}
	s.audiences["tiers/vip"] = []string{"b"}
	s.journeys = []JourneyDef{{Journey: Journey{ID: "pts", AudienceFilter: "tiers/vip", Trigger: Trigger{Kind: TriggerPointsExpiring, Days: 7}}}}
	p := PointsTriggers{TriggerEnv: TriggerEnv{Journeys: s, Customers: s, Messages: s, Members: s, Cursors: s, Clock: func() time.Time { return now }}, Points: s}
	if _, err := p.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := s.sent(), []string{"b points:2026-05-03 2026-05-01T12:00:00Z"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// messageOnly is a MessageStore that only creates messages.
type messageOnly struct {
	MessageStore
	created []string
}

func (m *messageOnly) CreateMessage(_ context.Context, msg Message) (bool, error) {
	m.created = append(m.created, msg.CustomerID)
	return true, nil
}

func TestFilteredMessages(t *testing.T) {
	s := newMemory()
	s.audiences["tiers/vip"] = []string{"in"}
	s.journeys = []JourneyDef{{Journey: Journey{ID: "vip", AudienceFilter: "tiers/vip"}}, {Journey: Journey{ID: "all"}}}
	inner := &messageOnly{}
	f := FilteredMessages{MessageStore: inner, Journeys: s, Members: s}
	for _, m := range []Message{{JourneyID: "vip", CustomerID: "in"}, {JourneyID: "vip", CustomerID: "out"}, {JourneyID: "all", CustomerID: "out"}} {
		if _, err := f.CreateMessage(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"in", "out"}; !slices.Equal(inner.created, want) {
		t.Errorf("got %v created, want %v (the member of vip, anyone for all)", inner.created, want)
	}
}
