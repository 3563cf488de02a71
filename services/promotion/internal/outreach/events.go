package outreach

import (
	"context"
	"fmt"
	"time"
)

// TriggerEvent is an event of profile's log that event-triggered journeys
// follow, as the event consumer recorded it: a cart update or an order.
type TriggerEvent struct {
	Sequence   int64 // its place in profile's log
	EventID    string
	CustomerID string
	Time       time.Time // when it occurred
	Cart       bool      // a cart_updated; else an order_placed
	OrderID    string    // an order's id ("" when the event had none)
	FirstOrder bool      // the customer's first order in the log
}

// CartWait is a cart-abandonment journey waiting on a customer's latest
// cart: Due is the end of the wait (the cart's time plus the journey's
// hours) and Ordered the earliest order seen after the cart and by Due
// (zero: none).
type CartWait struct {
	JourneyID   string
	CustomerID  string
	CartEventID string
	CartSeq     int64
	CartTime    time.Time
	Due         time.Time
	Ordered     time.Time
}

// EventStore keeps the trigger events the consumer recorded, until the
// outreach job has read them, and the cart waits. Every method may be
// repeated with the same arguments (a job that crashed, a second replica)
// without changing the outcome.
type EventStore interface {
	// TriggerEvents returns up to limit recorded events after sequence
	// after, in sequence order.
	TriggerEvents(ctx context.Context, after int64, limit int) ([]TriggerEvent, error)
	// DropTriggerEvents forgets the recorded events up to sequence upTo.
	DropTriggerEvents(ctx context.Context, upTo int64) error
	// StartWait stores w, replacing the journey's wait on an earlier cart
	// of the customer (by CartTime, then CartSeq); a later one stays.
	StartWait(ctx context.Context, w CartWait) error
	// NoteOrder records an order a customer placed at `at` in each of
	// their undecided waits whose cart came before it and whose Due is
	// not before it, unless an earlier such order is recorded.
	NoteOrder(ctx context.Context, customerID string, at time.Time) error
	// DecidableWaits returns up to limit waits that can be decided at now
	// (due, or with an order), in the order they became decidable.
	DecidableWaits(ctx context.Context, now time.Time, limit int) ([]CartWait, error)
	// EndWait marks w decided, unless the wait moved on to another cart.
	// A decided wait is kept: an older cart read again (a second replica
	// reading the same events) does not start it again.
	EndWait(ctx context.Context, w CartWait) error
}

// MessageCreator stores the messages triggers make (MessageStore's
// CreateMessage).
type MessageCreator interface {
	CreateMessage(ctx context.Context, m Message) (created bool, err error)
}

// EventTriggers makes the messages of the journeys that profile's events
// trigger: cart abandoned, post-purchase and first order. On each run it
// reads the events the consumer recorded since the last run, starts the
// cart waits and makes the order journeys' messages, then decides every
// wait that is over (or cut short by an order) at its Clock with
// CartAbandoned. An event triggers a journey only if it occurred at or
// after the journey was created, so a new journey never messages
// customers for what they did before it existed.
type EventTriggers struct {
	Journeys JourneyLister
	Events   EventStore
	Messages MessageCreator
	Clock    func() time.Time
	// CaughtUp, if set, reports whether the consumer has read profile's
	// log up to about now. While it has not (a large import), waits are
	// not decided: an order it has yet to read could cancel one.
	CaughtUp func(ctx context.Context) (bool, error)
}

// eventPage is how many events or waits a run reads at a time.
const eventPage = 500

// eventJourneys are the journeys of the event triggers, by kind.
type eventJourneys map[TriggerKind][]JourneyDef

// RunOnce reads the recorded events, then decides the waits that are over
// (when the consumer has caught up), and returns how many messages it
// created. Events are forgotten once
// read; reading one again after a crash makes no second message.
func (e EventTriggers) RunOnce(ctx context.Context) (int, error) {
	caughtUp := true
	if e.CaughtUp != nil {
		var err error
		if caughtUp, err = e.CaughtUp(ctx); err != nil {
			return 0, fmt.Errorf("outreach: how far the event consumer is: %w", err)
		}
	}
	js, err := eventJourneysOf(ctx, e.Journeys, TriggerCartAbandoned, TriggerPostPurchase, TriggerFirstOrder)
	if err != nil {
		return 0, err
	}
	created, err := e.readEvents(ctx, js)
	if err != nil || !caughtUp {
		return created, err
	}
	n, err := e.decideWaits(ctx, js[TriggerCartAbandoned])
	return created + n, err
}

// readEvents applies the recorded events to the journeys, a page at a
// time, forgetting each page once applied.
func (e EventTriggers) readEvents(ctx context.Context, js eventJourneys) (int, error) {
	created := 0
	for after := int64(0); ; {
		evs, err := e.Events.TriggerEvents(ctx, after, eventPage)
		if err != nil || len(evs) == 0 {
			return created, err
		}
		for _, ev := range evs {
			n, err := e.apply(ctx, js, ev)
			created += n
			if err != nil {
				return created, err
			}
		}
		after = evs[len(evs)-1].Sequence
		if err := e.Events.DropTriggerEvents(ctx, after); err != nil {
			return created, err
		}
		if len(evs) < eventPage {
			return created, nil
		}
	}
}

// apply starts the cart waits of a cart event, or records an order in the
// waits and makes the messages of the order journeys.
func (e EventTriggers) apply(ctx context.Context, js eventJourneys, ev TriggerEvent) (int, error) {
	if ev.Cart {
		for _, j := range triggeredBy(js[TriggerCartAbandoned], ev) {
			w := CartWait{JourneyID: j.ID, CustomerID: ev.CustomerID, CartEventID: ev.EventID, CartSeq: ev.Sequence,
				CartTime: ev.Time, Due: ev.Time.Add(time.Duration(j.Trigger.Hours) * time.Hour)}
			if err := e.Events.StartWait(ctx, w); err != nil {
				return 0, fmt.Errorf("outreach: journey %s for %s: %w", j.ID, ev.CustomerID, err)
			}
		}
		return 0, nil
	}
	if len(js[TriggerCartAbandoned]) > 0 {
		if err := e.Events.NoteOrder(ctx, ev.CustomerID, ev.Time); err != nil {
			return 0, fmt.Errorf("outreach: order of %s: %w", ev.CustomerID, err)
		}
	}
	order := ev.OrderID
	if order == "" {
		order = "event:" + ev.EventID
	}
	created := 0
	for _, j := range triggeredBy(js[TriggerPostPurchase], ev) {
		n, err := e.create(ctx, j.Journey, ev.CustomerID, OrderOccurrence(order), PostPurchase(ev.Time, j.Trigger.Days))
		if created += n; err != nil {
			return created, err
		}
	}
	if !ev.FirstOrder {
		return created, nil
	}
	for _, j := range triggeredBy(js[TriggerFirstOrder], ev) {
		n, err := e.create(ctx, j.Journey, ev.CustomerID, FirstOrderOccurrence, ev.Time)
		if created += n; err != nil {
			return created, err
		}
	}
	return created, nil
}

// triggeredBy returns the journeys of js created at or before ev occurred.
func triggeredBy(js []JourneyDef, ev TriggerEvent) []JourneyDef {
	var out []JourneyDef
	for _, j := range js {
		if !ev.Time.Before(j.CreateTime) {
			out = append(out, j)
		}
	}
	return out
}

// decideWaits decides the waits that can be decided now with
// CartAbandoned: a message for each abandoned cart, none for a cart
// followed by an order; either way the wait ends.
func (e EventTriggers) decideWaits(ctx context.Context, journeys []JourneyDef) (int, error) {
	byID := map[string]Journey{}
	for _, j := range journeys {
		byID[j.ID] = j.Journey
	}
	now := e.Clock().UTC()
	created := 0
	for {
		waits, err := e.Events.DecidableWaits(ctx, now, eventPage)
		if err != nil {
			return created, err
		}
		ended := 0
		for _, w := range waits {
			n, done, err := e.decide(ctx, byID, w, now)
			created += n
			if err != nil {
				return created, err
			}
			if done {
				ended++
			}
		}
		if len(waits) < eventPage || ended == 0 {
			return created, nil
		}
	}
}

// decide decides one wait and ends it when decided (or when its journey
// is gone).
func (e EventTriggers) decide(ctx context.Context, byID map[string]Journey, w CartWait, now time.Time) (created int, done bool, err error) {
	j, ok := byID[w.JourneyID]
	if ok {
		var orders []time.Time
		if !w.Ordered.IsZero() {
			orders = append(orders, w.Ordered)
		}
		due, fire, decided := CartAbandoned(w.CartTime, j.Trigger.Hours, orders, now)
		if !decided {
			return 0, false, nil
		}
		if fire {
			if created, err = e.create(ctx, j, w.CustomerID, CartOccurrence(w.CartEventID), due); err != nil {
				return 0, false, err
			}
		}
	}
	if err := e.Events.EndWait(ctx, w); err != nil {
		return created, false, fmt.Errorf("outreach: end the wait of %s for %s: %w", w.JourneyID, w.CustomerID, err)
	}
	return created, true, nil
}

// create stores the message of an occurrence triggered at triggeredAt
// (the dispatcher holds it past the customer's quiet hours); it answers 1
// if the message is new.
func (e EventTriggers) create(ctx context.Context, j Journey, customerID, occurrence string, triggeredAt time.Time) (int, error) {
	now := e.Clock().UTC()
	ok, err := e.Messages.CreateMessage(ctx, NewMessage(j, customerID, occurrence, triggeredAt, time.UTC, QuietHours{}, now))
	if err != nil {
		return 0, fmt.Errorf("outreach: journey %s for %s: %w", j.ID, customerID, err)
	}
	if ok {
		return 1, nil
	}
	return 0, nil
}

// eventJourneysOf returns the stored journeys whose trigger is one of
// kinds, by kind.
func eventJourneysOf(ctx context.Context, store JourneyLister, kinds ...TriggerKind) (eventJourneys, error) {
	js, err := journeysOf(ctx, store, kinds...)
	if err != nil {
		return nil, err
	}
	out := eventJourneys{}
	for _, d := range js {
		out[d.Trigger.Kind] = append(out[d.Trigger.Kind], d)
	}
	return out, nil
}
