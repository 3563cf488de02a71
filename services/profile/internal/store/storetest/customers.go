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
