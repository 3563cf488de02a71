package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
	"github.com/tenurehq/tenure/services/promotion/internal/promotion"
	"github.com/tenurehq/tenure/services/promotion/internal/store"
)

func noGroups(promotion.Order, map[string]bool) []promotion.Attribution { return nil }

// TestTriggerEventsRecorded: the consumer's page records carts and orders
// with the cursor, marks each customer's first order once, and a replayed
// page records nothing again.
func TestTriggerEventsRecorded(t *testing.T) {
	engines(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		page := []promotion.Order{
			{Sequence: 1, EventID: "e1", CustomerID: "ada", Time: t0, Cart: true},
			{Sequence: 2, EventID: "e2", CustomerID: "ada", OrderID: "o1", Time: t0.Add(time.Hour), Revenue: 100},
			{Sequence: 3, EventID: "e3", CustomerID: "ada", OrderID: "o1", Time: t0.Add(2 * time.Hour), Refund: true, Revenue: 100},
			{Sequence: 4, EventID: "e4", CustomerID: "ada", OrderID: "o2", Time: t0.Add(3 * time.Hour), Revenue: 100},
		}
		for range 2 { // the second is a replay the cursor skips
			if err := s.ApplyOrders(ctx, 5, page, noGroups); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.ApplyOrders(ctx, 6, []promotion.Order{{Sequence: 6, EventID: "e6", CustomerID: "bob", OrderID: "o3", Time: t0}}, noGroups); err != nil {
			t.Fatal(err)
		}
		want := []outreach.TriggerEvent{
			{Sequence: 1, EventID: "e1", CustomerID: "ada", Time: t0, Cart: true},
			{Sequence: 2, EventID: "e2", CustomerID: "ada", OrderID: "o1", Time: t0.Add(time.Hour), FirstOrder: true},
			{Sequence: 4, EventID: "e4", CustomerID: "ada", OrderID: "o2", Time: t0.Add(3 * time.Hour)},
			{Sequence: 6, EventID: "e6", CustomerID: "bob", OrderID: "o3", Time: t0, FirstOrder: true},
		}
		got, err := s.TriggerEvents(ctx, 0, 10)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("TriggerEvents: got %+v, %v; want %+v", got, err, want)
		}
		if got, err := s.TriggerEvents(ctx, 2, 1); err != nil || len(got) != 1 || got[0].Sequence != 4 {
			t.Errorf("TriggerEvents after 2, limit 1: got %+v, %v; want event 4", got, err)
		}
		if err := s.DropTriggerEvents(ctx, 4); err != nil {
			t.Fatal(err)
		}
		if got, err := s.TriggerEvents(ctx, 0, 10); err != nil || len(got) != 1 || got[0].Sequence != 6 {
			t.Errorf("after dropping up to 4: got %+v, %v; want event 6", got, err)
		}
		if cur, err := s.Cursor(ctx); err != nil || cur != 6 {
			t.Errorf("cursor: got %d, %v; want 6", cur, err)
		}
		// Far behind the log, unread events are dropped.
		far := int64(store.MaxUnreadTriggerEvents + 6)
		if err := s.ApplyOrders(ctx, far, []promotion.Order{{Sequence: far, EventID: "e-far", CustomerID: "cy", Time: t0, Cart: true}}, noGroups); err != nil {
			t.Fatal(err)
		}
		if got, err := s.TriggerEvents(ctx, 0, 10); err != nil || len(got) != 1 || got[0].Sequence != far {
			t.Errorf("after the log moved %d on: got %+v, %v; want only event %d", store.MaxUnreadTriggerEvents, got, err, far)
		}
	})
}

// TestTriggerEventsErased: an erasure forgets the customer's pending
// events and waits, and keeps their first order under the anonymous id.
func TestTriggerEventsErased(t *testing.T) {
	engines(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if err := s.ApplyOrders(ctx, 2, []promotion.Order{
			{Sequence: 1, EventID: "e1", CustomerID: "ada", Time: t0, Cart: true},
			{Sequence: 2, EventID: "e2", CustomerID: "bob", Time: t0, Cart: true},
		}, noGroups); err != nil {
			t.Fatal(err)
		}
		for _, c := range []string{"ada", "bob"} {
			if err := s.StartWait(ctx, wait(c, "e1", 1, t0)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.ApplyOrders(ctx, 3, []promotion.Order{{Sequence: 3, EventID: "e3", CustomerID: "ada", ErasedAs: "anon-1"}}, noGroups); err != nil {
			t.Fatal(err)
		}
		if got, err := s.TriggerEvents(ctx, 0, 10); err != nil || len(got) != 1 || got[0].CustomerID != "bob" {
			t.Errorf("events after erasing ada: got %+v, %v; want bob's", got, err)
		}
		if got, err := s.DecidableWaits(ctx, t0.Add(24*time.Hour), 10); err != nil || len(got) != 1 || got[0].CustomerID != "bob" {
			t.Errorf("waits after erasing ada: got %+v, %v; want bob's", got, err)
		}
	})
}

func wait(customer, event string, seq int64, cartAt time.Time) outreach.CartWait {
	return outreach.CartWait{JourneyID: "cart", CustomerID: customer, CartEventID: event, CartSeq: seq, CartTime: cartAt, Due: cartAt.Add(2 * time.Hour)}
}

// TestCartWaits: the latest cart wins whatever order they start in, an
// order inside the wait makes it decidable at once, ending a wait that
// moved on to a later cart leaves it, and an ended wait starts again only
// for a newer cart.
func TestCartWaits(t *testing.T) {
	engines(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		decidable := func(now time.Time) []outreach.CartWait {
			t.Helper()
			got, err := s.DecidableWaits(ctx, now, 10)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		later, earlier := wait("ada", "e2", 2, t0.Add(time.Hour)), wait("ada", "e1", 1, t0)
		sameTime := wait("ada", "e0", 0, t0.Add(time.Hour))
		for _, w := range []outreach.CartWait{later, earlier, sameTime, later} {
			if err := s.StartWait(ctx, w); err != nil {
				t.Fatal(err)
			}
		}
		if got := decidable(t0.Add(2*time.Hour + 59*time.Minute)); len(got) != 0 {
			t.Errorf("before the wait is over: got %+v, want none", got)
		}
		if got := decidable(later.Due); !reflect.DeepEqual(got, []outreach.CartWait{later}) {
			t.Errorf("when the wait is over: got %+v, want %+v", got, later)
		}
		// Orders before the cart or after the wait change nothing; the
		// earliest inside it counts.
		for _, h := range []time.Duration{30 * time.Minute, 3*time.Hour + time.Second, 2 * time.Hour, 90 * time.Minute, 100 * time.Minute} {
			if err := s.NoteOrder(ctx, "ada", t0.Add(h)); err != nil {
				t.Fatal(err)
			}
		}
		ordered := later
		ordered.Ordered = t0.Add(90 * time.Minute)
		if got := decidable(t0.Add(80 * time.Minute)); len(got) != 0 {
			t.Errorf("before the order: got %+v, want none", got)
		}
		if got := decidable(ordered.Ordered); !reflect.DeepEqual(got, []outreach.CartWait{ordered}) {
			t.Errorf("at the order: got %+v, want %+v", got, ordered)
		}
		if err := s.EndWait(ctx, earlier); err != nil {
			t.Fatal(err)
		}
		if got := decidable(later.Due); len(got) != 1 {
			t.Errorf("after ending a replaced wait: got %+v, want the later cart's", got)
		}
		newest := wait("ada", "e3", 3, t0.Add(2*time.Hour))
		if err := s.StartWait(ctx, newest); err != nil {
			t.Fatal(err)
		}
		if got := decidable(ordered.Ordered); len(got) != 0 {
			t.Errorf("a new cart clears the order: got %+v, want none", got)
		}
		if err := s.EndWait(ctx, newest); err != nil {
			t.Fatal(err)
		}
		if got := decidable(t0.Add(48 * time.Hour)); len(got) != 0 {
			t.Errorf("after ending the wait: got %+v, want none", got)
		}
		// Carts read again (by a second replica) do not start it again,
		// nor does an order read late; a newer cart does.
		for _, w := range []outreach.CartWait{earlier, later, newest} {
			if err := s.StartWait(ctx, w); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.NoteOrder(ctx, "ada", t0.Add(150*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got := decidable(t0.Add(48 * time.Hour)); len(got) != 0 {
			t.Errorf("after carts read again: got %+v, want none", got)
		}
		newer := wait("ada", "e4", 4, t0.Add(3*time.Hour))
		if err := s.StartWait(ctx, newer); err != nil {
			t.Fatal(err)
		}
		if got := decidable(newer.Due); !reflect.DeepEqual(got, []outreach.CartWait{newer}) {
			t.Errorf("after a newer cart: got %+v, want %+v", got, newer)
		}
	})
}

// TestEventTriggersOnStore runs the event triggers over the store: a cart
// left for the wait makes one message in the outbox, a cart followed by an
// order none, and running again (a second replica) nothing more.
func TestEventTriggersOnStore(t *testing.T) {
	engines(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := t0
		clock := func() time.Time { return now }
		if _, err := (outreach.Journeys{Store: s, Clock: clock}).Create(ctx, outreach.JourneyDef{
			Journey: outreach.Journey{ID: "cart", Trigger: outreach.Trigger{Kind: outreach.TriggerCartAbandoned, Hours: 2},
				Channels: []outreach.Channel{outreach.ChannelWebhook}},
			Templates: []outreach.TemplateDef{{Channel: outreach.ChannelWebhook, Template: outreach.Template{Text: "Your cart"}}},
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.ApplyOrders(ctx, 3, []promotion.Order{
			{Sequence: 1, EventID: "e1", CustomerID: "ada", Time: t0, Cart: true},
			{Sequence: 2, EventID: "e2", CustomerID: "bob", Time: t0, Cart: true},
			{Sequence: 3, EventID: "e3", CustomerID: "bob", OrderID: "o1", Time: t0.Add(time.Hour)},
		}, noGroups); err != nil {
			t.Fatal(err)
		}
		trig := outreach.EventTriggers{Journeys: s, Events: s, Messages: s, Clock: clock}
		for i, tc := range []struct {
			at   time.Duration
			want int
		}{{time.Hour, 0}, {2 * time.Hour, 1}, {3 * time.Hour, 0}} {
			now = t0.Add(tc.at)
			if n, err := trig.RunOnce(ctx); err != nil || n != tc.want {
				t.Errorf("run %d at +%s: created %d, %v; want %d", i, tc.at, n, err, tc.want)
			}
		}
		m, err := s.GetMessage(ctx, outreach.MessageID("cart", "ada", outreach.CartOccurrence("e1")))
		if err != nil || !m.Due.Equal(t0.Add(2*time.Hour)) || m.State != outreach.StateScheduled {
			t.Fatalf("ada's message: got %+v, %v; want scheduled at +2h", m, err)
		}
		if claimed, err := s.Claim(ctx, now, time.Minute, 10); err != nil || len(claimed) != 1 || claimed[0].ID != m.ID {
			t.Errorf("outbox: got %+v, %v; want ada's message only", claimed, err)
		}
	})
}

// TestEventTriggersTwoReplicas runs the event triggers of two replicas at
// once over the same store (as during an election hand-over): between them
// they make each message exactly once.
func TestEventTriggersTwoReplicas(t *testing.T) {
	engines(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		journeys := outreach.Journeys{Store: s, Clock: func() time.Time { return t0 }}
		for id, tr := range map[string]outreach.Trigger{"cart": {Kind: outreach.TriggerCartAbandoned, Hours: 2},
			"review": {Kind: outreach.TriggerPostPurchase, Days: 1}, "welcome": {Kind: outreach.TriggerFirstOrder}} {
			if _, err := journeys.Create(ctx, outreach.JourneyDef{
				Journey:   outreach.Journey{ID: id, Trigger: tr, Channels: []outreach.Channel{outreach.ChannelInApp}},
				Templates: []outreach.TemplateDef{{Channel: outreach.ChannelInApp, Template: outreach.Template{Text: id}}},
			}); err != nil {
				t.Fatal(err)
			}
		}
		var page []promotion.Order
		for i := range 50 { // everyone leaves a cart; the even ones order within the wait
			c := fmt.Sprintf("c%02d", i)
			page = append(page, promotion.Order{Sequence: int64(2*i + 1), EventID: c + "-cart", CustomerID: c, Time: t0, Cart: true})
			if i%2 == 0 {
				page = append(page, promotion.Order{Sequence: int64(2*i + 2), EventID: c + "-order", OrderID: c + "-o", CustomerID: c, Time: t0.Add(time.Hour)})
			}
		}
		if err := s.ApplyOrders(ctx, 100, page, noGroups); err != nil {
			t.Fatal(err)
		}
		trig := outreach.EventTriggers{Journeys: s, Events: s, Messages: s, Clock: func() time.Time { return t0.Add(3 * time.Hour) }}
		var wg sync.WaitGroup
		var created atomic.Int64
		for range 2 {
			wg.Go(func() {
				n, err := trig.RunOnce(ctx)
				if err != nil {
					t.Errorf("RunOnce: %v", err)
				}
				created.Add(int64(n))
			})
		}
		wg.Wait()
		if got := created.Load(); got != 75 {
			t.Errorf("created %d messages, want 75 (25 carts, 25 welcomes, 25 reviews)", got)
		}
		for i := range 50 {
			c := fmt.Sprintf("c%02d", i)
			_, err := s.GetMessage(ctx, outreach.MessageID("cart", c, outreach.CartOccurrence(c+"-cart")))
			if ordered := i%2 == 0; ordered != errors.Is(err, outreach.ErrMessageNotFound) {
				t.Errorf("cart message of %s: got %v, want one only if %s did not order", c, err, c)
			}
		}
	})
}
