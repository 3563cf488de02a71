package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/profile/internal/profile"
)

func testEraseCustomer(t *testing.T, open Opener) {
	s, _ := open(t)
	ctx := context.Background()
	mustCreate(t, s, customer("c1", "vip"))
	events := []profile.Event{
		order("e1", "c1", at(time.Hour), 1000, "shoes", "web"),
		view("e2", "other", at(2*time.Hour)),
		refund("e3", "c1", at(3*time.Hour), 200),
	}
	res := mustAppend(t, s, events...)
	before := mustGet(t, s, "c1")

	erased := profile.Event{
		ID: "erase-c1", CustomerID: "c1", OccurredAt: at(10 * time.Hour), RecordTime: at(10 * time.Hour),
		Payload: profile.CustomerErased{AnonymousID: "anon-1"},
	}
	n, err := s.EraseCustomer(ctx, "c1", erased)
	if err != nil {
		t.Fatalf("EraseCustomer: %v", err)
	}
	if n != 2 {
		t.Errorf("re-keyed: got %d, want 2", n)
	}
	if _, err := s.GetCustomer(ctx, "c1"); !errors.Is(err, profile.ErrCustomerNotFound) {
		t.Errorf("GetCustomer(c1): got %v, want not found", err)
	}
	anon := mustGet(t, s, "anon-1")
	if anon.State != profile.StateErased || anon.FullName != "" || anon.Email != "" || anon.Phone != "" ||
		anon.Birthday != "" || len(anon.Tags) != 0 || anon.Consent != (profile.Consent{}) ||
		!anon.CreateTime.Equal(before.CreateTime) || !anon.UpdateTime.Equal(erased.RecordTime) {
		t.Errorf("anonymous customer: got %+v", anon)
	}
	if featuresJSON(t, anon.Features) != featuresJSON(t, before.Features) {
		t.Errorf("anonymous features: got %+v, want %+v", anon.Features, before.Features)
	}
	anonEvents, err := s.ListCustomerEvents(ctx, "anon-1", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(anonEvents) != 2 || anonEvents[0].ID != "e1" || anonEvents[0].Sequence != res[0].Sequence ||
		anonEvents[1].ID != "e3" || anonEvents[1].Sequence != res[2].Sequence {
		t.Errorf("re-keyed events: got %+v", anonEvents)
	}
	log, err := s.ListEvents(ctx, res[2].Sequence, 10)
	if err != nil {
		t.Fatal(err)
	}
	erased.Sequence = log[0].Sequence
	if len(log) != 1 || !reflect.DeepEqual(log[0], erased) {
		t.Errorf("log tail: got %+v, want %+v", log, erased)
	}
	tagged, err := s.ListCustomers(ctx, profile.CustomerFilter{Tag: "vip", Limit: 10})
	if err != nil || len(tagged) != 0 {
		t.Errorf("customers tagged vip: got %v, %v; want none", ids(tagged), err)
	}

	again := erased
	again.ID = "erase-again"
	if _, err := s.EraseCustomer(ctx, "anon-1", again); !errors.Is(err, profile.ErrCustomerErased) {
		t.Errorf("erase anonymous: got %v, want %v", err, profile.ErrCustomerErased)
	}
	if _, err := s.EraseCustomer(ctx, "c1", again); !errors.Is(err, profile.ErrCustomerNotFound) {
		t.Errorf("erase c1 again: got %v, want %v", err, profile.ErrCustomerNotFound)
	}
}
