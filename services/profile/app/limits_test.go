package app_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"github.com/tenurehq/tenure/services/profile/internal/profile"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Amounts and quantities above the limits are rejected one by one in a
// batch, naming the field; the customer's totals never wrap, and a refund
// larger than the orders makes net spend negative.
func TestMoneyAndQuantityLimits(t *testing.T) {
	sqlstoretest.EnginesDSN(t, func(t *testing.T, db *sqlstore.DB, dsn string) {
		ctx := context.Background()
		cli := serve(t, dsn)
		at := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
		zeroTime := viewEvent("ev-zero-time", "m-1", at)
		zeroTime.OccurredAt = timestamppb.New(time.Time{})
		batch := []*profilev1.Event{
			orderEvent("ev-max", "m-1", at, "web", line("gold", 1, profile.MaxAmountMinor)),
			orderEvent("ev-two", "m-1", at, "web", line("gold", 2, 1)),
			orderEvent("ev-int64", "m-1", at, "web", line("gold", 1, math.MaxInt64)),
			orderEvent("ev-qty", "m-1", at, "web", line("gold", profile.MaxQuantity+1, 1)),
			orderEvent("ev-line", "m-1", at, "web", line("gold", 1000, profile.MaxAmountMinor/100)),
			orderEvent("ev-sum", "m-1", at, "web", line("gold", 1, profile.MaxAmountMinor), line("silver", 1, 1)),
			refundEvent("ev-refund-max", "m-1", at, math.MaxInt64),
			refundEvent("ev-refund", "m-1", at, profile.MaxAmountMinor),
			refundEvent("ev-refund-2", "m-1", at, profile.MaxAmountMinor),
			zeroTime,
			viewEvent("ev\u200bzwsp", "m-1", at),
		}
		resp, err := cli.BatchRecordEvents(ctx, &profilev1.BatchRecordEventsRequest{Events: batch})
		if err != nil {
			t.Fatal(err)
		}
		acc, rej := profilev1.EventOutcome_EVENT_OUTCOME_ACCEPTED, profilev1.EventOutcome_EVENT_OUTCOME_REJECTED
		wants := []struct {
			outcome profilev1.EventOutcome
			field   string
		}{
			{acc, ""},
			{acc, ""},
			{rej, "order_placed.lines[0].unit_price.amount_minor"},
			{rej, "order_placed.lines[0].quantity"},
			{rej, "order_placed.lines[0].unit_price.amount_minor"},
			{rej, "order_placed.lines"},
			{rej, "order_refunded.amount.amount_minor"},
			{acc, ""},
			{acc, ""},
			{rej, "occurred_at"},
			{rej, "event_id"},
		}
		for i, r := range resp.GetResults() {
			w := wants[i]
			if r.GetOutcome() != w.outcome || r.GetField() != w.field {
				t.Errorf("result %d (%s) = %v field %q (%s), want %v field %q", i, batch[i].GetEventId(), r.GetOutcome(), r.GetField(), r.GetMessage(), w.outcome, w.field)
			}
			if w.outcome == rej && (r.GetReason() != "INVALID_EVENT" || r.GetMessage() == "") {
				t.Errorf("result %d: reason %q message %q", i, r.GetReason(), r.GetMessage())
			}
		}
		if len(resp.GetResults()) != len(wants) || resp.GetAcceptedCount() != 4 || resp.GetRejectedCount() != 7 {
			t.Fatalf("%d results, %d accepted, %d rejected; want %d, 4, 7", len(resp.GetResults()), resp.GetAcceptedCount(), resp.GetRejectedCount(), len(wants))
		}
		if msg := resp.GetResults()[9].GetMessage(); strings.Contains(msg, "required") || !strings.Contains(msg, "1970-01-01") {
			t.Errorf("occurred_at 0001-01-01 message = %q, want the accepted range", msg)
		}
		if id := resp.GetResults()[10].GetEventId(); id != "" {
			t.Errorf("invalid event id echoed in result: %q", id)
		}

		got, err := cli.GetCustomer(ctx, &profilev1.GetCustomerRequest{Name: "customers/m-1"})
		if err != nil {
			t.Fatal(err)
		}
		f := got.GetCustomer().GetFeatures()
		if g := f.GetGrossSpend().GetAmountMinor(); g != profile.MaxAmountMinor+2 {
			t.Errorf("gross = %d, want %d", g, profile.MaxAmountMinor+2)
		}
		// Two refunds of MaxAmountMinor against MaxAmountMinor+2 of orders.
		wantNet := profile.MaxAmountMinor + 2 - 2*profile.MaxAmountMinor
		if n := f.GetNetSpend().GetAmountMinor(); n != wantNet {
			t.Errorf("net = %d, want %d (refunds exceed orders)", n, wantNet)
		}
		if s := f.GetSpendByCurrency(); len(s) != 1 || s[0].GetNetMinor() != wantNet || s[0].GetGrossMinor() != profile.MaxAmountMinor+2 {
			t.Errorf("spend by currency = %v", s)
		}
		if c := f.GetTopCategories(); len(c) != 1 || c[0].GetQuantity() != 3 {
			t.Errorf("top categories = %v, want gold × 3", c)
		}
	})
}

// A huge bad event id is not echoed back whole: the status message quotes
// a short prefix, the field violation explains without it, and the
// ErrorInfo metadata leaves it out.
func TestHugeEventIDNotEchoed(t *testing.T) {
	sqlstoretest.EnginesDSN(t, func(t *testing.T, db *sqlstore.DB, dsn string) {
		ctx := context.Background()
		cli := serve(t, dsn)
		huge := strings.Repeat("e", 100_000)
		_, err := cli.RecordEvent(ctx, &profilev1.RecordEventRequest{Event: viewEvent(huge, "m-2", time.Now().Add(-time.Hour))})
		wantErr(t, err, codes.InvalidArgument, "INVALID_EVENT", "event.event_id")
		st := status.Convert(err)
		prefix := strings.Repeat("e", 40)
		echoes := strings.Count(st.Message(), prefix)
		size := len(st.Message())
		for _, d := range st.Details() {
			switch d := d.(type) {
			case *errdetails.ErrorInfo:
				for k, v := range d.GetMetadata() {
					echoes += strings.Count(v, prefix)
					size += len(k) + len(v)
				}
			case *errdetails.BadRequest:
				for _, v := range d.GetFieldViolations() {
					echoes += strings.Count(v.GetDescription(), prefix)
					size += len(v.GetDescription())
				}
			}
		}
		if echoes != 0 || size > 500 {
			t.Fatalf("error echoes a 40-character prefix %d times in %d bytes: %.300s", echoes, size, st.Message())
		}
		wantMessage(t, err, `profile: invalid event (event_id "`+strings.Repeat("e", 32)+`"…): event.event_id: must be at most 200 characters`)
	})
}

// Bad names and timestamps get messages in API terms: a short prefix of the
// value, the accepted range, no protobuf text.
func TestBadValueMessages(t *testing.T) {
	sqlstoretest.EnginesDSN(t, func(t *testing.T, db *sqlstore.DB, dsn string) {
		ctx := context.Background()
		cli := serve(t, dsn)
		_, err := cli.GetCustomer(ctx, &profilev1.GetCustomerRequest{Name: strings.Repeat("n", 100_000)})
		wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "name")
		wantMessage(t, err, `profile: invalid argument: name: must be "customers/" followed by a customer id, got "`+strings.Repeat("n", 32)+`"…`)

		_, err = cli.CreateCustomer(ctx, &profilev1.CreateCustomerRequest{CustomerId: "b-1", Customer: &profilev1.Customer{
			RegistrationTime: &timestamppb.Timestamp{Seconds: 253402300800}}})
		wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "customer.registration_time")
		wantMessage(t, err, "profile: invalid argument: customer.registration_time: must be a valid timestamp from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z")

		ev := viewEvent("ev-bad-ts", "b-1", time.Now())
		ev.OccurredAt = &timestamppb.Timestamp{Seconds: 1, Nanos: -1}
		_, err = cli.RecordEvent(ctx, &profilev1.RecordEventRequest{Event: ev})
		wantErr(t, err, codes.InvalidArgument, "INVALID_EVENT", "event.occurred_at")
		wantMessage(t, err, `profile: invalid event (event_id "ev-bad-ts"): event.occurred_at: must be from 1970-01-01T00:00:00Z to at most 24h after the current time`)
	})
}
