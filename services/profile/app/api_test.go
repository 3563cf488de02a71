package app_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	typev1 "github.com/tenurehq/tenure/gen/tenure/type/v1"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func gbp(minor int64) *typev1.Money { return &typev1.Money{CurrencyCode: "GBP", AmountMinor: minor} }

func orderEvent(id, customer string, at time.Time, channel string, lines ...*profilev1.OrderLine) *profilev1.Event {
	return &profilev1.Event{
		EventId: id, CustomerId: customer, OccurredAt: timestamppb.New(at),
		Payload: &profilev1.Event_OrderPlaced{OrderPlaced: &profilev1.OrderPlaced{OrderId: "o-" + id, Lines: lines, Channel: channel}},
	}
}

func refundEvent(id, customer string, at time.Time, minor int64) *profilev1.Event {
	return &profilev1.Event{
		EventId: id, CustomerId: customer, OccurredAt: timestamppb.New(at),
		Payload: &profilev1.Event_OrderRefunded{OrderRefunded: &profilev1.OrderRefunded{Amount: gbp(minor)}},
	}
}

func viewEvent(id, customer string, at time.Time) *profilev1.Event {
	return &profilev1.Event{
		EventId: id, CustomerId: customer, OccurredAt: timestamppb.New(at),
		Payload: &profilev1.Event_ProductViewed{ProductViewed: &profilev1.ProductViewed{Sku: "s1"}},
	}
}

func line(cat string, qty, price int64) *profilev1.OrderLine {
	return &profilev1.OrderLine{Sku: "sku-" + cat, Category: cat, Quantity: qty, UnitPrice: gbp(price)}
}

// errInfo returns the code, ErrorInfo reason and first BadRequest field of err.
func errInfo(t *testing.T, err error) (codes.Code, string, string) {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok {
		t.Fatalf("not a status error: %v", err)
	}
	var reason, field string
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			reason = d.GetReason()
			if d.GetDomain() != "profile.tenure.dev" {
				t.Errorf("ErrorInfo domain = %q, want profile.tenure.dev", d.GetDomain())
			}
		case *errdetails.BadRequest:
			if len(d.GetFieldViolations()) > 0 {
				field = d.GetFieldViolations()[0].GetField()
			}
		}
	}
	return st.Code(), reason, field
}

func wantErr(t *testing.T, err error, code codes.Code, reason, field string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got nil error, want %v %s", code, reason)
	}
	c, r, f := errInfo(t, err)
	if c != code || r != reason || f != field {
		t.Fatalf("got %v %s field %q (%v), want %v %s field %q", c, r, f, err, code, reason, field)
	}
}

// wantMessage fails unless err's status message is want: every message
// must read once, with no sentinel prefix repeated.
func wantMessage(t *testing.T, err error, want string) {
	t.Helper()
	if got := status.Convert(err).Message(); got != want {
		t.Fatalf("message = %q, want %q", got, want)
	}
}

// TestCustomers walks one customer's life cycle through the API on each
// engine; it is long because each step works on the state the steps before
// it left.
func TestCustomers(t *testing.T) {
	sqlstoretest.EnginesDSN(t, func(t *testing.T, db *sqlstore.DB, dsn string) {
		ctx := context.Background()
		cli := serve(t, dsn)

		create := &profilev1.CreateCustomerRequest{
			CustomerId: "c-1",
			Customer: &profilev1.Customer{
				FullName: "Ada Lovelace", Email: "ada@example.com", Phone: "+447700900123", Birthday: "1990-12-10",
				TimeZone: "Europe/London", Country: "GB", RegistrationChannel: "web",
				Consent: &profilev1.Consent{Email: profilev1.ConsentState_CONSENT_STATE_GRANTED},
				Tags:    []string{"vip", "newsletter", "vip"},
			},
			RequestId: "req-create-1",
		}
		first, err := cli.CreateCustomer(ctx, create)
		if err != nil {
			t.Fatal(err)
		}
		c := first.GetCustomer()
		if c.GetName() != "customers/c-1" || c.GetState() != profilev1.CustomerState_CUSTOMER_STATE_ACTIVE ||
			!slices.Equal(c.GetTags(), []string{"newsletter", "vip"}) || c.GetEtag() == "" {
			t.Fatalf("created customer = %v", c)
		}

		// Same request id: the stored first result comes back.
		again, err := cli.CreateCustomer(ctx, create)
		if err != nil {
			t.Fatalf("idempotent retry: %v", err)
		}
		if !proto.Equal(again, first) {
			t.Fatalf("retry returned %v, want %v", again, first)
		}
		// A new request id for the same customer conflicts.
		dup := proto.Clone(create).(*profilev1.CreateCustomerRequest)
		dup.RequestId = "req-create-2"
		_, err = cli.CreateCustomer(ctx, dup)
		wantErr(t, err, codes.AlreadyExists, "CUSTOMER_ALREADY_EXISTS", "")
		wantMessage(t, err, "profile: customer already exists; update it, or create the new one under another customer_id (customer c-1)")

		// Validation names the field.
		_, err = cli.CreateCustomer(ctx, &profilev1.CreateCustomerRequest{CustomerId: "c-bad", Customer: &profilev1.Customer{Email: "nope"}})
		wantErr(t, err, codes.InvalidArgument, "INVALID_CUSTOMER", "customer.email")
		_, err = cli.CreateCustomer(ctx, &profilev1.CreateCustomerRequest{CustomerId: "bad id", Customer: &profilev1.Customer{}})
		wantErr(t, err, codes.InvalidArgument, "INVALID_CUSTOMER", "customer_id")

		got, err := cli.GetCustomer(ctx, &profilev1.GetCustomerRequest{Name: "customers/c-1"})
		if err != nil {
			t.Fatal(err)
		}
		if got.GetCustomer().GetEmail() != "ada@example.com" {
			t.Fatalf("get = %v", got.GetCustomer())
		}
		_, err = cli.GetCustomer(ctx, &profilev1.GetCustomerRequest{Name: "customers/missing"})
		wantErr(t, err, codes.NotFound, "CUSTOMER_NOT_FOUND", "")
		_, err = cli.GetCustomer(ctx, &profilev1.GetCustomerRequest{Name: "users/c-1"})
		wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "name")
		wantMessage(t, err, `profile: invalid argument: name: must be "customers/" followed by a customer id, got "users/c-1"`)
		_, err = cli.GetCustomer(ctx, &profilev1.GetCustomerRequest{Name: "customers/c 1"})
		wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "name")
		wantMessage(t, err, `profile: invalid argument: name: customer id character ' ' not allowed; use letters, digits and -_.:@`)

		// List: paging, tag filter, updated_after.
		for i := 2; i <= 5; i++ {
			req := &profilev1.CreateCustomerRequest{CustomerId: fmt.Sprintf("c-%d", i), Customer: &profilev1.Customer{}}
			if i%2 == 0 {
				req.Customer.Tags = []string{"even"}
			}
			if _, err := cli.CreateCustomer(ctx, req); err != nil {
				t.Fatal(err)
			}
		}
		var ids []string
		token := ""
		for pages := 0; ; pages++ {
			resp, err := cli.ListCustomers(ctx, &profilev1.ListCustomersRequest{PageSize: 2, PageToken: token})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range resp.GetCustomers() {
				ids = append(ids, c.GetCustomerId())
			}
			token = resp.GetNextPageToken()
			if token == "" {
				if pages != 2 {
					t.Fatalf("got %d pages, want 3", pages+1)
				}
				break
			}
		}
		if !slices.Equal(ids, []string{"c-1", "c-2", "c-3", "c-4", "c-5"}) {
			t.Fatalf("listed %v", ids)
		}
		tagged, err := cli.ListCustomers(ctx, &profilev1.ListCustomersRequest{Tag: "even"})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(tagged.GetCustomers()); n != 2 {
			t.Fatalf("tag even: %d customers, want 2", n)
		}
		_, err = cli.ListCustomers(ctx, &profilev1.ListCustomersRequest{PageToken: "garbage"})
		wantErr(t, err, codes.InvalidArgument, "INVALID_PAGE_TOKEN", "page_token")
		wantMessage(t, err, "profile: invalid page token: page_token is not one this service issued; pass next_page_token unchanged, or omit it for the first page")
		evenPage, err := cli.ListCustomers(ctx, &profilev1.ListCustomersRequest{Tag: "even", PageSize: 1})
		if err != nil || evenPage.GetNextPageToken() == "" {
			t.Fatalf("tag even, page size 1: %v, next_page_token %q", err, evenPage.GetNextPageToken())
		}
		_, err = cli.ListCustomers(ctx, &profilev1.ListCustomersRequest{PageToken: evenPage.GetNextPageToken()})
		wantErr(t, err, codes.InvalidArgument, "INVALID_PAGE_TOKEN", "page_token")
		wantMessage(t, err, "profile: invalid page token: page_token does not match the request's filters; send the tag and updated_after of the request that returned it")

		// Update with a mask, then list by updated_after.
		c1 := got.GetCustomer()
		upd, err := cli.UpdateCustomer(ctx, &profilev1.UpdateCustomerRequest{
			Customer:   &profilev1.Customer{Name: "customers/c-1", Email: "ada@lovelace.dev", FullName: "ignored", Etag: c1.GetEtag()},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"email", "consent.sms"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		u := upd.GetCustomer()
		if u.GetEmail() != "ada@lovelace.dev" || u.GetFullName() != "Ada Lovelace" || u.GetEtag() == c1.GetEtag() ||
			u.GetConsent().GetEmail() != profilev1.ConsentState_CONSENT_STATE_GRANTED {
			t.Fatalf("updated = %v", u)
		}
		since, err := cli.ListCustomers(ctx, &profilev1.ListCustomersRequest{UpdatedAfter: u.GetUpdateTime()})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(since.GetCustomers()); n != 1 || since.GetCustomers()[0].GetCustomerId() != "c-1" {
			t.Fatalf("updated_after: %v, want only c-1", since.GetCustomers())
		}
		_, err = cli.UpdateCustomer(ctx, &profilev1.UpdateCustomerRequest{
			Customer:   &profilev1.Customer{Name: "customers/c-1", Email: "x@example.com", Etag: c1.GetEtag()},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"email"}},
		})
		wantErr(t, err, codes.Aborted, "ETAG_MISMATCH", "")
		wantMessage(t, err, "profile: etag mismatch: the customer changed since the etag was read; read it again and retry")
		_, err = cli.UpdateCustomer(ctx, &profilev1.UpdateCustomerRequest{
			Customer: &profilev1.Customer{Name: "customers/c-1"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"nickname"}},
		})
		wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "update_mask")
		wantMessage(t, err, `profile: invalid argument: update_mask: unknown path "nickname"`)
		_, err = cli.UpdateCustomer(ctx, &profilev1.UpdateCustomerRequest{
			Customer: &profilev1.Customer{Name: "customers/c!1"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"email"}},
		})
		wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "customer.name")
		wantMessage(t, err, `profile: invalid argument: customer.name: customer id character '!' not allowed; use letters, digits and -_.:@`)
		_, err = cli.UpdateCustomer(ctx, &profilev1.UpdateCustomerRequest{
			Customer: &profilev1.Customer{Name: "customers/c-1"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"features"}},
		})
		wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "update_mask")
		_, err = cli.UpdateCustomer(ctx, &profilev1.UpdateCustomerRequest{
			Customer: &profilev1.Customer{Name: "customers/c-1", Phone: "0770"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"*"}},
		})
		wantErr(t, err, codes.InvalidArgument, "INVALID_CUSTOMER", "customer.phone")

		// Tags.
		tags, err := cli.AddCustomerTags(ctx, &profilev1.AddCustomerTagsRequest{Name: "customers/c-1", Tags: []string{"b2b", "vip"}})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(tags.GetCustomer().GetTags(), []string{"b2b", "newsletter", "vip"}) {
			t.Fatalf("tags = %v", tags.GetCustomer().GetTags())
		}
		rm, err := cli.RemoveCustomerTags(ctx, &profilev1.RemoveCustomerTagsRequest{Name: "customers/c-1", Tags: []string{"vip", "absent"}})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(rm.GetCustomer().GetTags(), []string{"b2b", "newsletter"}) {
			t.Fatalf("tags = %v", rm.GetCustomer().GetTags())
		}

		// Delete with a stale etag fails, with the current one succeeds.
		_, err = cli.DeleteCustomer(ctx, &profilev1.DeleteCustomerRequest{Name: "customers/c-1", Etag: c1.GetEtag()})
		wantErr(t, err, codes.Aborted, "ETAG_MISMATCH", "")
		if _, err := cli.DeleteCustomer(ctx, &profilev1.DeleteCustomerRequest{Name: "customers/c-1", Etag: rm.GetCustomer().GetEtag()}); err != nil {
			t.Fatal(err)
		}
		_, err = cli.GetCustomer(ctx, &profilev1.GetCustomerRequest{Name: "customers/c-1"})
		wantErr(t, err, codes.NotFound, "CUSTOMER_NOT_FOUND", "")
	})
}
