package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/profile/internal/profile"
)

func testAppendEvents(t *testing.T, open Opener) {
	s, _ := open(t)
	ctx := context.Background()
	mustCreate(t, s, customer("c1"))
	batch := []profile.Event{
		order("e1", "c1", at(time.Hour), 1000, "shoes", "web"),
		view("e2", "c2", at(2*time.Hour)),
		{
			ID: "e3", CustomerID: "c1", OccurredAt: at(3 * time.Hour), RecordTime: at(4 * time.Hour),
			Payload: profile.ReviewPosted{SKU: "sku-1", Rating: 4, Length: 120, HasPhoto: true},
		},
		refund("e4", "c1", at(5*time.Hour), 300),
		{
			ID: "e5", CustomerID: "c2", OccurredAt: at(6 * time.Hour), RecordTime: at(6 * time.Hour),
			Payload: profile.MessageEngaged{MessageID: "m1", Channel: "email", Action: "opened"},
		},
	}
	res := mustAppend(t, s, batch...)
	var last int64
	for i, r := range res {
		if r.Duplicate || r.Sequence <= last {
			t.Errorf("result %d: got %+v, want a sequence above %d", i, r, last)
		}
		last = r.Sequence
	}

	// The log returns the events exactly as given, with their sequences.
	logged, err := s.ListEvents(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(batch)
	for i := range want {
		want[i].Sequence = res[i].Sequence
	}
	if !reflect.DeepEqual(logged, want) {
		t.Errorf("ListEvents:\n got %+v\nwant %+v", logged, want)
	}
	page, err := s.ListEvents(ctx, res[1].Sequence, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(page, want[2:4]) {
		t.Errorf("ListEvents after %d limit 2: got %+v, want %+v", res[1].Sequence, page, want[2:4])
	}
	c1Events, err := s.ListCustomerEvents(ctx, "c1", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if wantC1 := []profile.Event{want[0], want[2], want[3]}; !reflect.DeepEqual(c1Events, wantC1) {
		t.Errorf("ListCustomerEvents(c1): got %+v, want %+v", c1Events, wantC1)
	}
	c1After, err := s.ListCustomerEvents(ctx, "c1", want[2].Sequence, 100)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c1After, want[3:4]) {
		t.Errorf("ListCustomerEvents(c1, after): got %+v, want %+v", c1After, want[3:4])
	}

	// Features were folded in the same transaction, once per customer.
	c1 := mustGet(t, s, "c1")
	if got, want := featuresJSON(t, c1.Features), featuresJSON(t, folded(batch[0], batch[2], batch[3])); got != want {
		t.Errorf("c1 features: got %s, want %s", got, want)
	}
	if c1.Revision != 2 || !c1.UpdateTime.Equal(batch[3].RecordTime) || c1.State != profile.StateActive {
		t.Errorf("c1: got revision %d update %v state %v, want 2, %v, active", c1.Revision, c1.UpdateTime, c1.State, batch[3].RecordTime)
	}
	c2 := mustGet(t, s, "c2")
	if c2.State != profile.StateProvisional || c2.Features.EventCount != 2 || !c2.CreateTime.Equal(batch[1].RecordTime) {
		t.Errorf("c2: got %+v", c2)
	}

	// A later batch continues the log.
	more := mustAppend(t, s, view("e6", "c1", at(7*time.Hour)))
	if more[0].Sequence <= last {
		t.Errorf("next batch: got sequence %d, want above %d", more[0].Sequence, last)
	}
	if got := mustGet(t, s, "c1").Revision; got != 3 {
		t.Errorf("c1 revision: got %d, want 3", got)
	}
	if res, err := s.AppendEvents(ctx, nil, fold); err != nil || len(res) != 0 {
		t.Errorf("empty batch: got %v, %v; want no results", res, err)
	}
}

func testDuplicates(t *testing.T, open Opener) {
	s, _ := open(t)
	ctx := context.Background()
	first := []profile.Event{
		order("e1", "c1", at(time.Hour), 1000, "shoes", "web"),
		order("e2", "c1", at(2*time.Hour), 2000, "bags", "app"),
	}
	mustAppend(t, s, first...)
	before := mustGet(t, s, "c1")
	logBefore, err := s.ListEvents(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}

	// Re-sent events, even with different content, change nothing.
	again := []profile.Event{
		order("e2", "c1", at(9*time.Hour), 9999, "other", "store"),
		order("e3", "c1", at(3*time.Hour), 500, "shoes", "web"),
		order("e1", "c9", at(time.Hour), 1000, "shoes", "web"),
	}
	res := mustAppend(t, s, again...)
	if !res[0].Duplicate || res[0].Sequence != 0 || res[1].Duplicate || !res[2].Duplicate {
		t.Errorf("results: got %+v, want duplicate, accepted, duplicate", res)
	}
	after := mustGet(t, s, "c1")
	if got, want := featuresJSON(t, after.Features), featuresJSON(t, folded(first[0], first[1], again[1])); got != want {
		t.Errorf("features: got %s, want %s", got, want)
	}
	if after.Revision != before.Revision+1 {
		t.Errorf("revision: got %d, want %d", after.Revision, before.Revision+1)
	}
	if _, err := s.GetCustomer(ctx, "c9"); !errors.Is(err, profile.ErrCustomerNotFound) {
		t.Errorf("customer of a duplicate only: got %v, want not found", err)
	}

	// A batch of only duplicates writes nothing at all.
	res = mustAppend(t, s, first...)
	for i, r := range res {
		if !r.Duplicate {
			t.Errorf("result %d: got %+v, want duplicate", i, r)
		}
	}
	if got := mustGet(t, s, "c1"); !reflect.DeepEqual(got, after) {
		t.Errorf("after duplicate batch: got %+v, want %+v", got, after)
	}
	logAfter, err := s.ListEvents(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(logAfter) != len(logBefore)+1 || !reflect.DeepEqual(logAfter[:len(logBefore)], logBefore) {
		t.Errorf("log: got %d events, want %d with the first unchanged", len(logAfter), len(logBefore)+1)
	}
}

// history returns a varied event history for customer, ids prefixed.
func history(prefix, customer string, n int) []profile.Event {
	var out []profile.Event
	for i := range n {
		id := fmt.Sprintf("%s-%03d", prefix, i)
		when := at(time.Duration(i*37%n) * time.Hour)
		switch i % 5 {
		case 0, 3:
			cat := []string{"shoes", "bags", "books", "toys"}[i%4]
			ch := []string{"web", "app", "store"}[i%3]
			e := order(id, customer, when, int64(100+i*7), cat, ch)
			if i%3 == 0 {
				p := e.Payload.(profile.OrderPlaced)
				p.Lines[0].Discount = gbp(10)
				e.Payload = p
			}
			if i%7 == 0 {
				p := e.Payload.(profile.OrderPlaced)
				p.Total = profile.Money{Currency: "EUR", Minor: int64(200 + i)}
				e.Payload = p
			}
			out = append(out, e)
		case 1:
			out = append(out, refund(id, customer, when, int64(10+i)))
		default:
			out = append(out, view(id, customer, when))
		}
	}
	return out
}

func testOrderIndependence(t *testing.T, open Opener) {
	s, _ := open(t)
	const n = 60
	inOrder := history("a", "ordered", n)
	mustAppend(t, s, inOrder...)

	shuffled := history("b", "shuffled", n)
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for len(shuffled) > 0 { // random batch sizes, some events re-sent
		k := min(1+rng.IntN(9), len(shuffled))
		batch := slices.Clone(shuffled[:k])
		if rng.IntN(2) == 0 {
			mustAppend(t, s, batch...) // duplicates of the same batch
		}
		mustAppend(t, s, batch...)
		shuffled = shuffled[k:]
	}

	a := mustGet(t, s, "ordered").Features
	b := mustGet(t, s, "shuffled").Features
	if featuresJSON(t, a) != featuresJSON(t, b) {
		t.Errorf("features differ:\n in order %s\n shuffled %s", featuresJSON(t, a), featuresJSON(t, b))
	}
	if a.EventCount != n {
		t.Errorf("event count: got %d, want %d", a.EventCount, n)
	}
}

func testCustomerFeatures(t *testing.T, open Opener) {
	s, _ := open(t)
	ctx := context.Background()
	mustCreate(t, s, customer("c1"))
	e1 := order("e1", "c1", at(time.Hour), 500, "books", "app")
	e2 := view("e2", "p2", at(2*time.Hour))
	mustAppend(t, s, e1, e2)

	got, err := s.CustomerFeatures(ctx, []string{"c1", "p2", "nobody"})
	if err != nil {
		t.Fatalf("CustomerFeatures: %v", err)
	}
	if len(got) != 2 {
		t.Fatalf("CustomerFeatures: got %d customers, want 2 (%v)", len(got), got)
	}
	for id, want := range map[string]profile.Features{"c1": folded(e1), "p2": folded(e2)} {
		if featuresJSON(t, got[id]) != featuresJSON(t, want) {
			t.Errorf("features of %s: got %+v, want %+v", id, got[id], want)
		}
	}
	if got, err := s.CustomerFeatures(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("CustomerFeatures(nil): got %v, %v; want empty", got, err)
	}
}
