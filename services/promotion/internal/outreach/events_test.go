package outreach_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach/outreachtest"
)

var t0 = time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)

// at is t0 plus h hours.
func at(h float64) time.Time { return t0.Add(time.Duration(h * float64(time.Hour))) }

func cart(seq int64, customer string, h float64) outreach.TriggerEvent {
	return outreach.TriggerEvent{Sequence: seq, EventID: fmt.Sprintf("e%d", seq), CustomerID: customer, Time: at(h), Cart: true}
}

func order(seq int64, customer, id string, h float64, first bool) outreach.TriggerEvent {
	return outreach.TriggerEvent{Sequence: seq, EventID: fmt.Sprintf("e%d", seq), CustomerID: customer, Time: at(h), OrderID: id, FirstOrder: first}
}

// run is one run of the triggers at hour `at` after recording events; want
// lists the messages it creates as "journey customer occurrence due-hour".
type run struct {
	at     float64
	events []outreach.TriggerEvent
	want   []string
}

func TestEventTriggers(t *testing.T) {
	cartJourney := journey("cart", outreach.Trigger{Kind: outreach.TriggerCartAbandoned, Hours: 2}, 0, 30*time.Minute)
	tests := []struct {
		name     string
		journeys []outreach.JourneyDef
		runs     []run
		waits    int // waits left after the last run
	}{
		{"cart abandoned after the wait, plus the delay", []outreach.JourneyDef{cartJourney}, []run{
			{at: 1, events: []outreach.TriggerEvent{cart(1, "ada", 0.5)}},
			{at: 2.4},
			{at: 2.5, want: []string{"cart ada cart:e1 3.0"}},
			{at: 10},
		}, 0},
		{"an order inside the wait cancels it", []outreach.JourneyDef{cartJourney}, []run{
			{at: 1, events: []outreach.TriggerEvent{cart(1, "ada", 0), order(2, "ada", "o1", 2, true)}},
			{at: 5},
		}, 0},
		{"an order after the wait does not", []outreach.JourneyDef{cartJourney}, []run{
			{at: 5, events: []outreach.TriggerEvent{cart(1, "ada", 0), order(2, "ada", "o1", 2.5, true)},
				want: []string{"cart ada cart:e1 2.5"}},
		}, 0},
		{"an order before the cart does not", []outreach.JourneyDef{cartJourney}, []run{
			{at: 5, events: []outreach.TriggerEvent{order(1, "ada", "o1", 0, true), cart(2, "ada", 1)},
				want: []string{"cart ada cart:e2 3.5"}},
		}, 0},
		{"a later cart restarts the wait", []outreach.JourneyDef{cartJourney}, []run{
			{at: 1.5, events: []outreach.TriggerEvent{cart(1, "ada", 0), cart(2, "ada", 1)}},
			{at: 2.5},
			{at: 3, want: []string{"cart ada cart:e2 3.5"}},
		}, 0},
		{"a cart read late does not replace a later one", []outreach.JourneyDef{cartJourney}, []run{
			{at: 1.5, events: []outreach.TriggerEvent{cart(2, "ada", 1)}},
			{at: 1.6, events: []outreach.TriggerEvent{cart(1, "ada", 0)}},
			{at: 3, want: []string{"cart ada cart:e2 3.5"}},
		}, 0},
		{"carts read again after the decision start nothing", []outreach.JourneyDef{cartJourney}, []run{
			{at: 1.5, events: []outreach.TriggerEvent{cart(1, "ada", 0), cart(2, "ada", 1)}},
			{at: 3, want: []string{"cart ada cart:e2 3.5"}},
			{at: 4, events: []outreach.TriggerEvent{cart(1, "ada", 0)}},
			{at: 5, events: []outreach.TriggerEvent{cart(2, "ada", 1)}},
		}, 0},
		{"customers wait apart", []outreach.JourneyDef{cartJourney}, []run{
			{at: 0.5, events: []outreach.TriggerEvent{cart(1, "ada", 0), cart(2, "bob", 0), order(3, "bob", "o1", 1, true)}},
			{at: 1}, // bob's order ends his wait; ada's goes on
		}, 1},
		{"each cart journey waits its own hours", []outreach.JourneyDef{cartJourney,
			journey("cart-day", outreach.Trigger{Kind: outreach.TriggerCartAbandoned, Hours: 24}, 0, 0)}, []run{
			{at: 3, events: []outreach.TriggerEvent{cart(1, "ada", 0)}, want: []string{"cart ada cart:e1 2.5"}},
			{at: 20, events: []outreach.TriggerEvent{order(2, "ada", "o1", 12, true)}},
		}, 0},
		{"a cart before the journey was created", []outreach.JourneyDef{
			journey("cart", outreach.Trigger{Kind: outreach.TriggerCartAbandoned, Hours: 2}, 1, 0)}, []run{
			{at: 5, events: []outreach.TriggerEvent{cart(1, "ada", 0.9), cart(2, "bob", 1)}, want: []string{"cart bob cart:e2 3.0"}},
		}, 0},
		{"post-purchase after each order", []outreach.JourneyDef{
			journey("review", outreach.Trigger{Kind: outreach.TriggerPostPurchase, Days: 3}, 0, 0)}, []run{
			{at: 1, events: []outreach.TriggerEvent{order(1, "ada", "o1", 0, true), order(2, "ada", "o2", 1, false),
				order(3, "bob", "", 1, true)}, want: []string{"review ada order:o1 72.0", "review ada order:o2 73.0", "review bob order:event:e3 73.0"}},
		}, 0},
		{"first order once per customer", []outreach.JourneyDef{
			journey("welcome", outreach.Trigger{Kind: outreach.TriggerFirstOrder}, 0, time.Hour)}, []run{
			{at: 1, events: []outreach.TriggerEvent{order(1, "ada", "o1", 0, true), order(2, "ada", "o2", 0.5, false)},
				want: []string{"welcome ada first-order 1.0"}},
			{at: 2, events: []outreach.TriggerEvent{order(3, "ada", "o3", 1.5, false)}},
		}, 0},
		{"a first order before the journey was created", []outreach.JourneyDef{
			journey("welcome", outreach.Trigger{Kind: outreach.TriggerFirstOrder}, 1, 0)}, []run{
			{at: 2, events: []outreach.TriggerEvent{order(1, "ada", "o1", 0, true), order(2, "ada", "o2", 1.5, false)}},
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			js, events, msgs := &outreachtest.Journeys{}, &outreachtest.Events{}, &outreachtest.Messages{}
			for _, j := range tt.journeys {
				if err := js.CreateJourney(ctx, j); err != nil {
					t.Fatal(err)
				}
			}
			now := t0
			trig := outreach.EventTriggers{Journeys: js, Events: events, Messages: msgs, Clock: func() time.Time { return now }}
			seen := 0
			for i, r := range tt.runs {
				now = at(r.at)
				events.Record(r.events...)
				n, err := trig.RunOnce(ctx)
				all := msgs.All()
				var got []string
				for _, m := range all {
					if m.CreateTime.Equal(now) {
						got = append(got, fmt.Sprintf("%s %s %s %.1f", m.JourneyID, m.CustomerID, m.Occurrence, m.Due.Sub(t0).Hours()))
					}
				}
				if err != nil || n != len(r.want) || len(all)-seen != n || !slices.Equal(got, r.want) {
					t.Errorf("run %d at %v: created %d (%v), err %v; want %v", i, r.at, n, got, err, r.want)
				}
				seen = len(all)
			}
			if got := events.Waits(); got != tt.waits {
				t.Errorf("waits left: got %d, want %d", got, tt.waits)
			}
		})
	}
}

// TestEventTriggersReplay reads the same events again, as after a crash
// before they were forgotten: no message is made twice.
func TestEventTriggersReplay(t *testing.T) {
	ctx := context.Background()
	js, events, msgs := &outreachtest.Journeys{}, &outreachtest.Events{}, &outreachtest.Messages{}
	for _, j := range []outreach.JourneyDef{
		journey("cart", outreach.Trigger{Kind: outreach.TriggerCartAbandoned, Hours: 2}, 0, 0),
		journey("review", outreach.Trigger{Kind: outreach.TriggerPostPurchase, Days: 3}, 0, 0),
		journey("welcome", outreach.Trigger{Kind: outreach.TriggerFirstOrder}, 0, 0),
	} {
		if err := js.CreateJourney(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	now := at(5)
	trig := outreach.EventTriggers{Journeys: js, Events: events, Messages: msgs, Clock: func() time.Time { return now }}
	log := []outreach.TriggerEvent{cart(1, "ada", 0), order(2, "bob", "o1", 0, true)}
	want := []int{3, 0, 0}
	for i := range want {
		events.Record(log...)
		if n, err := trig.RunOnce(ctx); err != nil || n != want[i] {
			t.Errorf("run %d: created %d, %v; want %d", i, n, err, want[i])
		}
		now = now.Add(time.Hour)
	}
}

// TestEventTriggersWaitForTheConsumer: while the consumer is behind
// profile's log, waits that are over stay undecided (an order still to be
// read may cancel them); order journeys go on.
func TestEventTriggersWaitForTheConsumer(t *testing.T) {
	ctx := context.Background()
	js, events, msgs := &outreachtest.Journeys{}, &outreachtest.Events{}, &outreachtest.Messages{}
	for _, j := range []outreach.JourneyDef{
		journey("cart", outreach.Trigger{Kind: outreach.TriggerCartAbandoned, Hours: 2}, 0, 0),
		journey("welcome", outreach.Trigger{Kind: outreach.TriggerFirstOrder}, 0, 0),
	} {
		if err := js.CreateJourney(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	caughtUp := false
	trig := outreach.EventTriggers{Journeys: js, Events: events, Messages: msgs, Clock: func() time.Time { return at(5) },
		CaughtUp: func(context.Context) (bool, error) { return caughtUp, nil }}
	events.Record(cart(1, "ada", 0), cart(2, "bob", 0), order(3, "cy", "o1", 0, true))
	if n, err := trig.RunOnce(ctx); err != nil || n != 1 || events.Waits() != 2 {
		t.Fatalf("behind: created %d, %v, %d waits; want the welcome only and 2 waits", n, err, events.Waits())
	}
	events.Record(order(4, "bob", "o2", 1, true)) // read late
	caughtUp = true
	if n, err := trig.RunOnce(ctx); err != nil || n != 2 || events.Waits() != 0 {
		t.Fatalf("caught up: created %d, %v, %d waits; want ada's cart and bob's welcome", n, err, events.Waits())
	}
	for _, m := range msgs.All() {
		if m.JourneyID == "cart" && m.CustomerID != "ada" {
			t.Errorf("cart message to %s, want ada only", m.CustomerID)
		}
	}
}

func journey(id string, tr outreach.Trigger, createdHour float64, delay time.Duration) outreach.JourneyDef {
	return outreach.JourneyDef{Journey: outreach.Journey{ID: id, Trigger: tr, Delay: delay, Channels: []outreach.Channel{outreach.ChannelEmail}},
		CreateTime: at(createdHour)}
}
