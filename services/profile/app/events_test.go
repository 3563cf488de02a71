package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// TestEventsAndFeatures records events through the API on each engine and
// checks the features they add up to; it is long because each step works on
// the state the steps before it left.
func TestEventsAndFeatures(t *testing.T) {
	sqlstoretest.EnginesDSN(t, func(t *testing.T, db *sqlstore.DB, dsn string) {
		ctx := context.Background()
		cli := serve(t, dsn)
		base := time.Now().UTC().Truncate(time.Second)
		day := func(d int) time.Time { return base.AddDate(0, 0, d-30) }

		// An event for an unknown customer creates a provisional one.
		first := orderEvent("ev-1", "p-1", day(5), "app", &profilev1.OrderLine{
			Sku: "t", Category: "toys", Quantity: 1, UnitPrice: gbp(400), Discount: gbp(100),
		})
		rec, err := cli.RecordEvent(ctx, &profilev1.RecordEventRequest{Event: first})
		if err != nil {
			t.Fatal(err)
		}
		if r := rec.GetResult(); r.GetOutcome() != profilev1.EventOutcome_EVENT_OUTCOME_ACCEPTED || r.GetSequence() <= 0 {
			t.Fatalf("result = %v", r)
		}
		prov, err := cli.GetCustomer(ctx, &profilev1.GetCustomerRequest{Name: "customers/p-1"})
		if err != nil {
			t.Fatal(err)
		}
		if prov.GetCustomer().GetState() != profilev1.CustomerState_CUSTOMER_STATE_PROVISIONAL || prov.GetCustomer().GetFeatures().GetOrderCount() != 1 {
			t.Fatalf("provisional customer = %v", prov.GetCustomer())
		}
		// CreateCustomer completes it and keeps its features.
		created, err := cli.CreateCustomer(ctx, &profilev1.CreateCustomerRequest{CustomerId: "p-1", Customer: &profilev1.Customer{FullName: "Pat"}})
		if err != nil {
			t.Fatal(err)
		}
		if c := created.GetCustomer(); c.GetState() != profilev1.CustomerState_CUSTOMER_STATE_ACTIVE || c.GetFullName() != "Pat" || c.GetFeatures().GetOrderCount() != 1 {
			t.Fatalf("completed customer = %v", c)
		}

		// A duplicate single event succeeds as DUPLICATE.
		rec, err = cli.RecordEvent(ctx, &profilev1.RecordEventRequest{Event: first})
		if err != nil {
			t.Fatal(err)
		}
		if rec.GetResult().GetOutcome() != profilev1.EventOutcome_EVENT_OUTCOME_DUPLICATE {
			t.Fatalf("duplicate result = %v", rec.GetResult())
		}
		// An invalid single event fails naming the field.
		_, err = cli.RecordEvent(ctx, &profilev1.RecordEventRequest{Event: orderEvent("ev-bad", "p-1", day(1), "web", line("x", -2, 100))})
		wantErr(t, err, codes.InvalidArgument, "INVALID_EVENT", "event.order_placed.lines[0].quantity")
		_, err = cli.RecordEvent(ctx, &profilev1.RecordEventRequest{Event: &profilev1.Event{EventId: "ev-nt", CustomerId: "p-1",
			Payload: &profilev1.Event_CheckedIn{CheckedIn: &profilev1.CheckedIn{}}}})
		wantErr(t, err, codes.InvalidArgument, "INVALID_EVENT", "event.occurred_at")

		// A mixed batch, sent out of time order.
		erased := &profilev1.Event{EventId: "ev-x", CustomerId: "p-1", OccurredAt: timestamppb.New(day(9)),
			Payload: &profilev1.Event_CustomerErased{CustomerErased: &profilev1.CustomerErased{AnonymousId: "a"}}}
		noTime := viewEvent("ev-nt", "p-1", day(1))
		noTime.OccurredAt = nil
		batch := []*profilev1.Event{
			viewEvent("ev-view", "p-1", day(20)),
			orderEvent("ev-2", "p-1", day(3), "web", line("books", 2, 500)),
			orderEvent("ev-bad", "p-1", day(4), "web", line("books", 0, 500)),
			refundEvent("ev-3", "p-1", day(10), 250),
			orderEvent("ev-2", "p-1", day(3), "web", line("books", 2, 500)),
			first,
			noTime,
			erased,
		}
		resp, err := cli.BatchRecordEvents(ctx, &profilev1.BatchRecordEventsRequest{Events: batch})
		if err != nil {
			t.Fatal(err)
		}
		type want struct {
			outcome profilev1.EventOutcome
			field   string
		}
		acc, dup, rej := profilev1.EventOutcome_EVENT_OUTCOME_ACCEPTED, profilev1.EventOutcome_EVENT_OUTCOME_DUPLICATE, profilev1.EventOutcome_EVENT_OUTCOME_REJECTED
		wants := []want{{acc, ""}, {acc, ""}, {rej, "order_placed.lines[0].quantity"}, {acc, ""}, {dup, ""}, {dup, ""}, {rej, "occurred_at"}, {rej, "customer_erased"}}
		if len(resp.GetResults()) != len(wants) {
			t.Fatalf("%d results, want %d", len(resp.GetResults()), len(wants))
		}
		var lastSeq int64
		for i, r := range resp.GetResults() {
			w := wants[i]
			if int(r.GetIndex()) != i || r.GetEventId() != batch[i].GetEventId() || r.GetOutcome() != w.outcome || r.GetField() != w.field {
				t.Errorf("result %d = %v, want %v field %q", i, r, w.outcome, w.field)
			}
			if w.outcome == rej && (r.GetReason() != "INVALID_EVENT" || r.GetMessage() == "") {
				t.Errorf("result %d: reason %q message %q", i, r.GetReason(), r.GetMessage())
			}
			if w.outcome == acc {
				if r.GetSequence() <= lastSeq {
					t.Errorf("result %d: sequence %d not above %d", i, r.GetSequence(), lastSeq)
				}
				lastSeq = r.GetSequence()
			}
		}
		if resp.GetAcceptedCount() != 3 || resp.GetDuplicateCount() != 2 || resp.GetRejectedCount() != 3 {
			t.Fatalf("counts = %d/%d/%d, want 3/2/3", resp.GetAcceptedCount(), resp.GetDuplicateCount(), resp.GetRejectedCount())
		}

		got, err := cli.GetCustomer(ctx, &profilev1.GetCustomerRequest{Name: "customers/p-1"})
		if err != nil {
			t.Fatal(err)
		}
		f := got.GetCustomer().GetFeatures()
		checks := []struct {
			what      string
			got, want any
		}{
			{"first order", f.GetFirstOrderTime().AsTime(), day(3)},
			{"last order", f.GetLastOrderTime().AsTime(), day(5)},
			{"last activity", f.GetLastActivityTime().AsTime(), day(20)},
			{"orders", f.GetOrderCount(), int64(2)},
			{"refunds", f.GetRefundCount(), int64(1)},
			{"events", f.GetEventCount(), int64(4)},
			{"gross", f.GetGrossSpend().GetAmountMinor(), int64(1300)},
			{"net", f.GetNetSpend().GetAmountMinor(), int64(1050)},
			{"currency", f.GetNetSpend().GetCurrencyCode(), "GBP"},
			{"aov", f.GetAverageOrderValue().GetAmountMinor(), int64(650)},
			{"discount share", f.GetDiscountShare(), 0.5},
			{"channel", f.GetPreferredChannel(), "app"},
			{"top category", f.GetTopCategories()[0].GetCategory(), "books"},
			{"categories", len(f.GetTopCategories()), 2},
			{"currencies", len(f.GetSpendByCurrency()), 1},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
			}
		}

		// A customer with events cannot be deleted.
		_, err = cli.DeleteCustomer(ctx, &profilev1.DeleteCustomerRequest{Name: "customers/p-1"})
		wantErr(t, err, codes.FailedPrecondition, "CUSTOMER_HAS_EVENTS", "")
		wantMessage(t, err, "profile: customer has events, so it cannot be deleted; erase it instead (customer p-1)")

		// Customer events page in sequence order.
		var seqs []int64
		token := ""
		for {
			page, err := cli.ListCustomerEvents(ctx, &profilev1.ListCustomerEventsRequest{Parent: "customers/p-1", PageSize: 3, PageToken: token})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page.GetEvents() {
				seqs = append(seqs, e.GetSequence())
			}
			if token = page.GetNextPageToken(); token == "" {
				break
			}
		}
		// Four recorded, and customer_updated from completing the customer.
		if len(seqs) != 5 {
			t.Fatalf("listed %d events, want 5", len(seqs))
		}
		for i := 1; i < len(seqs); i++ {
			if seqs[i] <= seqs[i-1] {
				t.Fatalf("sequences out of order: %v", seqs)
			}
		}

		// Batch limits.
		_, err = cli.BatchRecordEvents(ctx, &profilev1.BatchRecordEventsRequest{})
		wantErr(t, err, codes.InvalidArgument, "EMPTY_BATCH", "")
		wantMessage(t, err, "profile: empty batch: events: send 1 to 1000 events")
		big := make([]*profilev1.Event, 1001)
		for i := range big {
			big[i] = viewEvent(fmt.Sprintf("big-%d", i), "p-1", day(1))
		}
		_, err = cli.BatchRecordEvents(ctx, &profilev1.BatchRecordEventsRequest{Events: big})
		wantErr(t, err, codes.InvalidArgument, "BATCH_TOO_LARGE", "")
		wantMessage(t, err, "profile: batch too large: events: send 1 to 1000 events, got 1001; split the batch")
	})
}

func TestStreamEvents(t *testing.T) {
	sqlstoretest.EnginesDSN(t, func(t *testing.T, db *sqlstore.DB, dsn string) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		replicaA := serve(t, dsn)
		replicaB := serve(t, dsn) // another replica on the same database
		at := time.Now().Add(-time.Hour)

		record := func(cli profilev1.ProfileServiceClient, ids ...string) []int64 {
			t.Helper()
			var evs []*profilev1.Event
			for _, id := range ids {
				evs = append(evs, viewEvent(id, "s-1", at))
			}
			resp, err := cli.BatchRecordEvents(ctx, &profilev1.BatchRecordEventsRequest{Events: evs})
			if err != nil {
				t.Fatal(err)
			}
			var seqs []int64
			for _, r := range resp.GetResults() {
				seqs = append(seqs, r.GetSequence())
			}
			return seqs
		}
		seqs := record(replicaA, "s1", "s2", "s3")

		stream, err := replicaA.StreamEvents(ctx, &profilev1.StreamEventsRequest{AfterSequence: seqs[0]})
		if err != nil {
			t.Fatal(err)
		}
		expect := func(ids ...string) {
			t.Helper()
			for _, id := range ids {
				msg, err := stream.Recv()
				if err != nil {
					t.Fatalf("recv %s: %v", id, err)
				}
				if msg.GetEvent().GetEventId() != id {
					t.Fatalf("got event %q, want %q", msg.GetEvent().GetEventId(), id)
				}
			}
		}
		expect("s2", "s3")     // resumed after s1
		record(replicaA, "s4") // woken by the local notifier
		expect("s4")
		record(replicaB, "s5", "s6") // found by polling
		expect("s5", "s6")

		bad, err := replicaA.StreamEvents(ctx, &profilev1.StreamEventsRequest{AfterSequence: -1})
		if err == nil {
			_, err = bad.Recv() // a server stream reports its status on Recv
		}
		wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "after_sequence")
	})
}

func TestExportAndErase(t *testing.T) {
	sqlstoretest.EnginesDSN(t, func(t *testing.T, db *sqlstore.DB, dsn string) {
		ctx := context.Background()
		cli := serve(t, dsn)
		at := time.Now().Add(-48 * time.Hour).UTC().Truncate(time.Second)
		if _, err := cli.CreateCustomer(ctx, &profilev1.CreateCustomerRequest{CustomerId: "e-1",
			Customer: &profilev1.Customer{FullName: "Eve", Email: "eve@example.com", Tags: []string{"vip"}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := cli.BatchRecordEvents(ctx, &profilev1.BatchRecordEventsRequest{Events: []*profilev1.Event{
			orderEvent("x-1", "e-1", at, "web", line("books", 1, 999)),
			viewEvent("x-2", "e-1", at.Add(time.Hour)),
		}}); err != nil {
			t.Fatal(err)
		}
		x, err := cli.ExportCustomer(ctx, &profilev1.ExportCustomerRequest{Name: "customers/e-1"})
		if err != nil {
			t.Fatal(err)
		}
		// customer_updated from CreateCustomer, then the two recorded events.
		if x.GetCustomer().GetEmail() != "eve@example.com" || len(x.GetEvents()) != 3 || x.GetExportTime() == nil ||
			x.GetEvents()[0].GetCustomerUpdated() == nil || x.GetEvents()[1].GetOrderPlaced().GetLines()[0].GetUnitPrice().GetAmountMinor() != 999 {
			t.Fatalf("export = %v", x)
		}

		er, err := cli.EraseCustomer(ctx, &profilev1.EraseCustomerRequest{Name: "customers/e-1"})
		if err != nil {
			t.Fatal(err)
		}
		if er.GetAnonymousId() == "" || er.GetEventCount() != 3 {
			t.Fatalf("erase = %v", er)
		}
		_, err = cli.GetCustomer(ctx, &profilev1.GetCustomerRequest{Name: "customers/e-1"})
		wantErr(t, err, codes.NotFound, "CUSTOMER_NOT_FOUND", "")

		anon, err := cli.ExportCustomer(ctx, &profilev1.ExportCustomerRequest{Name: "customers/" + er.GetAnonymousId()})
		if err != nil {
			t.Fatal(err)
		}
		c := anon.GetCustomer()
		if c.GetState() != profilev1.CustomerState_CUSTOMER_STATE_ERASED || c.GetEmail() != "" || c.GetFullName() != "" ||
			len(c.GetTags()) != 0 || c.GetFeatures().GetNetSpend().GetAmountMinor() != 999 || len(anon.GetEvents()) != 3 {
			t.Fatalf("erased customer = %v, %d events", c, len(anon.GetEvents()))
		}
		for _, e := range anon.GetEvents() {
			if e.GetCustomerId() != er.GetAnonymousId() {
				t.Fatalf("event %s still under %q", e.GetEventId(), e.GetCustomerId())
			}
		}

		// Erasure removed the tags from the customer_updated events too.
		if tags := anon.GetEvents()[0].GetCustomerUpdated().GetTags(); len(tags) != 0 {
			t.Fatalf("erased customer_updated tags = %v, want none", tags)
		}

		// The log tells consumers which id to re-key.
		stream, err := cli.StreamEvents(ctx, &profilev1.StreamEventsRequest{AfterSequence: anon.GetEvents()[2].GetSequence()})
		if err != nil {
			t.Fatal(err)
		}
		msg, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if msg.GetEvent().GetCustomerId() != "e-1" || msg.GetEvent().GetCustomerErased().GetAnonymousId() != er.GetAnonymousId() {
			t.Fatalf("erase event = %v", msg.GetEvent())
		}

		erasedMsg := "profile: customer erased: it holds only anonymous history, which cannot be changed, deleted or erased again (customer " + er.GetAnonymousId() + ")"
		_, err = cli.EraseCustomer(ctx, &profilev1.EraseCustomerRequest{Name: "customers/" + er.GetAnonymousId()})
		wantErr(t, err, codes.FailedPrecondition, "CUSTOMER_ERASED", "")
		wantMessage(t, err, erasedMsg)
		_, err = cli.DeleteCustomer(ctx, &profilev1.DeleteCustomerRequest{Name: "customers/" + er.GetAnonymousId()})
		wantErr(t, err, codes.FailedPrecondition, "CUSTOMER_ERASED", "")
		wantMessage(t, err, erasedMsg)
	})
}

func TestGetEventLogHead(t *testing.T) {
	sqlstoretest.EnginesDSN(t, func(t *testing.T, db *sqlstore.DB, dsn string) {
		ctx := context.Background()
		cli := serve(t, dsn)
		head, err := cli.GetEventLogHead(ctx, &profilev1.GetEventLogHeadRequest{})
		if err != nil || head.GetHeadSequence() != 0 {
			t.Fatalf("empty log: GetEventLogHead = %v, %v; want 0", head, err)
		}
		at := time.Now().Add(-time.Hour)
		resp, err := cli.BatchRecordEvents(ctx, &profilev1.BatchRecordEventsRequest{Events: []*profilev1.Event{
			viewEvent("h1", "h-1", at), viewEvent("h2", "h-2", at),
		}})
		if err != nil {
			t.Fatal(err)
		}
		last := resp.GetResults()[1].GetSequence()
		head, err = cli.GetEventLogHead(ctx, &profilev1.GetEventLogHeadRequest{})
		if err != nil || head.GetHeadSequence() != last {
			t.Errorf("GetEventLogHead = %v, %v; want %d", head, err, last)
		}
	})
}
