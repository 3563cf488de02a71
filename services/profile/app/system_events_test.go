package app_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// logEntry is what a test expects of one streamed event.
type logEntry struct {
	customer string
	kind     string   // "updated", "deleted" or "order"
	tags     []string // of customer_updated
}

func kindOf(e *profilev1.Event) string {
	switch {
	case e.GetCustomerUpdated() != nil:
		return "updated"
	case e.GetCustomerDeleted() != nil:
		return "deleted"
	case e.GetOrderPlaced() != nil:
		return "order"
	}
	return "other"
}

// readLog streams the whole log once and returns the first n responses.
func readLog(ctx context.Context, t *testing.T, cli profilev1.ProfileServiceClient, features bool, n int) []*profilev1.StreamEventsResponse {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := cli.StreamEvents(ctx, &profilev1.StreamEventsRequest{IncludeFeatures: features})
	if err != nil {
		t.Fatal(err)
	}
	var out []*profilev1.StreamEventsResponse
	for range n {
		msg, err := stream.Recv()
		if err != nil {
			t.Fatalf("recv event %d: %v", len(out)+1, err)
		}
		out = append(out, msg)
	}
	return out
}

func TestCustomerChangeEvents(t *testing.T) {
	sqlstoretest.EnginesDSN(t, func(t *testing.T, db *sqlstore.DB, dsn string) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cli := serve(t, dsn)
		must := func(_ any, err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		name := "customers/c-1"

		created, err := cli.CreateCustomer(ctx, &profilev1.CreateCustomerRequest{CustomerId: "c-1",
			Customer: &profilev1.Customer{FullName: "Ann", Tags: []string{"b", "a"}}})
		if err != nil {
			t.Fatal(err)
		}
		rename := &profilev1.UpdateCustomerRequest{Customer: &profilev1.Customer{Name: name, FullName: "Ann Lee"},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"full_name"}}}
		must(cli.UpdateCustomer(ctx, rename))
		must(cli.UpdateCustomer(ctx, rename)) // no change: no event
		must(cli.AddCustomerTags(ctx, &profilev1.AddCustomerTagsRequest{Name: name, Tags: []string{"c"}}))
		must(cli.AddCustomerTags(ctx, &profilev1.AddCustomerTagsRequest{Name: name, Tags: []string{"a"}}))       // has it: no event
		must(cli.RemoveCustomerTags(ctx, &profilev1.RemoveCustomerTagsRequest{Name: name, Tags: []string{"z"}})) // absent: no event
		must(cli.RemoveCustomerTags(ctx, &profilev1.RemoveCustomerTagsRequest{Name: name, Tags: []string{"a"}}))
		must(cli.RecordEvent(ctx, &profilev1.RecordEventRequest{
			Event: orderEvent("o-1", "c-1", time.Now().Add(-time.Hour), "web", line("books", 1, 700))}))
		// A customer with only customer_updated events can be deleted.
		must(cli.CreateCustomer(ctx, &profilev1.CreateCustomerRequest{CustomerId: "c-2", Customer: &profilev1.Customer{Tags: []string{"x"}}}))
		must(cli.DeleteCustomer(ctx, &profilev1.DeleteCustomerRequest{Name: "customers/c-2"}))
		_, err = cli.GetCustomer(ctx, &profilev1.GetCustomerRequest{Name: "customers/c-2"})
		wantErr(t, err, codes.NotFound, "CUSTOMER_NOT_FOUND", "")
		// One with activity cannot.
		_, err = cli.DeleteCustomer(ctx, &profilev1.DeleteCustomerRequest{Name: name})
		wantErr(t, err, codes.FailedPrecondition, "CUSTOMER_HAS_EVENTS", "")

		want := []logEntry{
			{"c-1", "updated", []string{"a", "b"}},
			{"c-1", "updated", []string{"a", "b"}},
			{"c-1", "updated", []string{"a", "b", "c"}},
			{"c-1", "updated", []string{"b", "c"}},
			{"c-1", "order", nil},
			{"c-2", "updated", []string{"x"}},
			{"c-2", "deleted", nil},
		}
		log := readLog(ctx, t, cli, true, len(want))
		for i, msg := range log {
			e, w := msg.GetEvent(), want[i]
			if e.GetCustomerId() != w.customer || kindOf(e) != w.kind || !slices.Equal(e.GetCustomerUpdated().GetTags(), w.tags) {
				t.Fatalf("event %d = %v, want %+v", i, e, w)
			}
			if w.kind != "order" && !strings.HasPrefix(e.GetEventId(), "tenure:customer_"+w.kind+":"+w.customer+":") {
				t.Errorf("event %d id = %q", i, e.GetEventId())
			}
			if i > 0 && e.GetSequence() <= log[i-1].GetEvent().GetSequence() {
				t.Errorf("event %d: sequence %d not above %d", i, e.GetSequence(), log[i-1].GetEvent().GetSequence())
			}
			// Features are the customer's current ones, whatever the
			// event; none for a customer that is gone.
			switch f := msg.GetFeatures(); w.customer {
			case "c-1":
				if f.GetOrderCount() != 1 || f.GetNetSpend().GetAmountMinor() != 700 || f.GetEventCount() != 1 {
					t.Errorf("event %d: features = %v, want c-1's current ones", i, f)
				}
			case "c-2":
				if f != nil {
					t.Errorf("event %d: features = %v, want none for a deleted customer", i, f)
				}
			}
		}
		// The creation event occurred when the customer was created.
		if got, want := log[0].GetEvent().GetOccurredAt().AsTime(), created.GetCustomer().GetCreateTime().AsTime(); !got.Equal(want) {
			t.Errorf("customer_updated occurred_at = %v, want %v", got, want)
		}
		// Without include_features, none are sent.
		for i, msg := range readLog(ctx, t, cli, false, len(want)) {
			if msg.GetFeatures() != nil {
				t.Fatalf("event %d: features sent without include_features", i)
			}
		}

		// Completing a provisional customer is recorded too.
		must(cli.RecordEvent(ctx, &profilev1.RecordEventRequest{Event: viewEvent("v-1", "p-1", time.Now().Add(-time.Hour))}))
		must(cli.CreateCustomer(ctx, &profilev1.CreateCustomerRequest{CustomerId: "p-1", Customer: &profilev1.Customer{Tags: []string{"new"}}}))
		log = readLog(ctx, t, cli, true, len(want)+2)
		last := log[len(log)-1]
		if e := last.GetEvent(); e.GetCustomerId() != "p-1" || !slices.Equal(e.GetCustomerUpdated().GetTags(), []string{"new"}) ||
			last.GetFeatures().GetEventCount() != 1 {
			t.Fatalf("completion event = %v", last)
		}
	})
}

func TestSystemEventsRejected(t *testing.T) {
	sqlstoretest.EnginesDSN(t, func(t *testing.T, db *sqlstore.DB, dsn string) {
		ctx := context.Background()
		cli := serve(t, dsn)
		at := timestamppb.New(time.Now().Add(-time.Hour))
		tests := []struct {
			field string
			event *profilev1.Event
		}{
			{"customer_updated", &profilev1.Event{EventId: "u-1", CustomerId: "c-1", OccurredAt: at,
				Payload: &profilev1.Event_CustomerUpdated{CustomerUpdated: &profilev1.CustomerUpdated{Tags: []string{"vip"}}}}},
			{"customer_deleted", &profilev1.Event{EventId: "d-1", CustomerId: "c-1", OccurredAt: at,
				Payload: &profilev1.Event_CustomerDeleted{CustomerDeleted: &profilev1.CustomerDeleted{}}}},
			{"customer_erased", &profilev1.Event{EventId: "x-1", CustomerId: "c-1", OccurredAt: at,
				Payload: &profilev1.Event_CustomerErased{CustomerErased: &profilev1.CustomerErased{AnonymousId: "a"}}}},
		}
		for _, tt := range tests {
			t.Run(tt.field, func(t *testing.T) {
				_, err := cli.RecordEvent(ctx, &profilev1.RecordEventRequest{Event: tt.event})
				wantErr(t, err, codes.InvalidArgument, "INVALID_EVENT", "event."+tt.field)

				resp, err := cli.BatchRecordEvents(ctx, &profilev1.BatchRecordEventsRequest{Events: []*profilev1.Event{tt.event}})
				if err != nil {
					t.Fatal(err)
				}
				r := resp.GetResults()[0]
				if r.GetOutcome() != profilev1.EventOutcome_EVENT_OUTCOME_REJECTED || r.GetField() != tt.field || r.GetReason() != "INVALID_EVENT" {
					t.Fatalf("batch result = %v, want rejected on %s", r, tt.field)
				}
			})
		}
		// Nothing reached the log, and no customer was created.
		_, err := cli.GetCustomer(ctx, &profilev1.GetCustomerRequest{Name: "customers/c-1"})
		wantErr(t, err, codes.NotFound, "CUSTOMER_NOT_FOUND", "")
	})
}

// TestCustomerUpdatedCarriesBirthdayAndTimeZone checks that the log gives
// consumers (loyalty's birthday points and check-in days) the customer's
// birthday and time zone after each change, and that erasure removes them.
func TestCustomerUpdatedCarriesBirthdayAndTimeZone(t *testing.T) {
	sqlstoretest.EnginesDSN(t, func(t *testing.T, db *sqlstore.DB, dsn string) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cli := serve(t, dsn)
		name := "customers/b-1"
		if _, err := cli.CreateCustomer(ctx, &profilev1.CreateCustomerRequest{CustomerId: "b-1",
			Customer: &profilev1.Customer{Birthday: "1990-02-28", TimeZone: "Europe/London"}}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []*profilev1.Customer{
			{Name: name, Birthday: "1992-02-29"},
			{Name: name, TimeZone: "Asia/Tokyo"},
		} {
			path := "birthday"
			if c.GetTimeZone() != "" {
				path = "time_zone"
			}
			if _, err := cli.UpdateCustomer(ctx, &profilev1.UpdateCustomerRequest{Customer: c,
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{path}}}); err != nil {
				t.Fatal(err)
			}
		}
		want := [][2]string{{"1990-02-28", "Europe/London"}, {"1992-02-29", "Europe/London"}, {"1992-02-29", "Asia/Tokyo"}}
		for i, msg := range readLog(ctx, t, cli, false, len(want)) {
			u := msg.GetEvent().GetCustomerUpdated()
			if got := [2]string{u.GetBirthday(), u.GetTimeZone()}; got != want[i] {
				t.Errorf("event %d: birthday, time zone = %v, want %v", i, got, want[i])
			}
		}
		er, err := cli.EraseCustomer(ctx, &profilev1.EraseCustomerRequest{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		anon, err := cli.ExportCustomer(ctx, &profilev1.ExportCustomerRequest{Name: "customers/" + er.GetAnonymousId()})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range anon.GetEvents() {
			if u := e.GetCustomerUpdated(); u.GetBirthday() != "" || u.GetTimeZone() != "" {
				t.Errorf("erased event %s still carries %q, %q", e.GetEventId(), u.GetBirthday(), u.GetTimeZone())
			}
		}
	})
}
