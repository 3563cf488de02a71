package outreach

import (
	"context"
	"fmt"
	"time"
)

// batchWriter gathers a journey's messages and writes them a batch at a
// time, keeping, when filter is set and the journey has an audience
// filter, only those of its audience's members.
type batchWriter struct {
	journey Journey
	store   BatchMessageStore
	members Membership
	filter  bool
	quiet   QuietHours
	zones   zoneCache
	batch   int
	pending []Message
	created int
}

// add gathers the message of an occurrence triggered at triggeredAt for a
// customer in loc.
func (w *batchWriter) add(customerID, occurrence string, triggeredAt time.Time, loc *time.Location, now time.Time) *Message {
	w.pending = append(w.pending, NewMessage(w.journey, customerID, occurrence, triggeredAt, loc, w.quiet, now))
	return &w.pending[len(w.pending)-1]
}

// flush writes the gathered messages once there are a batch of them.
func (w *batchWriter) flush(ctx context.Context) error {
	size := w.batch
	if size <= 0 {
		size = 50_000
	}
	if len(w.pending) < size {
		return nil
	}
	return w.done(ctx)
}

// done writes the gathered messages, in one transaction.
func (w *batchWriter) done(ctx context.Context) error {
	ms := w.pending
	w.pending = w.pending[:0]
	if w.filter && w.journey.AudienceFilter != "" && len(ms) > 0 {
		var err error
		if ms, err = w.inAudience(ctx, ms); err != nil {
			return err
		}
	}
	if len(ms) == 0 {
		return nil
	}
	n, err := w.store.CreateMessages(ctx, ms)
	w.created += n
	return err
}

// inAudience keeps the messages of ms whose customer is in the journey's
// audience.
func (w *batchWriter) inAudience(ctx context.Context, ms []Message) ([]Message, error) {
	if w.members == nil {
		return nil, fmt.Errorf("no audience membership source for %s", w.journey.AudienceFilter)
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.CustomerID
	}
	in, err := w.members.InAudience(ctx, w.journey.AudienceFilter, ids)
	if err != nil {
		return nil, err
	}
	out := ms[:0]
	for i, m := range ms {
		if in[i] {
			out = append(out, m)
		}
	}
	return out, nil
}

// zoneCache resolves customers' time zone names, the programme's default
// for an unknown or invalid one.
type zoneCache struct {
	def  *time.Location
	locs map[string]*time.Location
}

func (z zoneCache) of(name string) *time.Location {
	if loc, ok := z.locs[name]; ok {
		return loc
	}
	loc := z.def
	if name != "" {
		if l, err := time.LoadLocation(name); err == nil {
			loc = l
		}
	}
	if loc == nil {
		loc = time.UTC
	}
	z.locs[name] = loc
	return loc
}

// FilteredMessages is a MessageStore that makes no message for a customer
// outside its journey's audience filter: the trigger runners that create
// one message at a time write through it.
type FilteredMessages struct {
	MessageStore
	Journeys interface {
		GetJourney(ctx context.Context, id string) (JourneyDef, error)
	}
	Members Membership
}

// CreateMessage implements MessageStore: created is false, and nothing is
// stored, for a customer outside the journey's audience.
func (f FilteredMessages) CreateMessage(ctx context.Context, m Message) (bool, error) {
	d, err := f.Journeys.GetJourney(ctx, m.JourneyID)
	if err != nil {
		return false, err
	}
	if d.AudienceFilter != "" {
		if f.Members == nil {
			return false, fmt.Errorf("outreach: no audience membership source for %s", d.AudienceFilter)
		}
		in, err := f.Members.InAudience(ctx, d.AudienceFilter, []string{m.CustomerID})
		if err != nil {
			return false, err
		}
		if len(in) != 1 || !in[0] {
			return false, nil
		}
	}
	return f.MessageStore.CreateMessage(ctx, m)
}
