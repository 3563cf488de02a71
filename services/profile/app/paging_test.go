package app_test

import (
	"context"
	"testing"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"google.golang.org/grpc/codes"
)

// Every List method checks page_size and binds its page tokens to the
// request that returned them, through the real server: a token reused for
// another customer, or on another List method, is INVALID_ARGUMENT with
// reason INVALID_PAGE_TOKEN naming page_token.
func TestListPaging(t *testing.T) {
	sqlstoretest.EnginesDSN(t, func(t *testing.T, db *sqlstore.DB, dsn string) {
		ctx := context.Background()
		cli := serve(t, dsn)
		at := time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)
		for _, id := range []string{"pg-1", "pg-2"} {
			if _, err := cli.CreateCustomer(ctx, &profilev1.CreateCustomerRequest{CustomerId: id, Customer: &profilev1.Customer{}}); err != nil {
				t.Fatal(err)
			}
			for _, ev := range []string{id + "-a", id + "-b"} {
				if _, err := cli.RecordEvent(ctx, &profilev1.RecordEventRequest{Event: viewEvent(ev, id, at)}); err != nil {
					t.Fatal(err)
				}
			}
		}
		events, err := cli.ListCustomerEvents(ctx, &profilev1.ListCustomerEventsRequest{Parent: "customers/pg-1", PageSize: 1})
		if err != nil || events.GetNextPageToken() == "" {
			t.Fatalf("first page of pg-1's events: %v, next_page_token %q", err, events.GetNextPageToken())
		}
		next, err := cli.ListCustomerEvents(ctx, &profilev1.ListCustomerEventsRequest{Parent: "customers/pg-1", PageSize: 1, PageToken: events.GetNextPageToken()})
		if err != nil || len(next.GetEvents()) != 1 || next.GetEvents()[0].GetSequence() <= events.GetEvents()[0].GetSequence() ||
			next.GetEvents()[0].GetCustomerId() != "pg-1" {
			t.Fatalf("second page of pg-1's events: %v, %v; want the pg-1 event after %v", next.GetEvents(), err, events.GetEvents())
		}

		_, err = cli.ListCustomerEvents(ctx, &profilev1.ListCustomerEventsRequest{Parent: "customers/pg-2", PageToken: events.GetNextPageToken()})
		wantErr(t, err, codes.InvalidArgument, "INVALID_PAGE_TOKEN", "page_token")
		wantMessage(t, err, "profile: invalid page token: page_token does not match the request's filters; send the parent of the request that returned it")

		customers, err := cli.ListCustomers(ctx, &profilev1.ListCustomersRequest{PageSize: 1})
		if err != nil || customers.GetNextPageToken() == "" {
			t.Fatalf("first page of customers: %v, next_page_token %q", err, customers.GetNextPageToken())
		}
		_, err = cli.ListCustomerEvents(ctx, &profilev1.ListCustomerEventsRequest{Parent: "customers/pg-1", PageToken: customers.GetNextPageToken()})
		wantErr(t, err, codes.InvalidArgument, "INVALID_PAGE_TOKEN", "page_token")
		_, err = cli.ListCustomers(ctx, &profilev1.ListCustomersRequest{PageToken: events.GetNextPageToken()})
		wantErr(t, err, codes.InvalidArgument, "INVALID_PAGE_TOKEN", "page_token")

		_, err = cli.ListCustomers(ctx, &profilev1.ListCustomersRequest{PageSize: -1})
		wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "page_size")
		wantMessage(t, err, "profile: invalid argument: page_size must not be negative, got -1; omit it or send 0 for the default of 50, or a number up to 1000")
		_, err = cli.ListCustomerEvents(ctx, &profilev1.ListCustomerEventsRequest{Parent: "customers/pg-1", PageSize: -1})
		wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "page_size")
		wantMessage(t, err, "profile: invalid argument: page_size must not be negative, got -1; omit it or send 0 for the default of 100, or a number up to 1000")
	})
}
