// Package storetest is the conformance suite for profile.Store: every
// storage engine runs the same tests through Run.
package storetest

import (
	"context"
	"encoding/json"
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
