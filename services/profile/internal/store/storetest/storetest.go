// Package storetest is the conformance suite for profile.Store: every
// storage engine runs the same tests through Run.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/profile/internal/profile"
)

// Opener returns a new, empty, migrated store for one test, and a function
// that opens another store with its own connection pool on the same
// database, as a second replica of the service would.
type Opener func(t *testing.T) (s profile.Store, replica func() profile.Store)

// Run runs the conformance suite against the stores open returns.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"CreateAndGet", testCreateAndGet},
		{"CompleteProvisional", testCompleteProvisional},
		{"UpdateCustomer", testUpdateCustomer},
		{"DeleteCustomer", testDeleteCustomer},
		{"ListCustomers", testListCustomers},
		{"AppendEvents", testAppendEvents},
		{"Duplicates", testDuplicates},
		{"OrderIndependence", testOrderIndependence},
		{"EraseCustomer", testEraseCustomer},
		{"CustomerEvents", testCustomerEvents},
		{"CustomerFeatures", testCustomerFeatures},
		{"ConcurrentCustomerEvents", testConcurrentCustomerEvents},
		{"ConcurrentAppends", testConcurrentAppends},
		{"ConcurrentReplicas", testConcurrentReplicas},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

var (
	fold = profile.FoldFunc((*profile.Features).Apply)
	t0   = time.Date(2025, 3, 1, 9, 30, 0, 123456789, time.UTC)
)

func at(d time.Duration) time.Time { return t0.Add(d) }

func gbp(minor int64) profile.Money { return profile.Money{Currency: "GBP", Minor: minor} }

func order(id, customer string, occurred time.Time, total int64, category, channel string) profile.Event {
	return profile.Event{
		ID:         id,
		CustomerID: customer,
		OccurredAt: occurred,
		RecordTime: occurred.Add(time.Minute),
		Payload: profile.OrderPlaced{
			OrderID: "o-" + id,
			Lines: []profile.OrderLine{{
				SKU: "sku-" + category, Category: category, Quantity: 2,
				UnitPrice: gbp(total / 2), Discount: gbp(0),
			}},
			Total:   gbp(total),
			Channel: channel,
		},
	}
}

func view(id, customer string, occurred time.Time) profile.Event {
	return profile.Event{
		ID: id, CustomerID: customer, OccurredAt: occurred, RecordTime: occurred.Add(time.Second),
		Payload: profile.ProductViewed{SKU: "sku-1", Category: "shoes", Channel: "app"},
	}
}

func refund(id, customer string, occurred time.Time, amount int64) profile.Event {
	return profile.Event{
		ID: id, CustomerID: customer, OccurredAt: occurred, RecordTime: occurred.Add(time.Second),
		Payload: profile.OrderRefunded{OrderID: "o-x", Amount: gbp(amount)},
	}
}

func customer(id string, tags ...string) profile.Customer {
	return profile.Customer{
		ID:                  id,
		FullName:            "Customer " + id,
		Email:               id + "@example.com",
		Phone:               "+447700900123",
		Birthday:            "1990-04-01",
		TimeZone:            "Europe/London",
		Country:             "GB",
		RegistrationTime:    t0,
		RegistrationChannel: "web",
		Consent:             profile.Consent{Email: profile.ConsentGranted, SMS: profile.ConsentDenied},
		Tags:                tags,
		State:               profile.StateActive,
		CreateTime:          t0,
		UpdateTime:          t0,
	}
}

func mustCreate(t *testing.T, s profile.Store, c profile.Customer) profile.Customer {
	t.Helper()
	got, err := s.CreateCustomer(context.Background(), c, nil)
	if err != nil {
		t.Fatalf("CreateCustomer(%s): %v", c.ID, err)
	}
	return got
}

func mustGet(t *testing.T, s profile.Store, id string) profile.Customer {
	t.Helper()
	got, err := s.GetCustomer(context.Background(), id)
	if err != nil {
		t.Fatalf("GetCustomer(%s): %v", id, err)
	}
	return got
}

func mustAppend(t *testing.T, s profile.Store, events ...profile.Event) []profile.AppendResult {
	t.Helper()
	res, err := s.AppendEvents(context.Background(), events, fold)
	if err != nil {
		t.Fatalf("AppendEvents: %v", err)
	}
	if len(res) != len(events) {
		t.Fatalf("AppendEvents: got %d results, want %d", len(res), len(events))
	}
	return res
}

func featuresJSON(t *testing.T, f profile.Features) string {
	t.Helper()
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func folded(events ...profile.Event) profile.Features {
	var f profile.Features
	for _, e := range events {
		fold(&f, e)
	}
	return f
}

func testCreateAndGet(t *testing.T, open Opener) {
	s, _ := open(t)
	ctx := context.Background()
	want := customer("c1", "newsletter", "vip")
	got := mustCreate(t, s, want)
	want.Revision = 1
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CreateCustomer: got %+v, want %+v", got, want)
	}
	if got := mustGet(t, s, "c1"); !reflect.DeepEqual(got, want) {
		t.Errorf("GetCustomer: got %+v, want %+v", got, want)
	}
	if _, err := s.CreateCustomer(ctx, customer("c1"), nil); !errors.Is(err, profile.ErrCustomerAlreadyExists) {
		t.Errorf("CreateCustomer again: got %v, want %v", err, profile.ErrCustomerAlreadyExists)
	}
	if _, err := s.GetCustomer(ctx, "nobody"); !errors.Is(err, profile.ErrCustomerNotFound) {
		t.Errorf("GetCustomer(nobody): got %v, want %v", err, profile.ErrCustomerNotFound)
	}
}

func testCompleteProvisional(t *testing.T, open Opener) {
	s, _ := open(t)
	e := order("e1", "p1", at(time.Hour), 1000, "shoes", "web")
	mustAppend(t, s, e)

	prov := mustGet(t, s, "p1")
	if prov.State != profile.StateProvisional {
		t.Errorf("state: got %v, want provisional", prov.State)
	}
	if !prov.CreateTime.Equal(e.RecordTime) || !prov.UpdateTime.Equal(e.RecordTime) {
		t.Errorf("times: got create %v update %v, want both %v", prov.CreateTime, prov.UpdateTime, e.RecordTime)
	}
	if prov.Revision != 1 {
		t.Errorf("revision: got %d, want 1", prov.Revision)
	}
	wantFeatures := featuresJSON(t, folded(e))
	if got := featuresJSON(t, prov.Features); got != wantFeatures {
		t.Errorf("features: got %s, want %s", got, wantFeatures)
	}

	c := customer("p1", "vip")
	c.UpdateTime = at(2 * time.Hour)
	got := mustCreate(t, s, c)
	if got.State != profile.StateActive || got.Revision != 2 || got.FullName != c.FullName ||
		!got.CreateTime.Equal(prov.CreateTime) || !slices.Equal(got.Tags, c.Tags) {
		t.Errorf("completed: got %+v", got)
	}
	if got := featuresJSON(t, got.Features); got != wantFeatures {
		t.Errorf("features after completion: got %s, want %s", got, wantFeatures)
	}
	stored := mustGet(t, s, "p1")
	if !reflect.DeepEqual(stored, got) {
		t.Errorf("GetCustomer: got %+v, want %+v", stored, got)
	}
	if _, err := s.CreateCustomer(context.Background(), c, nil); !errors.Is(err, profile.ErrCustomerAlreadyExists) {
		t.Errorf("CreateCustomer on active: got %v, want %v", err, profile.ErrCustomerAlreadyExists)
	}
}

func testUpdateCustomer(t *testing.T, open Opener) {
	s, _ := open(t)
	ctx := context.Background()
	mustCreate(t, s, customer("c1", "a", "b"))
	mustAppend(t, s, order("e1", "c1", at(time.Hour), 500, "books", "app"))
	before := mustGet(t, s, "c1")

	errStop := errors.New("stop")
	tests := []struct {
		name    string
		id      string
		fn      func(c *profile.Customer) error
		wantErr error
		check   func(t *testing.T, got profile.Customer)
	}{
		{
			name: "change fields and tags",
			id:   "c1",
			fn: func(c *profile.Customer) error {
				c.Email = "new@example.com"
				c.Consent.Push = profile.ConsentGranted
				c.Tags = []string{"b", "c"}
				c.UpdateTime = at(3 * time.Hour)
				c.Features = profile.Features{} // not the callback's to change
				return nil
			},
			check: func(t *testing.T, got profile.Customer) {
				if got.Email != "new@example.com" || got.Consent.Push != profile.ConsentGranted ||
					!slices.Equal(got.Tags, []string{"b", "c"}) || !got.UpdateTime.Equal(at(3*time.Hour)) {
					t.Errorf("got %+v", got)
				}
				if got.Revision != before.Revision+1 {
					t.Errorf("revision: got %d, want %d", got.Revision, before.Revision+1)
				}
				if featuresJSON(t, got.Features) != featuresJSON(t, before.Features) {
					t.Errorf("features changed: got %+v, want %+v", got.Features, before.Features)
				}
			},
		},
		{
			name:    "callback error writes nothing",
			id:      "c1",
			fn:      func(c *profile.Customer) error { c.Email = "lost@example.com"; return errStop },
			wantErr: errStop,
		},
		{
			name:    "not found",
			id:      "nobody",
			fn:      func(*profile.Customer) error { return nil },
			wantErr: profile.ErrCustomerNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.UpdateCustomer(ctx, tt.id, tt.fn, nil)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("UpdateCustomer: got %v, want %v", err, tt.wantErr)
			}
			if tt.check == nil {
				return
			}
			tt.check(t, got)
			if stored := mustGet(t, s, tt.id); !reflect.DeepEqual(stored, got) {
				t.Errorf("stored: got %+v, want %+v", stored, got)
			}
		})
	}
	if got := mustGet(t, s, "c1"); got.Email != "new@example.com" {
		t.Errorf("email after failed update: got %q, want new@example.com", got.Email)
	}
	// The tag index follows the update.
	for tag, want := range map[string]int{"a": 0, "b": 1, "c": 1} {
		got, err := s.ListCustomers(ctx, profile.CustomerFilter{Tag: tag, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != want {
			t.Errorf("customers tagged %q: got %d, want %d", tag, len(got), want)
		}
	}
}

func testDeleteCustomer(t *testing.T, open Opener) {
	s, _ := open(t)
	ctx := context.Background()
	mustCreate(t, s, customer("plain", "x"))
	mustCreate(t, s, customer("buyer"))
	mustAppend(t, s, order("e1", "buyer", at(time.Hour), 100, "toys", "web"))

	errVeto := errors.New("veto")
	tests := []struct {
		name    string
		id      string
		check   func(profile.Customer) error
		wantErr error
		gone    bool
	}{
		{"check error", "plain", func(profile.Customer) error { return errVeto }, errVeto, false},
		{"has events", "buyer", func(profile.Customer) error { return nil }, profile.ErrCustomerHasEvents, false},
		{"deleted", "plain", func(c profile.Customer) error {
			if c.ID != "plain" || c.Revision != 1 {
				return fmt.Errorf("check got %+v", c)
			}
			return nil
		}, nil, true},
		{"not found", "plain", func(profile.Customer) error { return nil }, profile.ErrCustomerNotFound, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.DeleteCustomer(ctx, tt.id, tt.check, nil)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("DeleteCustomer: got %v, want %v", err, tt.wantErr)
			}
			_, err = s.GetCustomer(ctx, tt.id)
			if gone := errors.Is(err, profile.ErrCustomerNotFound); gone != tt.gone {
				t.Errorf("gone: got %v (%v), want %v", gone, err, tt.gone)
			}
		})
	}
	// The tags of the deleted customer are gone too: an id can be reused.
	mustCreate(t, s, customer("plain"))
	got, err := s.ListCustomers(ctx, profile.CustomerFilter{Tag: "x", Limit: 10})
	if err != nil || len(got) != 0 {
		t.Errorf("customers tagged x: got %v, %v; want none", got, err)
	}
}

func ids(cs []profile.Customer) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func testListCustomers(t *testing.T, open Opener) {
	s, _ := open(t)
	ctx := context.Background()
	for i, id := range []string{"c05", "c01", "c04", "C02", "c03", "a-1"} {
		c := customer(id)
		if i%2 == 0 {
			c.Tags = []string{"even"}
		}
		c.UpdateTime = at(time.Duration(i) * time.Hour)
		mustCreate(t, s, c)
	}

	tests := []struct {
		name string
		f    profile.CustomerFilter
		want []string
	}{
		{"all in id order", profile.CustomerFilter{Limit: 10}, []string{"C02", "a-1", "c01", "c03", "c04", "c05"}},
		{"limit", profile.CustomerFilter{Limit: 2}, []string{"C02", "a-1"}},
		{"after id", profile.CustomerFilter{AfterID: "a-1", Limit: 3}, []string{"c01", "c03", "c04"}},
		{"tag", profile.CustomerFilter{Tag: "even", Limit: 10}, []string{"c03", "c04", "c05"}},
		{"tag after id", profile.CustomerFilter{Tag: "even", AfterID: "c03", Limit: 10}, []string{"c04", "c05"}},
		{"updated after is inclusive", profile.CustomerFilter{UpdatedAfter: at(3 * time.Hour), Limit: 10}, []string{"C02", "a-1", "c03"}},
		{"unknown tag", profile.CustomerFilter{Tag: "none", Limit: 10}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ListCustomers(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), tt.want) {
				t.Errorf("got %v, want %v", ids(got), tt.want)
			}
		})
	}

	t.Run("paging visits everyone once", func(t *testing.T) {
		var seen []string
		f := profile.CustomerFilter{Limit: 4}
		for {
			page, err := s.ListCustomers(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			seen = append(seen, ids(page)...)
			if len(page) < f.Limit {
				break
			}
			f.AfterID = page[len(page)-1].ID
		}
		if want := []string{"C02", "a-1", "c01", "c03", "c04", "c05"}; !slices.Equal(seen, want) {
			t.Errorf("got %v, want %v", seen, want)
		}
	})
}

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

// appendConcurrently has writers append batches through the given stores
// (round robin) while a follower reads the log, and checks that every
// event was accepted exactly once, the follower saw each exactly once in
// increasing sequence order, and the features add up.
func appendConcurrently(t *testing.T, stores []profile.Store) {
	const (
		writers   = 8
		batches   = 10
		batchSize = 50
		customers = 40
	)
	ctx := context.Background()
	type batch struct {
		store  profile.Store
		events []profile.Event
	}
	var work [][]batch
	for w := range writers {
		var mine []batch
		for b := range batches {
			var events []profile.Event
			for i := range batchSize {
				n := (w*batches+b)*batchSize + i
				events = append(events, view(fmt.Sprintf("w%d-b%d-e%d", w, b, i),
					fmt.Sprintf("c%02d", n%customers), at(time.Duration(n)*time.Second)))
			}
			// Every writer also re-sends its neighbour's first batch:
			// the race on the same ids must accept each once.
			if b == 0 && w > 0 {
				events = append(events, work[w-1][0].events...)
			}
			mine = append(mine, batch{store: stores[(w+b)%len(stores)], events: events})
		}
		work = append(work, mine)
	}
	total := writers * batches * batchSize

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		accepted = map[string]int{}
		errs     []error
	)
	for w := range writers {
		wg.Go(func() {
			for _, b := range work[w] {
				res, err := b.store.AppendEvents(ctx, b.events, fold)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				}
				for i, r := range res {
					if !r.Duplicate {
						accepted[b.events[i].ID]++
					}
				}
				mu.Unlock()
			}
		})
	}

	writersDone := make(chan struct{})
	go func() { wg.Wait(); close(writersDone) }()
	seen := map[string]int{}
	var last int64
	follow := func() bool {
		page, err := stores[len(stores)-1].ListEvents(ctx, last, 97)
		if err != nil {
			t.Errorf("ListEvents: %v", err)
			return false
		}
		for _, e := range page {
			if e.Sequence <= last {
				t.Errorf("follower: sequence %d after %d", e.Sequence, last)
			}
			last = e.Sequence
			seen[e.ID]++
		}
		return len(page) > 0
	}
	for done := false; !done; {
		select {
		case <-writersDone:
			done = true
		default:
			follow()
		}
	}
	for follow() {
	}

	for _, err := range errs {
		t.Errorf("AppendEvents: %v", err)
	}
	if len(accepted) != total {
		t.Errorf("accepted ids: got %d, want %d", len(accepted), total)
	}
	for id, n := range accepted {
		if n != 1 {
			t.Errorf("event %s accepted %d times, want once", id, n)
		}
	}
	if len(seen) != total {
		t.Errorf("follower saw %d events, want %d", len(seen), total)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("follower saw %s %d times, want once", id, n)
		}
	}
	var events int64
	for c := range customers {
		events += mustGet(t, stores[0], fmt.Sprintf("c%02d", c)).Features.EventCount
	}
	if events != int64(total) {
		t.Errorf("sum of feature event counts: got %d, want %d", events, total)
	}
}

func testConcurrentAppends(t *testing.T, open Opener) {
	s, _ := open(t)
	appendConcurrently(t, []profile.Store{s})
}

func testConcurrentReplicas(t *testing.T, open Opener) {
	s, replica := open(t)
	appendConcurrently(t, []profile.Store{s, replica()})
}

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

// testConcurrentCustomerEvents interleaves customer updates that append
// system events with event appends on two replicas, while a follower reads
// the log: it must see every event exactly once, in sequence order (which
// fails if a system event became visible after a higher sequence).
func testConcurrentCustomerEvents(t *testing.T, open Opener) {
	const (
		writers   = 4
		rounds    = 15
		customers = 5
	)
	s, replica := open(t)
	stores := []profile.Store{s, replica()}
	ctx := context.Background()
	for c := range customers {
		mustCreate(t, s, customer(fmt.Sprintf("u%d", c)))
	}
	updated := func(before, after profile.Customer) (profile.Event, bool) {
		return profile.Event{
			ID: fmt.Sprintf("sys-%s-%d", after.ID, after.Revision), CustomerID: after.ID,
			OccurredAt: after.UpdateTime, RecordTime: after.UpdateTime,
			Payload: profile.CustomerUpdated{Tags: after.Tags},
		}, true
	}

	var wg sync.WaitGroup
	errs := make(chan error, writers*rounds*2)
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				st := stores[(w+r)%len(stores)]
				id := fmt.Sprintf("u%d", (w+r)%customers)
				_, err := st.UpdateCustomer(ctx, id, func(c *profile.Customer) error {
					c.Tags = []string{fmt.Sprintf("w%d-r%d", w, r)}
					c.UpdateTime = at(time.Duration(r) * time.Second)
					return nil
				}, updated)
				if err != nil {
					errs <- fmt.Errorf("UpdateCustomer: %w", err)
				}
				if _, err := st.AppendEvents(ctx, []profile.Event{view(fmt.Sprintf("v-w%d-r%d", w, r), id, at(time.Minute))}, fold); err != nil {
					errs <- fmt.Errorf("AppendEvents: %w", err)
				}
			}
		})
	}
	writersDone := make(chan struct{})
	go func() { wg.Wait(); close(writersDone) }()

	seen := map[string]int{}
	var last int64
	follow := func() bool {
		page, err := stores[1].ListEvents(ctx, last, 13)
		if err != nil {
			t.Errorf("ListEvents: %v", err)
			return false
		}
		for _, e := range page {
			if e.Sequence <= last {
				t.Errorf("follower: sequence %d after %d", e.Sequence, last)
			}
			last = e.Sequence
			seen[e.ID]++
		}
		return len(page) > 0
	}
	for done := false; !done; {
		select {
		case <-writersDone:
			done = true
		default:
			follow()
		}
	}
	for follow() {
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if want := writers * rounds * 2; len(seen) != want {
		t.Errorf("follower saw %d events, want %d", len(seen), want)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("follower saw %s %d times, want once", id, n)
		}
	}
}
