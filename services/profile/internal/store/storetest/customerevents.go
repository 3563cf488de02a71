package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/profile/internal/profile"
)

// recorder is a profile.CustomerEventFunc that records its calls and
// returns a customer_updated (or, when after is zero, customer_deleted)
// event unless skip is set.
type recorder struct {
	calls  [][2]profile.Customer
	skip   bool
	serial int
}

func (r *recorder) event(before, after profile.Customer) (profile.Event, bool) {
	r.calls = append(r.calls, [2]profile.Customer{before, after})
	if r.skip {
		return profile.Event{}, false
	}
	r.serial++
	id, p := after.ID, profile.Payload(profile.CustomerUpdated{Tags: after.Tags})
	if after.ID == "" {
		id, p = before.ID, profile.CustomerDeleted{}
	}
	return profile.Event{
		ID: fmt.Sprintf("sys-%s-%d", id, r.serial), CustomerID: id,
		OccurredAt: at(time.Duration(r.serial) * time.Minute), RecordTime: at(time.Duration(r.serial) * time.Minute),
		Payload: p,
	}, true
}

func logOf(t *testing.T, s profile.Store) []profile.Event {
	t.Helper()
	evs, err := s.ListEvents(context.Background(), 0, 1000)
	if err != nil {
		t.Fatalf("ListEvents: %v", err)
	}
	return evs
}

func testCustomerEvents(t *testing.T, open Opener) {
	s, _ := open(t)
	ctx := context.Background()
	var rec recorder

	// Create: before is the zero customer, after the stored one.
	created, err := s.CreateCustomer(ctx, customer("c1", "a"), rec.event)
	if err != nil {
		t.Fatalf("CreateCustomer: %v", err)
	}
	if len(rec.calls) != 1 || rec.calls[0][0].ID != "" || !reflect.DeepEqual(rec.calls[0][1], created) {
		t.Fatalf("create: event func got %+v, want (zero, %+v)", rec.calls, created)
	}
	// Update: before and after.
	updated, err := s.UpdateCustomer(ctx, "c1", func(c *profile.Customer) error {
		c.Tags = []string{"a", "b"}
		return nil
	}, rec.event)
	if err != nil {
		t.Fatalf("UpdateCustomer: %v", err)
	}
	if len(rec.calls) != 2 || !reflect.DeepEqual(rec.calls[1][0], created) || !reflect.DeepEqual(rec.calls[1][1], updated) {
		t.Fatalf("update: event func got %+v, want (%+v, %+v)", rec.calls[1:], created, updated)
	}
	// An update the func declines appends nothing; a failed one neither.
	rec.skip = true
	if _, err := s.UpdateCustomer(ctx, "c1", func(*profile.Customer) error { return nil }, rec.event); err != nil {
		t.Fatalf("UpdateCustomer: %v", err)
	}
	rec.skip = false
	errStop := errors.New("stop")
	if _, err := s.UpdateCustomer(ctx, "c1", func(*profile.Customer) error { return errStop }, rec.event); !errors.Is(err, errStop) {
		t.Fatalf("UpdateCustomer: got %v, want %v", err, errStop)
	}
	// Completing a provisional customer: before is the provisional one.
	mustAppend(t, s, view("v1", "p1", at(time.Hour)))
	prov := mustGet(t, s, "p1")
	completed, err := s.CreateCustomer(ctx, customer("p1"), rec.event)
	if err != nil {
		t.Fatalf("CreateCustomer(p1): %v", err)
	}
	if last := rec.calls[len(rec.calls)-1]; !reflect.DeepEqual(last[0], prov) || !reflect.DeepEqual(last[1], completed) {
		t.Fatalf("completion: event func got %+v, want (%+v, %+v)", last, prov, completed)
	}

	evs := logOf(t, s)
	var got []string
	for i, e := range evs {
		got = append(got, e.ID)
		if i > 0 && e.Sequence <= evs[i-1].Sequence {
			t.Errorf("sequence %d after %d", e.Sequence, evs[i-1].Sequence)
		}
	}
	if want := []string{"sys-c1-1", "sys-c1-2", "v1", "sys-p1-3"}; !slices.Equal(got, want) {
		t.Fatalf("log: got %v, want %v", got, want)
	}
	if p, ok := evs[1].Payload.(profile.CustomerUpdated); !ok || !slices.Equal(p.Tags, []string{"a", "b"}) ||
		evs[1].CustomerID != "c1" || !evs[1].OccurredAt.Equal(at(2*time.Minute)) {
		t.Errorf("customer_updated event: got %+v", evs[1])
	}
	// System events are not folded into features.
	if got := mustGet(t, s, "c1"); got.Features.EventCount != 0 {
		t.Errorf("c1 features: got %+v, want none", got.Features)
	}

	// A customer whose log holds only system events can be deleted; the
	// deletion appends its event. One with activity cannot.
	if err := s.DeleteCustomer(ctx, "p1", func(profile.Customer) error { return nil }, rec.event); !errors.Is(err, profile.ErrCustomerHasEvents) {
		t.Fatalf("DeleteCustomer(p1): got %v, want %v", err, profile.ErrCustomerHasEvents)
	}
	before := mustGet(t, s, "c1")
	if err := s.DeleteCustomer(ctx, "c1", func(profile.Customer) error { return nil }, rec.event); err != nil {
		t.Fatalf("DeleteCustomer(c1): %v", err)
	}
	if last := rec.calls[len(rec.calls)-1]; !reflect.DeepEqual(last[0], before) || last[1].ID != "" {
		t.Fatalf("delete: event func got %+v, want (%+v, zero)", last, before)
	}
	evs = logOf(t, s)
	if last := evs[len(evs)-1]; last.ID != "sys-c1-4" || last.Kind() != profile.KindCustomerDeleted || last.CustomerID != "c1" {
		t.Errorf("last event: got %+v, want customer_deleted of c1", last)
	}
	// Created again, and deleted again: the earlier system events don't
	// count as activity.
	if _, err := s.CreateCustomer(ctx, customer("c1"), rec.event); err != nil {
		t.Fatalf("CreateCustomer(c1) again: %v", err)
	}
	if err := s.DeleteCustomer(ctx, "c1", func(profile.Customer) error { return nil }, rec.event); err != nil {
		t.Fatalf("DeleteCustomer(c1) again: %v", err)
	}
	if n := len(logOf(t, s)); n != 7 {
		t.Errorf("log length: got %d, want 7", n)
	}

	// Erasure re-keys customer_updated events and drops their tags.
	if _, err := s.CreateCustomer(ctx, customer("c3", "secret"), rec.event); err != nil {
		t.Fatalf("CreateCustomer(c3): %v", err)
	}
	erased := profile.Event{ID: "erase-c3", CustomerID: "c3", OccurredAt: at(time.Hour), RecordTime: at(time.Hour),
		Payload: profile.CustomerErased{AnonymousID: "anon-3"}}
	if n, err := s.EraseCustomer(ctx, "c3", erased); err != nil || n != 1 {
		t.Fatalf("EraseCustomer(c3): got %d, %v; want 1 event re-keyed", n, err)
	}
	anon, err := s.ListCustomerEvents(ctx, "anon-3", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(anon) != 1 || !reflect.DeepEqual(anon[0].Payload, profile.CustomerUpdated{}) {
		t.Errorf("erased customer's events: got %+v, want one customer_updated without tags", anon)
	}
}
