package outreach

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Content is a journey with its compiled templates.
type Content struct {
	Journey
	// Templates by channel and locale; the locale "" is the fallback.
	Templates map[TemplateKey]*Compiled
}

// TemplateKey selects a journey's template.
type TemplateKey struct {
	Channel Channel
	Locale  string
}

// template returns the template for channel in locale, or its fallback.
func (c Content) template(ch Channel, locale string) (*Compiled, bool) {
	if t, ok := c.Templates[TemplateKey{ch, locale}]; ok {
		return t, true
	}
	t, ok := c.Templates[TemplateKey{ch, ""}]
	return t, ok
}

// Contact is what the dispatcher reads about a customer just before
// sending: consent and the rest of the send decision, the time zone, the
// address on each channel and the template data.
type Contact struct {
	Recipient
	Zone      *time.Location // nil: the programme's default
	Addresses map[Channel]string
	Locale    string
	Data      Data
}

// ContentSource gives the dispatcher the journeys it sends for.
type ContentSource interface {
	Content(ctx context.Context, journeyID string) (Content, error)
}

// Contacts reads customers at send time (from profile and the campaign's
// holdout).
type Contacts interface {
	Contact(ctx context.Context, customerID string, j Journey) (Contact, error)
}

// Sender delivers a rendered message on a channel; an error wrapping
// ErrPermanent will not go away by retrying.
type Sender interface {
	Send(ctx context.Context, m Message, ch Channel, to string, r Rendered) error
}

// ErrPermanent is wrapped by a Sender's error that retrying cannot clear.
var ErrPermanent = errors.New("outreach: permanent delivery failure")

// Dispatcher sends due messages: it claims them from the outbox, reads
// the customer, picks the channel by consent, charges the frequency caps,
// renders the template and hands the message to the Sender, recording
// every state change. It runs on one replica at a time (the elected one),
// but claims and guarded records keep a message from being attempted
// twice at once even if two run. A message is attempted at least once
// per due time; a dispatcher that dies between sending and recording
// leaves its claim to lapse and the message is sent again with the same
// id, which receivers deduplicate (Message-ID, Idempotency-Key).
type Dispatcher struct {
	Store    MessageStore
	Journeys ContentSource
	Contacts Contacts
	Sender   Sender
	Caps     []Cap
	Quiet    QuietHours
	Zone     *time.Location // the programme's default time zone
	Retry    RetryPolicy
	Clock    func() time.Time
	Lease    time.Duration // how long a claim holds (default 1 min)
	Batch    int           // messages claimed at a time (default 100)
	Workers  int           // messages attempted at once (default 16)
}

// RunOnce attempts every message due now, a batch at a time, and returns
// how many it attempted. A message whose attempt fails to be recorded is
// left to its lapsing claim; the others go on.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	lease, batch := d.Lease, d.Batch
	if lease <= 0 {
		lease = time.Minute
	}
	if batch <= 0 {
		batch = 100
	}
	done := 0
	var errs []error
	for {
		ms, err := d.Store.Claim(ctx, d.Clock(), lease, batch)
		if err != nil {
			return done, err
		}
		errs = append(errs, d.attemptAll(ctx, ms)...)
		done += len(ms)
		if len(ms) < batch || ctx.Err() != nil {
			return done, errors.Join(errs...)
		}
	}
}

// attemptAll attempts ms on Workers goroutines and returns their errors.
// The messages are distinct, and each one's writes are guarded, so their
// order does not matter.
func (d *Dispatcher) attemptAll(ctx context.Context, ms []Message) []error {
	workers := d.Workers
	if workers <= 0 {
		workers = 16
	}
	next := make(chan Message)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for range min(workers, len(ms)) {
		wg.Go(func() {
			for m := range next {
				if err := d.attempt(ctx, m); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for _, m := range ms {
		next <- m
	}
	close(next)
	wg.Wait()
	return errs
}

// attempt makes one attempt at m and records its outcome.
func (d *Dispatcher) attempt(ctx context.Context, m Message) error {
	now := d.Clock()
	content, err := d.Journeys.Content(ctx, m.JourneyID)
	if err != nil {
		return fmt.Errorf("outreach: message %s: journey: %w", m.ID, err)
	}
	c, err := d.Contacts.Contact(ctx, m.CustomerID, content.Journey)
	if err != nil {
		return fmt.Errorf("outreach: message %s: customer: %w", m.ID, err)
	}
	zone := c.Zone
	if zone == nil {
		zone = d.Zone
	}
	if zone == nil {
		zone = time.UTC
	}
	if release, held := Release(now, zone, d.Quiet); held && !m.Transactional {
		// Due inside the quiet hours: wait for their end, never drop.
		next := m
		next.Due, next.UpdateTime = release, now
		switch m.State {
		case StateScheduled:
			next.State = StateHeld
		case StateHeld:
			next.State = StateScheduled // held again: through scheduled
		}
		return d.record(ctx, m, next)
	}
	dec := Decide(content.Channels, m.Transactional, c.Recipient)
	if dec.Suppressed == ReasonNone {
		ok, err := d.Store.Charge(ctx, m.ID, Charges(d.Caps, m.CustomerID, m.JourneyID, dec.Channel, m.Transactional, now, zone))
		if err != nil {
			return fmt.Errorf("outreach: message %s: caps: %w", m.ID, err)
		}
		if !ok {
			dec = Decision{Suppressed: ReasonCap}
		}
	}
	o := Outcome{Decision: dec}
	if dec.Suppressed == ReasonNone {
		o.Err = d.send(ctx, m, content, c, dec.Channel)
		o.Permanent = errors.Is(o.Err, ErrPermanent)
	}
	next, err := m.Apply(o, d.Retry, now)
	if err != nil {
		return err
	}
	return d.record(ctx, m, next)
}

// send renders m's template for ch and hands it to the Sender.
func (d *Dispatcher) send(ctx context.Context, m Message, content Content, c Contact, ch Channel) error {
	t, ok := content.template(ch, c.Locale)
	if !ok {
		return fmt.Errorf("%w: journey %s has no template for %s", ErrPermanent, m.JourneyID, ch)
	}
	data := c.Data
	data.Vars = m.Vars
	r, err := t.Render(data)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrPermanent, err)
	}
	return d.Sender.Send(ctx, m, ch, c.Addresses[ch], r)
}

func (d *Dispatcher) record(ctx context.Context, prev, next Message) error {
	if err := d.Store.Record(ctx, prev, next); err != nil {
		return fmt.Errorf("outreach: message %s: record %s: %w", prev.ID, next.State, err)
	}
	return nil
}
