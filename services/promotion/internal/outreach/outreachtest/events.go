// Package outreachtest holds in-memory fakes of the outreach stores, for
// tests of the trigger runners without a database.
package outreachtest

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
)

// Journeys is an in-memory outreach.JourneyStore.
type Journeys struct {
	mu   sync.Mutex
	defs map[string]outreach.JourneyDef
}

// CreateJourney implements outreach.JourneyStore.
func (j *Journeys) CreateJourney(_ context.Context, d outreach.JourneyDef) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, ok := j.defs[d.ID]; ok {
		return outreach.ErrJourneyAlreadyExists
	}
	if j.defs == nil {
		j.defs = map[string]outreach.JourneyDef{}
	}
	j.defs[d.ID] = d
	return nil
}

// GetJourney implements outreach.JourneyStore.
func (j *Journeys) GetJourney(_ context.Context, id string) (outreach.JourneyDef, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	d, ok := j.defs[id]
	if !ok {
		return d, outreach.ErrJourneyNotFound
	}
	return d, nil
}

// ListJourneys implements outreach.JourneyStore.
func (j *Journeys) ListJourneys(_ context.Context, after string, limit int) ([]outreach.JourneyDef, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []outreach.JourneyDef
	for _, d := range j.defs {
		if d.ID > after {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	return out[:min(limit, len(out))], nil
}

// Messages is an in-memory outreach.MessageCreator.
type Messages struct {
	mu   sync.Mutex
	byID map[string]outreach.Message
}

// CreateMessage implements outreach.MessageCreator.
func (m *Messages) CreateMessage(_ context.Context, msg outreach.Message) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byID[msg.ID]; ok {
		return false, nil
	}
	if m.byID == nil {
		m.byID = map[string]outreach.Message{}
	}
	m.byID[msg.ID] = msg
	return true, nil
}

// All returns the messages created, by journey, customer and occurrence.
func (m *Messages) All() []outreach.Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]outreach.Message, 0, len(m.byID))
	for _, msg := range m.byID {
		out = append(out, msg)
	}
	sort.Slice(out, func(a, b int) bool {
		return outreach.OccurrenceKey(out[a].JourneyID, out[a].CustomerID, out[a].Occurrence) <
			outreach.OccurrenceKey(out[b].JourneyID, out[b].CustomerID, out[b].Occurrence)
	})
	return out
}

// Events is an in-memory outreach.EventStore; Record plays the consumer.
type Events struct {
	mu     sync.Mutex
	events []outreach.TriggerEvent
	waits  map[[2]string]outreach.CartWait
	ended  map[[2]string]bool
}

// Record records events as the consumer does.
func (e *Events) Record(evs ...outreach.TriggerEvent) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, evs...)
	slices.SortFunc(e.events, func(a, b outreach.TriggerEvent) int { return int(a.Sequence - b.Sequence) })
}

// TriggerEvents implements outreach.EventStore.
func (e *Events) TriggerEvents(_ context.Context, after int64, limit int) ([]outreach.TriggerEvent, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []outreach.TriggerEvent
	for _, ev := range e.events {
		if ev.Sequence > after && len(out) < limit {
			out = append(out, ev)
		}
	}
	return out, nil
}

// DropTriggerEvents implements outreach.EventStore.
func (e *Events) DropTriggerEvents(_ context.Context, upTo int64) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = slices.DeleteFunc(e.events, func(ev outreach.TriggerEvent) bool { return ev.Sequence <= upTo })
	return nil
}

// StartWait implements outreach.EventStore.
func (e *Events) StartWait(_ context.Context, w outreach.CartWait) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	k := [2]string{w.JourneyID, w.CustomerID}
	old, ok := e.waits[k]
	if ok && (old.CartTime.After(w.CartTime) || old.CartTime.Equal(w.CartTime) && old.CartSeq >= w.CartSeq) {
		return nil
	}
	if e.waits == nil {
		e.waits = map[[2]string]outreach.CartWait{}
	}
	w.Ordered = time.Time{}
	e.waits[k] = w
	delete(e.ended, k)
	return nil
}

// NoteOrder implements outreach.EventStore.
func (e *Events) NoteOrder(_ context.Context, customerID string, at time.Time) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for k, w := range e.waits {
		if !e.ended[k] && w.CustomerID == customerID && w.CartTime.Before(at) && !w.Due.Before(at) && (w.Ordered.IsZero() || w.Ordered.After(at)) {
			w.Ordered = at
			e.waits[k] = w
		}
	}
	return nil
}

// DecidableWaits implements outreach.EventStore.
func (e *Events) DecidableWaits(_ context.Context, now time.Time, limit int) ([]outreach.CartWait, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []outreach.CartWait
	for k, w := range e.waits {
		if !e.ended[k] && !decideAt(w).After(now) {
			out = append(out, w)
		}
	}
	sort.Slice(out, func(a, b int) bool { return decideAt(out[a]).Before(decideAt(out[b])) })
	return out[:min(limit, len(out))], nil
}

func decideAt(w outreach.CartWait) time.Time {
	if !w.Ordered.IsZero() {
		return w.Ordered
	}
	return w.Due
}

// EndWait implements outreach.EventStore.
func (e *Events) EndWait(_ context.Context, w outreach.CartWait) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	k := [2]string{w.JourneyID, w.CustomerID}
	if cur, ok := e.waits[k]; ok && cur.CartEventID == w.CartEventID {
		if e.ended == nil {
			e.ended = map[[2]string]bool{}
		}
		e.ended[k] = true
	}
	return nil
}

// Waits is how many waits are undecided.
func (e *Events) Waits() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.waits) - len(e.ended)
}
