package outreach

import (
	"cmp"
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

// Recommender gives a customer's top n recommended items, for templates
// that show them.
type Recommender interface {
	Recommend(ctx context.Context, customerID string, n int) ([]RecommendedItem, error)
}

// RecommendationsPerMessage is how many recommended items a template gets.
const RecommendationsPerMessage = 10

// Sender delivers a rendered message on a channel; an error wrapping
// ErrPermanent will not go away by retrying.
type Sender interface {
	Send(ctx context.Context, m Message, ch Channel, to string, r Rendered) error
}

// Observer is told each recorded attempt's outcome (for metrics): ch is
// the channel the message went out on, or for a suppressed one the
// first of its journey's order.
type Observer interface {
	Attempted(ctx context.Context, ch Channel, next Message)
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
	// Recommender fills Data.Recommendations for templates that use them;
	// nil leaves them empty.
	Recommender Recommender
	Caps        []Cap
	Quiet       QuietHours
	Zone        *time.Location // the programme's default time zone
	Retry       RetryPolicy
	Clock       func() time.Time
	Lease       time.Duration // how long a claim holds (default 1 min)
	Batch       int           // messages claimed at a time (default 100)
	Workers     int           // messages attempted at once (default 16)

	// Links signs each message's open and click links (no Base: none).
	Links LinkSigner
	// Observer counts attempts' outcomes; nil counts nothing.
	Observer Observer
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

// attemptAll attempts a claimed batch: it reads each message's journey
// and customer and decides it (Workers at a time: these are reads), charges
// the caps of every message going out in one transaction, then sends the
// messages on Workers goroutines while one recorder writes their outcomes.
// Each of the recorder's transactions takes every attempt that ended since
// the previous one began, so a slow commit makes the next transaction
// larger instead of holding the sends back; but at most 4 × Workers
// attempts are under way or waiting to be recorded at any time, so a
// dispatcher that dies leaves at most that many sent but unrecorded, to be
// sent again under the same id. It returns the errors of the messages that
// could not be attempted or recorded; those are left to their lapsing
// claims.
func (d *Dispatcher) attemptAll(ctx context.Context, ms []Message) []error {
	now := d.Clock()
	plans := make([]plan, len(ms))
	d.each(len(ms), func(i int) { plans[i] = d.plan(ctx, ms[i], now) })
	if err := d.charge(ctx, plans, now); err != nil {
		// No cap was counted: every message waits for its claim to lapse.
		return []error{err}
	}
	unrecorded := make(chan struct{}, 4*d.workers()) // one per attempt not recorded yet
	ended := make(chan int, len(plans))
	go func() {
		defer close(ended)
		d.each(len(plans), func(i int) {
			if ctx.Err() == nil { // else stopping: left to its lapsing claim
				unrecorded <- struct{}{}
				d.attempt(ctx, &plans[i], now)
				ended <- i
			}
		})
	}()
	var errs []error
	for i := range ended {
		group := receiveMore(ended, []int{i}, cap(unrecorded))
		errs = append(errs, d.record(ctx, plans, group)...)
		for range group {
			<-unrecorded
		}
	}
	return errs
}

// receiveMore appends to got what ch holds now, without waiting, until got
// has limit values.
func receiveMore(ch <-chan int, got []int, limit int) []int {
	for len(got) < limit {
		select {
		case v, ok := <-ch:
			if !ok {
				return got
			}
			got = append(got, v)
		default:
			return got
		}
	}
	return got
}

// attempt sends p if it goes out, and sets the message's next state.
func (d *Dispatcher) attempt(ctx context.Context, p *plan, now time.Time) {
	if p.err != nil || p.next != nil {
		return // not attempted, or held past the quiet hours
	}
	if p.dec.Suppressed == ReasonNone {
		p.sendErr = d.send(ctx, p.m, p.content, p.contact, p.dec.Channel)
	}
	next, err := p.m.Apply(Outcome{Decision: p.dec, Err: p.sendErr, Permanent: errors.Is(p.sendErr, ErrPermanent)}, d.Retry, now)
	p.next, p.err = &next, err
}

// record records the outcomes of plans[i] for i in idx in one transaction.
func (d *Dispatcher) record(ctx context.Context, plans []plan, idx []int) []error {
	var errs []error
	var changes []Change
	var chans []Channel // each change's channel, for the Observer
	for _, i := range idx {
		p := &plans[i]
		if p.err != nil {
			errs = append(errs, p.err)
			continue
		}
		changes = append(changes, Change{Prev: p.m, Next: *p.next})
		ch := p.next.Channel
		if ch == ChannelUnspecified && len(p.content.Channels) > 0 {
			ch = p.content.Channels[0]
		}
		chans = append(chans, ch)
	}
	return append(errs, d.recordAll(ctx, changes, chans)...)
}

// plan is one message's attempt as it goes through attemptAll.
type plan struct {
	m       Message
	content Content
	contact Contact
	zone    *time.Location
	dec     Decision
	next    *Message // set once the outcome is known (held: at once)
	sendErr error
	err     error // the attempt could not be made
}

// plan reads m's journey and customer and decides it: held past the
// quiet hours, suppressed, or going out on a channel.
func (d *Dispatcher) plan(ctx context.Context, m Message, now time.Time) plan {
	p := plan{m: m}
	var err error
	if p.content, err = d.Journeys.Content(ctx, m.JourneyID); err != nil {
		p.err = fmt.Errorf("outreach: message %s: journey: %w", m.ID, err)
		return p
	}
	if p.contact, err = d.Contacts.Contact(ctx, m.CustomerID, p.content.Journey); err != nil {
		p.err = fmt.Errorf("outreach: message %s: customer: %w", m.ID, err)
		return p
	}
	if m.ExpiringPoints > 0 {
		p.contact.Data.ExpiringPoints, p.contact.Data.PointsExpiry = m.ExpiringPoints, m.PointsExpiry
	}
	p.zone = cmp.Or(p.contact.Zone, d.Zone, time.UTC)
	if release, held := Release(now, p.zone, d.Quiet); held && !m.Transactional {
		// Due inside the quiet hours: wait for their end, never drop.
		next := m
		next.Due, next.UpdateTime = release, now
		switch m.State {
		case StateScheduled:
			next.State = StateHeld
		case StateHeld:
			next.State = StateScheduled // held again: through scheduled
		}
		p.next = &next
		return p
	}
	p.dec = Decide(p.content.Channels, m.Transactional, p.contact.Recipient)
	if p.dec.Suppressed == ReasonNone && !p.content.Coupon.IsZero() && m.CouponCode == "" {
		p.dec = Decision{Suppressed: ReasonNoCoupon}
	}
	return p
}

// charge counts the caps of every planned message going out, in one
// transaction, and suppresses those a cap stops.
func (d *Dispatcher) charge(ctx context.Context, plans []plan, now time.Time) error {
	var reqs []ChargeRequest
	var idx []int
	for i, p := range plans {
		if p.err == nil && p.next == nil && p.dec.Suppressed == ReasonNone {
			reqs = append(reqs, ChargeRequest{MessageID: p.m.ID,
				Charges: Charges(d.Caps, p.m.CustomerID, p.m.JourneyID, p.dec.Channel, p.m.Transactional, now, p.zone)})
			idx = append(idx, i)
		}
	}
	if len(reqs) == 0 {
		return nil
	}
	ok, err := d.Store.ChargeAll(ctx, reqs)
	if err != nil {
		return fmt.Errorf("outreach: caps of %d messages: %w", len(reqs), err)
	}
	for k, i := range idx {
		if !ok[k] {
			plans[i].dec = Decision{Suppressed: ReasonCap}
		}
	}
	return nil
}

// workers is how many messages are attempted at once.
func (d *Dispatcher) workers() int {
	if d.Workers <= 0 {
		return 16
	}
	return d.Workers
}

// each runs fn(0) … fn(n-1) on Workers goroutines.
func (d *Dispatcher) each(n int, fn func(i int)) {
	workers := d.workers()
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// send renders m's template for ch and hands it to the Sender.
func (d *Dispatcher) send(ctx context.Context, m Message, content Content, c Contact, ch Channel) error {
	t, ok := content.template(ch, c.Locale)
	if !ok {
		return fmt.Errorf("%w: journey %s has no template for %s", ErrPermanent, m.JourneyID, ch)
	}
	data := c.Data
	data.Vars = m.Vars
	data.CouponCode = m.CouponCode
	if t.Recommends() && d.Recommender != nil {
		items, err := d.Recommender.Recommend(ctx, m.CustomerID, RecommendationsPerMessage)
		if err != nil {
			return fmt.Errorf("recommendations for %s: %w", m.CustomerID, err)
		}
		data.Recommendations = items
	}
	var err error
	if data.Links, err = d.Links.Links(data.Links, m, d.Clock()); err != nil {
		return fmt.Errorf("%w: %w", ErrPermanent, err)
	}
	r, err := t.Render(data)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrPermanent, err)
	}
	return d.Sender.Send(ctx, m, ch, c.Addresses[ch], r)
}

// recordAll records the outcomes in one transaction, tells the Observer
// of those recorded (on chans[i], the message's channel or its journey's
// first) and returns the errors of those it could not record.
func (d *Dispatcher) recordAll(ctx context.Context, changes []Change, chans []Channel) []error {
	if len(changes) == 0 {
		return nil
	}
	conflicts, err := d.Store.RecordAll(ctx, changes)
	if err != nil {
		return []error{fmt.Errorf("outreach: record %d messages: %w", len(changes), err)}
	}
	var errs []error
	for i, c := range conflicts {
		switch {
		case c != nil:
			errs = append(errs, fmt.Errorf("outreach: message %s: record %s: %w", changes[i].Prev.ID, changes[i].Next.State, c))
		case d.Observer != nil:
			d.Observer.Attempted(ctx, chans[i], changes[i].Next)
		}
	}
	return errs
}
