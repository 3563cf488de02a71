package outreach

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// memory is an in-memory store of journeys, customers, messages and
// cursors, and a membership and points source, for the trigger runners'
// tests.
type memory struct {
	mu        sync.Mutex
	journeys  []JourneyDef
	customers []Customer // in id order
	messages  map[string]Message
	writes    int // messages offered to CreateMessages
	cursors   map[string]string
	audiences map[string][]string // sorted members
	points    []ExpiringPoints
}

func newMemory() *memory {
	return &memory{messages: map[string]Message{}, cursors: map[string]string{}, audiences: map[string][]string{}}
}

func (s *memory) CreateJourney(_ context.Context, d JourneyDef) error {
	s.journeys = append(s.journeys, d)
	return nil
}

func (s *memory) GetJourney(_ context.Context, id string) (JourneyDef, error) {
	for _, d := range s.journeys {
		if d.ID == id {
			return d, nil
		}
	}
	return JourneyDef{}, ErrJourneyNotFound
}

func (s *memory) ListJourneys(_ context.Context, after string, limit int) ([]JourneyDef, error) {
	var out []JourneyDef
	for _, d := range s.journeys {
		if d.ID > after && len(out) < limit {
			out = append(out, d)
		}
	}
	return out, nil
}

func (s *memory) addCustomers(cs ...Customer) {
	s.customers = append(s.customers, cs...)
	sort.Slice(s.customers, func(i, j int) bool { return s.customers[i].ID < s.customers[j].ID })
}

func (s *memory) page(after string, limit int, keep func(Customer) bool) []Customer {
	var out []Customer
	for _, c := range s.customers {
		if c.ID > after && keep(c) && len(out) < limit {
			out = append(out, c)
		}
	}
	return out
}

func (s *memory) CustomersBornOn(_ context.Context, days []MonthDay, after string, limit int) ([]Customer, error) {
	return s.page(after, limit, func(c Customer) bool { return slices.Contains(days, MonthDay{c.BirthMonth, c.BirthDay}) }), nil
}

func (s *memory) ListCustomers(_ context.Context, after string, limit int) ([]Customer, error) {
	return s.page(after, limit, func(Customer) bool { return true }), nil
}

func (s *memory) LookupCustomers(_ context.Context, ids []string) ([]Customer, error) {
	return s.page("", len(s.customers), func(c Customer) bool { return slices.Contains(ids, c.ID) }), nil
}

func (s *memory) CreateMessages(_ context.Context, ms []Message) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range ms {
		s.writes++
		if _, ok := s.messages[m.ID]; !ok {
			s.messages[m.ID] = m
			n++
		}
	}
	return n, nil
}

func (s *memory) TriggerCursor(_ context.Context, name string) (string, error) {
	return s.cursors[name], nil
}

func (s *memory) SetTriggerCursor(_ context.Context, name, value string) error {
	s.cursors[name] = value
	return nil
}

func (s *memory) InAudience(_ context.Context, audience string, ids []string) ([]bool, error) {
	out := make([]bool, len(ids))
	for i, id := range ids {
		_, out[i] = slices.BinarySearch(s.audiences[audience], id)
	}
	return out, nil
}

// Members pages two ids at a time, to exercise paging.
func (s *memory) Members(_ context.Context, audience, token string) ([]string, string, error) {
	var out []string
	for _, id := range s.audiences[audience] {
		if id > token && len(out) < 2 {
			out = append(out, id)
		}
	}
	if len(out) < 2 {
		return out, "", nil
	}
	return out, out[len(out)-1], nil
}

// ExpiringPoints pages one member at a time.
func (s *memory) ExpiringPoints(_ context.Context, days int, token string) ([]ExpiringPoints, string, error) {
	for i, e := range s.points {
		if e.CustomerID > token {
			next := e.CustomerID
			if i == len(s.points)-1 {
				next = ""
			}
			return []ExpiringPoints{e}, next, nil
		}
	}
	return nil, "", nil
}

// sent lists the messages as "customer occurrence due" lines, sorted.
func (s *memory) sent() []string {
	var out []string
	for _, m := range s.messages {
		out = append(out, m.CustomerID+" "+m.Occurrence+" "+m.Due.UTC().Format(time.RFC3339))
	}
	sort.Strings(out)
	return out
}

// clock is a settable clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func lines(s ...string) string { return strings.Join(s, "\n") }
