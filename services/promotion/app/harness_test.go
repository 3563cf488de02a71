package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	typev1 "github.com/tenurehq/tenure/gen/tenure/type/v1"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	profileapp "github.com/tenurehq/tenure/services/profile/app"
	"github.com/tenurehq/tenure/services/promotion/app"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

var ctx = context.Background()

// fixture is profile and promotion in one stack on one engine.
type fixture struct {
	stack   *stacktest.Stack
	profile profilev1.ProfileServiceClient
	promo   promotionv1.PromotionServiceClient
	app     *app.App
}

// start runs profile and promotion on engine with the given clock.
func start(t *testing.T, engine string, clock func() time.Time) *fixture {
	t.Helper()
	s := stacktest.Start(t, stacktest.Options{Engine: engine})
	p := s.Add(profileapp.Component(nil))
	r := s.Add(app.Component(func(c *app.Config, d *app.Deps) {
		c.RefreshInterval = 20 * time.Millisecond
		d.Clock = clock
	}))
	return &fixture{stack: s, profile: profilev1.NewProfileServiceClient(stacktest.Dial(t, p.Addr())),
		promo: promotionv1.NewPromotionServiceClient(stacktest.Dial(t, r.Addr())), app: r.Runner.(*app.App)}
}

// record appends events to profile and waits until promotion applied them.
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
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		cur, err := f.app.Cursor(ctx)
		if err == nil && cur >= last {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("promotion's cursor is at %d, not %d (%v)", cur, last, err)
		}
	}
}

func gbp(minor int64) *typev1.Money { return &typev1.Money{CurrencyCode: "GBP", AmountMinor: minor} }

// campaign creates and activates a GBP campaign with the promotions.
func (f *fixture) campaign(t testing.TB, id string, c *promotionv1.Campaign, promos map[string]*promotionv1.Promotion) {
	t.Helper()
	if c == nil {
		c = &promotionv1.Campaign{}
	}
	c.CurrencyCode, c.Objective = "GBP", promotionv1.Objective_OBJECTIVE_RETENTION
	if _, err := f.promo.CreateCampaign(ctx, &promotionv1.CreateCampaignRequest{CampaignId: id, Campaign: c}); err != nil {
		t.Fatal(err)
	}
	for pid, p := range promos {
		if _, err := f.promo.CreatePromotion(ctx, &promotionv1.CreatePromotionRequest{Parent: "campaigns/" + id, PromotionId: pid, Promotion: p}); err != nil {
			t.Fatalf("create promotion %s: %v", pid, err)
		}
	}
	if _, err := f.promo.ActivateCampaign(ctx, &promotionv1.ActivateCampaignRequest{Name: "campaigns/" + id}); err != nil {
		t.Fatal(err)
	}
}

func percentOff(bp int32) *promotionv1.Effect {
	return &promotionv1.Effect{Kind: &promotionv1.Effect_PercentOff{PercentOff: &promotionv1.PercentOff{BasisPoints: bp, Scope: promotionv1.Scope_SCOPE_LINES}}}
}

func amountOffOrder(minor int64) *promotionv1.Effect {
	return &promotionv1.Effect{Kind: &promotionv1.Effect_AmountOff{AmountOff: &promotionv1.AmountOff{Amount: gbp(minor), Mode: promotionv1.AmountMode_AMOUNT_MODE_ON_ORDER}}}
}

func automatic(e *promotionv1.Effect) *promotionv1.Promotion {
	return &promotionv1.Promotion{Kind: promotionv1.PromotionKind_PROMOTION_KIND_AUTOMATIC, Stacking: promotionv1.Stacking_STACKING_STACKABLE, Effect: e}
}

type line struct {
	id       string
	quantity int64
	price    int64
}

func cart(customer string, lines ...line) *promotionv1.Cart {
	c := &promotionv1.Cart{CustomerId: customer, CurrencyCode: "GBP", Channel: "web"}
	for _, l := range lines {
		c.Lines = append(c.Lines, &promotionv1.CartLine{LineId: l.id, Sku: "sku-" + l.id, Category: "cat", Quantity: l.quantity, UnitPrice: gbp(l.price)})
	}
	return c
}

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
