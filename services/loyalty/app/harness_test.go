package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	loyaltyv1 "github.com/tenurehq/tenure/gen/tenure/loyalty/v1"
	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	typev1 "github.com/tenurehq/tenure/gen/tenure/type/v1"
	"github.com/tenurehq/tenure/services/loyalty/app"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	profileapp "github.com/tenurehq/tenure/services/profile/app"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

var ctx = context.Background()

// fixture is profile and loyalty in one stack on one engine.
type fixture struct {
	profile profilev1.ProfileServiceClient
	loyalty loyaltyv1.LoyaltyServiceClient
	app     *app.App
}

// start runs profile and loyalty (with the given clock, no job schedule)
// on engine.
func start(t *testing.T, engine string, clock func() time.Time) *fixture {
	t.Helper()
	return startWith(t, engine, clock, 0)
}

// startWith is start with a job schedule of the given interval.
func startWith(t *testing.T, engine string, clock func() time.Time, interval time.Duration) *fixture {
	t.Helper()
	s := stacktest.Start(t, stacktest.Options{Engine: engine})
	p := s.Add(profileapp.Component(nil))
	l := s.Add(app.Component(func(c *app.Config, d *app.Deps) {
		c.JobInterval = interval
		d.Clock = clock
	}))
	return &fixture{
		profile: profilev1.NewProfileServiceClient(stacktest.Dial(t, p.Addr())),
		loyalty: loyaltyv1.NewLoyaltyServiceClient(stacktest.Dial(t, l.Addr())),
		app:     l.Runner.(*app.App),
	}
}

// record appends events to profile and waits until loyalty applied them.
func (f *fixture) record(t *testing.T, events ...*profilev1.Event) {
	t.Helper()
	resp, err := f.profile.BatchRecordEvents(ctx, &profilev1.BatchRecordEventsRequest{Events: events})
	if err != nil {
		t.Fatal(err)
	}
	var last int64
	for _, r := range resp.GetResults() {
		if r.GetOutcome() != profilev1.EventOutcome_EVENT_OUTCOME_ACCEPTED {
			t.Fatalf("event %s: %v %s", r.GetEventId(), r.GetOutcome(), r.GetMessage())
		}
		last = max(last, r.GetSequence())
	}
	f.waitCursor(t, last)
}

// waitCursor waits until loyalty applied the log up to seq.
func (f *fixture) waitCursor(t *testing.T, seq int64) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		cur, err := f.app.Cursor(ctx)
		if err == nil && cur >= seq {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("loyalty's cursor is at %d, not %d (%v)", cur, seq, err)
		}
	}
}

func (f *fixture) member(t *testing.T, id string) *loyaltyv1.Member {
	t.Helper()
	m, err := f.loyalty.GetMember(ctx, &loyaltyv1.GetMemberRequest{Name: "members/" + id})
	if err != nil {
		t.Fatal(err)
	}
	return m.GetMember()
}

func gbp(minor int64) *typev1.Money { return &typev1.Money{CurrencyCode: "GBP", AmountMinor: minor} }

func orderEvent(id, customer string, at time.Time, total int64) *profilev1.Event {
	return &profilev1.Event{EventId: id, CustomerId: customer, OccurredAt: timestamppb.New(at),
		Payload: &profilev1.Event_OrderPlaced{OrderPlaced: &profilev1.OrderPlaced{OrderId: "o-" + id, Total: gbp(total)}}}
}

// wantErr checks err's code, ErrorInfo reason and that its message or
// field violations mention each of mention.
func wantErr(t *testing.T, err error, code codes.Code, reason string, mention ...string) {
	t.Helper()
	st, _ := status.FromError(err)
	text := st.Message()
	var got string
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			got = d.GetReason()
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				text += " " + v.GetField() + ": " + v.GetDescription()
			}
		}
	}
	if st.Code() != code || got != reason {
		t.Fatalf("error = %v (%s), want %v, %s", err, got, code, reason)
	}
	for _, m := range mention {
		if !strings.Contains(text, m) {
			t.Fatalf("error %q does not mention %q", text, m)
		}
	}
}
