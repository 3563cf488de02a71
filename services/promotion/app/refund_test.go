package app_test

import (
	"testing"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// TestRefunds checks the example: lines A 2 × 3000 and B 4000 with
// 1000 off the order carry A 600 and B 400; returning one unit of A
// releases 300, and uses come back only with the whole order. A refund
// that reaches profile's log with the order id applies once.
func TestRefunds(t *testing.T) {
	stacktest.Engines(t, func(t *testing.T, engine string) {
		f := start(t, engine, func() time.Time { return t0 })
		c := f.promo
		f.campaign(t, "ref", &promotionv1.Campaign{Budget: gbp(100000)}, map[string]*promotionv1.Promotion{"off": automatic(amountOffOrder(1000))})
		usage := func(t *testing.T, wantUses, wantUsed int64) {
			t.Helper()
			p, err := c.GetPromotion(ctx, &promotionv1.GetPromotionRequest{Name: "campaigns/ref/promotions/off"})
			camp, cerr := c.GetCampaign(ctx, &promotionv1.GetCampaignRequest{Name: "campaigns/ref"})
			if err != nil || cerr != nil || p.GetPromotion().GetUses() != wantUses || p.GetPromotion().GetBudgetUsed().GetAmountMinor() != wantUsed ||
				camp.GetCampaign().GetBudgetUsed().GetAmountMinor() != wantUsed {
				t.Fatalf("promotion = %v, campaign = %v (%v, %v); want %d uses, %d used", p, camp, err, cerr, wantUses, wantUsed)
			}
		}
		r, err := c.RedeemCart(ctx, &promotionv1.RedeemCartRequest{OrderId: "o1", Cart: cart("c1", line{"A", 2, 3000}, line{"B", 1, 4000})})
		if err != nil {
			t.Fatal(err)
		}
		al := r.GetRedemption().GetEvaluation().GetApplied()[0].GetAllocations()
		if len(al) != 2 || al[0].GetAmount().GetAmountMinor() != 600 || al[1].GetAmount().GetAmountMinor() != 400 {
			t.Fatalf("allocations = %v, want A 600, B 400", al)
		}
		usage(t, 1, 1000)
		refund := func(t *testing.T, line string, n int64) *promotionv1.Redemption {
			t.Helper()
			r, err := c.RefundRedemption(ctx, &promotionv1.RefundRedemptionRequest{Name: "redemptions/o1",
				Lines: []*promotionv1.ReturnedLine{{LineId: line, Quantity: n}}})
			if err != nil {
				t.Fatal(err)
			}
			return r.GetRedemption()
		}
		if got := refund(t, "A", 1); got.GetReleased().GetAmountMinor() != 300 {
			t.Fatalf("after one unit of A: %v, want 300 released", got)
		}
		usage(t, 1, 700)
		_, err = c.RefundRedemption(ctx, &promotionv1.RefundRedemptionRequest{Name: "redemptions/o1",
			Lines: []*promotionv1.ReturnedLine{{LineId: "A", Quantity: 2}}})
		wantErr(t, err, codes.InvalidArgument, "RETURN_EXCEEDS_QUANTITY")
		refund(t, "A", 1)
		usage(t, 1, 400)

		// The last line comes back through profile's log: B by SKU.
		f.record(t, &profilev1.Event{EventId: "refund-b", CustomerId: "c1", OccurredAt: timestamppb.New(t0),
			Payload: &profilev1.Event_OrderRefunded{OrderRefunded: &profilev1.OrderRefunded{OrderId: "o1", Amount: gbp(3600),
				Lines: []*profilev1.OrderLine{{Sku: "sku-B", Quantity: 1, UnitPrice: gbp(4000)}}}}})
		got, err := c.GetRedemption(ctx, &promotionv1.GetRedemptionRequest{Name: "redemptions/o1"})
		if err != nil || got.GetRedemption().GetState() != promotionv1.RedemptionState_REDEMPTION_STATE_REFUNDED ||
			got.GetRedemption().GetReleased().GetAmountMinor() != 1000 {
			t.Fatalf("after the refund event = %v, %v", got, err)
		}
		usage(t, 0, 0)
		// Cancelling a refunded redemption releases nothing more.
		if _, err := c.CancelRedemption(ctx, &promotionv1.CancelRedemptionRequest{Name: "redemptions/o1"}); err != nil {
			t.Fatal(err)
		}
		usage(t, 0, 0)
	})
}

// TestErasure checks profile's erasure re-keys the customer's redemption.
func TestErasure(t *testing.T) {
	f := start(t, "sqlite", func() time.Time { return t0 })
	f.campaign(t, "er", nil, map[string]*promotionv1.Promotion{"off": automatic(amountOffOrder(100))})
	f.record(t, orderEvent("e1", "c1", t0, 5000))
	if _, err := f.promo.RedeemCart(ctx, &promotionv1.RedeemCartRequest{OrderId: "o-e1", Cart: cart("c1", line{"a", 1, 5000})}); err != nil {
		t.Fatal(err)
	}
	er, err := f.profile.EraseCustomer(ctx, &profilev1.EraseCustomerRequest{Name: "customers/c1"})
	if err != nil {
		t.Fatal(err)
	}
	head, err := f.profile.GetEventLogHead(ctx, &profilev1.GetEventLogHeadRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if cur, err := f.app.Cursor(ctx); err == nil && cur >= head.GetHeadSequence() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("promotion did not reach the erasure")
		}
	}
	r, err := f.promo.GetRedemption(ctx, &promotionv1.GetRedemptionRequest{Name: "redemptions/o-e1"})
	if err != nil || r.GetRedemption().GetCustomerId() != er.GetAnonymousId() {
		t.Fatalf("redemption = %v, %v; want it under %s", r, err, er.GetAnonymousId())
	}
}

// TestEvaluationSeesOwnReplicasOrders checks that the counters evaluations
// reuse are dropped by a redemption and a cancellation on the replica: the
// next evaluation sees the limit reached, then free again.
func TestEvaluationSeesOwnReplicasOrders(t *testing.T) {
	f := start(t, "sqlite", func() time.Time { return t0 })
	c := f.promo
	once := automatic(percentOff(1000))
	once.TotalUses = 1
	f.campaign(t, "one", nil, map[string]*promotionv1.Promotion{"once": once})
	evaluate := func(want int) {
		t.Helper()
		ev, err := c.EvaluateCart(ctx, &promotionv1.EvaluateCartRequest{Cart: cart("c1", line{"a", 1, 5000})})
		if err != nil || len(ev.GetEvaluation().GetApplied()) != want {
			t.Fatalf("evaluation = %v, %v; want %d applied", ev, err, want)
		}
		if want == 0 && !hasReason(ev.GetEvaluation(), promotionv1.NotAppliedReason_TOTAL_LIMIT_REACHED) {
			t.Fatalf("evaluation = %v; want TOTAL_LIMIT_REACHED", ev)
		}
	}
	evaluate(1)
	if _, err := c.RedeemCart(ctx, &promotionv1.RedeemCartRequest{OrderId: "o1", Cart: cart("c2", line{"a", 1, 5000})}); err != nil {
		t.Fatal(err)
	}
	evaluate(0)
	if _, err := c.CancelRedemption(ctx, &promotionv1.CancelRedemptionRequest{Name: "redemptions/o1"}); err != nil {
		t.Fatal(err)
	}
	evaluate(1)
}
