package profile

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/fielderr"
	"github.com/tenurehq/tenure/services/platform/paging"
)

// pagingStore serves fixed customers and events; the Service methods under
// test call nothing else. Embedding the interface makes any other call
// panic.
type pagingStore struct {
	Store
	customers []Customer
	events    []Event
	appended  []AppendResult
}

func (s *pagingStore) GetCustomer(_ context.Context, id string) (Customer, error) {
	for _, c := range s.customers {
		if c.ID == id {
			return c, nil
		}
	}
	return Customer{}, ErrCustomerNotFound
}

func (s *pagingStore) ListCustomers(_ context.Context, f CustomerFilter) ([]Customer, error) {
	var out []Customer
	for _, c := range s.customers {
		if c.ID > f.AfterID && len(out) < f.Limit {
			out = append(out, c)
		}
	}
	return out, nil
}

func (s *pagingStore) ListCustomerEvents(_ context.Context, id string, after int64, limit int) ([]Event, error) {
	var out []Event
	for _, e := range s.events {
		if e.CustomerID == id && e.Sequence > after && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func (s *pagingStore) AppendEvents(_ context.Context, events []Event, _ FoldFunc) ([]AppendResult, error) {
	if len(events) != len(s.appended) {
		return nil, fmt.Errorf("appended %d events, the test expects %d", len(events), len(s.appended))
	}
	return s.appended, nil
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

const (
	malformedToken = "profile: invalid page token: page_token is not one this service issued; pass next_page_token unchanged, or omit it for the first page"
	filtersToken   = "profile: invalid page token: page_token does not match the request's filters; send the tag and updated_after of the request that returned it"
	parentToken    = "profile: invalid page token: page_token does not match the request's filters; send the parent of the request that returned it"
)

// sealedToken is a token in the paging package's format, bound to f, whose
// position the service would never issue: its checksum and filters pass, so
// only the service's own check of the position can reject it.
func sealedToken(f paging.Filter, position string) string {
	p, err := paging.Parse(paging.Sizes{}, 0, "", f)
	if err != nil {
		panic(err)
	}
	return p.Next(position)
}

// Callers can send any string as a page token: every token the service did
// not issue for the same filters must fail with ErrInvalidPageToken, never
// reach the store.
func TestCustomerPageTokens(t *testing.T) {
	ctx := context.Background()
	store := &pagingStore{customers: []Customer{{ID: "a"}, {ID: "b"}, {ID: "c"}}}
	svc := NewService(store, nil)
	since := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	firstPage := func(q ListCustomersQuery) string {
		q.PageSize = 1
		page, err := svc.ListCustomers(ctx, q)
		if err != nil || page.NextPageToken == "" {
			t.Fatalf("first page %+v: %v, want a next_page_token", q, err)
		}
		return page.NextPageToken
	}
	first := firstPage(ListCustomersQuery{Tag: "vip"})
	vipFilter := paging.For("ListCustomers").With("tag", "vip").With("updated_after", time.Time{}.Format(time.RFC3339Nano))
	tests := []struct {
		name    string
		q       ListCustomersQuery
		wantErr string // "" means the page after "a"
	}{
		{"issued", ListCustomersQuery{Tag: "vip", PageToken: first}, ""},
		{"not base64", ListCustomersQuery{Tag: "vip", PageToken: "garbage!"}, malformedToken},
		{"not json", ListCustomersQuery{Tag: "vip", PageToken: b64("a")}, malformedToken},
		{"unknown field", ListCustomersQuery{Tag: "vip", PageToken: b64(`{"a":"a","t":"vip","x":1}`)}, malformedToken},
		{"reordered", ListCustomersQuery{Tag: "vip", PageToken: b64(`{"t":"vip","a":"a"}`)}, malformedToken},
		{"trailing data", ListCustomersQuery{Tag: "vip", PageToken: first + "AA"}, malformedToken},
		{"padded", ListCustomersQuery{Tag: "vip", PageToken: first + "="}, malformedToken},
		{"no cursor", ListCustomersQuery{Tag: "vip", PageToken: b64(`{"a":"","t":"vip"}`)}, malformedToken},
		{"bad cursor id", ListCustomersQuery{Tag: "vip", PageToken: sealedToken(vipFilter, "a' OR 1=1")}, malformedToken},
		{"wrong type", ListCustomersQuery{Tag: "vip", PageToken: b64(`{"a":1,"t":"vip"}`)}, malformedToken},
		{"other tag", ListCustomersQuery{Tag: "new", PageToken: first}, filtersToken},
		{"tag dropped", ListCustomersQuery{PageToken: first}, filtersToken},
		{"updated_after added", ListCustomersQuery{Tag: "vip", UpdatedAfter: since, PageToken: first}, filtersToken},
		{"updated_after edited", ListCustomersQuery{Tag: "vip", UpdatedAfter: since,
			PageToken: firstPage(ListCustomersQuery{Tag: "vip", UpdatedAfter: since.Add(time.Second)})}, filtersToken},
		{"updated_after kept, in another zone", ListCustomersQuery{Tag: "vip", UpdatedAfter: since.In(time.FixedZone("CET", 3600)),
			PageToken: firstPage(ListCustomersQuery{Tag: "vip", UpdatedAfter: since})}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := svc.ListCustomers(ctx, tt.q)
			if tt.wantErr == "" {
				if err != nil || len(page.Customers) == 0 || page.Customers[0].ID != "b" {
					t.Fatalf("got %v, %v; want the page starting at b", page.Customers, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidPageToken) || err.Error() != tt.wantErr {
				t.Fatalf("got %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestEventPageTokens(t *testing.T) {
	ctx := context.Background()
	store := &pagingStore{
		customers: []Customer{{ID: "a"}, {ID: "b"}},
		events:    []Event{{ID: "1", CustomerID: "a", Sequence: 1}, {ID: "2", CustomerID: "a", Sequence: 2}, {ID: "3", CustomerID: "b", Sequence: 3}},
	}
	svc := NewService(store, nil)
	first, err := svc.ListCustomerEvents(ctx, "a", 1, "")
	if err != nil {
		t.Fatal(err)
	}
	customers, err := svc.ListCustomers(ctx, ListCustomersQuery{PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	eventsOfA := paging.For("ListCustomerEvents").With("parent", "a")
	tests := []struct {
		name, id, token, wantErr string
	}{
		{"issued", "a", first.NextPageToken, ""},
		{"other customer", "b", first.NextPageToken, parentToken},
		{"a ListCustomers token", "a", customers.NextPageToken, parentToken},
		{"zero sequence", "a", b64(`{"c":"a","s":0}`), malformedToken},
		{"negative sequence", "a", b64(`{"c":"a","s":-5}`), malformedToken},
		{"sealed zero sequence", "a", sealedToken(eventsOfA, "0"), malformedToken},
		{"sealed negative sequence", "a", sealedToken(eventsOfA, "-5"), malformedToken},
		{"sealed non-number", "a", sealedToken(eventsOfA, "1e3"), malformedToken},
		{"unknown field", "a", b64(`{"c":"a","s":1,"z":true}`), malformedToken},
		{"bad customer id", "a", b64(`{"c":"a b","s":1}`), malformedToken},
		{"not base64", "a", "%%%", malformedToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := svc.ListCustomerEvents(ctx, tt.id, 1, tt.token)
			if tt.wantErr == "" {
				if err != nil || len(page.Events) != 1 || page.Events[0].ID != "2" {
					t.Fatalf("got %v, %v; want event 2", page.Events, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidPageToken) || err.Error() != tt.wantErr {
				t.Fatalf("got %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestNegativePageSize(t *testing.T) {
	ctx := context.Background()
	svc := NewService(&pagingStore{customers: []Customer{{ID: "a"}}}, nil)
	_, err := svc.ListCustomers(ctx, ListCustomersQuery{PageSize: -1})
	want := "profile: invalid argument: page_size must not be negative, got -1; omit it or send 0 for the default of 50, or a number up to 1000"
	if !errors.Is(err, fielderr.ErrInvalidArgument) || err == nil || err.Error() != want {
		t.Errorf("ListCustomers(page_size -1) = %v, want %q", err, want)
	}
	_, err = svc.ListCustomerEvents(ctx, "a", -2, "")
	want = "profile: invalid argument: page_size must not be negative, got -2; omit it or send 0 for the default of 100, or a number up to 1000"
	if !errors.Is(err, fielderr.ErrInvalidArgument) || err == nil || err.Error() != want {
		t.Errorf("ListCustomerEvents(page_size -2) = %v, want %q", err, want)
	}
}

func TestRecordEventsBatchResult(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	view := func(id string) Event {
		return Event{ID: id, CustomerID: "c", OccurredAt: now.Add(-time.Hour), Payload: ProductViewed{SKU: "s"}}
	}
	conversion := &ValidationError{Index: -1, Path: "occurred_at", Message: "invalid timestamp", Err: ErrInvalidEvent}
	batch := []Submission{
		{Event: view("e1")},
		{Event: view("e2"), Rejected: conversion},
		{Event: view("e1")},                                        // repeats e1 within the batch
		{Event: Event{ID: "e3", CustomerID: "c", OccurredAt: now}}, // no payload
		{Event: view("e4")},                                        // already in the log
		{Event: view("e5")},
	}
	store := &pagingStore{appended: []AppendResult{{Sequence: 7}, {Duplicate: true}, {Sequence: 8}}}
	svc := NewService(store, func() time.Time { return now })
	got, err := svc.RecordEvents(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		outcome EventOutcome
		seq     int64
		path    string
	}{
		{OutcomeAccepted, 7, ""},
		{OutcomeRejected, 0, "occurred_at"},
		{OutcomeDuplicate, 0, ""},
		{OutcomeRejected, 0, "payload"},
		{OutcomeDuplicate, 0, ""},
		{OutcomeAccepted, 8, ""},
	}
	if len(got.Results) != len(want) {
		t.Fatalf("got %d results, want %d", len(got.Results), len(want))
	}
	for i, w := range want {
		r := got.Results[i]
		if r.Index != i || r.EventID != batch[i].Event.ID || r.Outcome != w.outcome || r.Sequence != w.seq {
			t.Errorf("results[%d] = %+v, want index %d, event %s, outcome %d, sequence %d", i, r, i, batch[i].Event.ID, w.outcome, w.seq)
		}
		if w.path == "" {
			if r.Err != nil {
				t.Errorf("results[%d].Err = %v, want nil", i, r.Err)
			}
			continue
		}
		if r.Err == nil || r.Err.Path != w.path || r.Err.Index != i || r.Err.EventID != batch[i].Event.ID {
			t.Errorf("results[%d].Err = %+v, want path %s at index %d", i, r.Err, w.path, i)
		}
	}
	if got.Accepted != 2 || got.Duplicates != 2 || got.Rejected != 2 {
		t.Errorf("counts = %d accepted, %d duplicates, %d rejected; want 2, 2, 2", got.Accepted, got.Duplicates, got.Rejected)
	}
	if conversion.Index != -1 {
		t.Errorf("the caller's rejection was modified: index %d", conversion.Index)
	}
}

func TestRecordEventsBatchSize(t *testing.T) {
	svc := NewService(&pagingStore{}, nil)
	tests := []struct {
		n        int
		sentinel error
		want     string
	}{
		{0, ErrEmptyBatch, "profile: empty batch: events: send 1 to 1000 events"},
		{MaxBatchSize + 1, ErrBatchTooLarge, "profile: batch too large: events: send 1 to 1000 events, got 1001; split the batch"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.n), func(t *testing.T) {
			_, err := svc.RecordEvents(context.Background(), make([]Submission, tt.n))
			if !errors.Is(err, tt.sentinel) || err.Error() != tt.want {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}

// Every sentinel says what to do about it, or is always wrapped with a
// field and a fix. None repeats the package prefix.
func TestSentinelMessages(t *testing.T) {
	for _, err := range []error{
		ErrCustomerNotFound, ErrCustomerAlreadyExists, ErrInvalidCustomer, ErrInvalidEvent, ErrETagMismatch,
		ErrCustomerHasEvents, ErrCustomerErased, ErrBatchTooLarge, ErrEmptyBatch, ErrInvalidPageToken,
	} {
		msg := err.Error()
		if !strings.HasPrefix(msg, "profile: ") || strings.Count(msg, "profile:") != 1 {
			t.Errorf("%q: want one %q prefix", msg, "profile: ")
		}
	}
}
