package app_test

import (
	"testing"
	"time"

	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

var t0 = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

func TestAPI(t *testing.T) {
	stacktest.Engines(t, func(t *testing.T, engine string) {
		f := start(t, engine, func() time.Time { return t0 })
		c := f.promo
		tenOff := automatic(percentOff(1000))
		orderOff := automatic(amountOffOrder(1000))
		orderOff.Priority = -1
		orderOff.Budget = gbp(1500)
		f.campaign(t, "spring", &promotionv1.Campaign{Budget: gbp(100000)}, map[string]*promotionv1.Promotion{"ten": tenOff, "order": orderOff})

		// Two promotions one after the other: 10 % of 20000, then 1000 off
		// the order over the lines' prices left.
		ev, err := c.EvaluateCart(ctx, &promotionv1.EvaluateCartRequest{Cart: cart("c1", line{"a", 2, 3000}, line{"b", 1, 14000})})
		if err != nil {
			t.Fatal(err)
		}
		e := ev.GetEvaluation()
		if e.GetTotal().GetAmountMinor() != 20000-2000-1000 || len(e.GetApplied()) != 2 || e.GetApplied()[0].GetPromotion() != "campaigns/spring/promotions/ten" {
			t.Fatalf("evaluation = %v", e)
		}

		// Redeem, retry, and the same order with another cart.
		req := &promotionv1.RedeemCartRequest{OrderId: "o1", Cart: cart("c1", line{"a", 2, 3000}, line{"b", 1, 14000}),
			ExpectedPromotions: []string{"campaigns/spring/promotions/ten", "campaigns/spring/promotions/order"}}
		first, err := c.RedeemCart(ctx, req)
		if err != nil || first.GetRedemption().GetEvaluation().GetTotal().GetAmountMinor() != 17000 {
			t.Fatalf("redeem = %v, %v", first, err)
		}
		again, err := c.RedeemCart(ctx, req)
		if err != nil || !proto.Equal(first.GetRedemption().GetEvaluation(), again.GetRedemption().GetEvaluation()) {
			t.Fatalf("retry = %v, %v", again, err)
		}
		_, err = c.RedeemCart(ctx, &promotionv1.RedeemCartRequest{OrderId: "o1", Cart: cart("c1", line{"a", 1, 3000})})
		wantErr(t, err, codes.AlreadyExists, "ORDER_CART_MISMATCH", "o1")

		// The order promotion's budget (1500) has 500 left: it no longer
		// applies, and a caller who saw it applied is refused.
		_, err = c.RedeemCart(ctx, &promotionv1.RedeemCartRequest{OrderId: "o2", Cart: cart("c2", line{"a", 1, 10000}),
			ExpectedPromotions: []string{"campaigns/spring/promotions/order"}})
		wantErr(t, err, codes.FailedPrecondition, "PROMOTIONS_CHANGED", "BUDGET_EXHAUSTED")
		p, err := c.GetPromotion(ctx, &promotionv1.GetPromotionRequest{Name: "campaigns/spring/promotions/order"})
		if err != nil || p.GetPromotion().GetUses() != 1 || p.GetPromotion().GetBudgetUsed().GetAmountMinor() != 1000 {
			t.Fatalf("order promotion = %v, %v", p, err)
		}

		// Partial refund: one unit of a (3000 − 10 % = 2700, and its part of
		// the 1000) releases that unit's share; the whole order releases
		// everything and the uses.
		r, err := c.RefundRedemption(ctx, &promotionv1.RefundRedemptionRequest{Name: "redemptions/o1",
			Lines: []*promotionv1.ReturnedLine{{LineId: "a", Quantity: 1}}})
		if err != nil || r.GetRedemption().GetState() != promotionv1.RedemptionState_REDEMPTION_STATE_PARTIALLY_REFUNDED {
			t.Fatalf("refund = %v, %v", r, err)
		}
		released := r.GetRedemption().GetReleased().GetAmountMinor()
		if released <= 0 || released >= 3000 {
			t.Fatalf("released %d for one unit of a", released)
		}
		cr, err := c.CancelRedemption(ctx, &promotionv1.CancelRedemptionRequest{Name: "redemptions/o1"})
		if err != nil || cr.GetRedemption().GetReleased().GetAmountMinor() != 3000 {
			t.Fatalf("cancel = %v, %v", cr, err)
		}
		for _, name := range []string{"campaigns/spring/promotions/order", "campaigns/spring/promotions/ten"} {
			p, err := c.GetPromotion(ctx, &promotionv1.GetPromotionRequest{Name: name})
			if err != nil || p.GetPromotion().GetUses() != 0 || p.GetPromotion().GetBudgetUsed().GetAmountMinor() != 0 {
				t.Fatalf("%s after cancel = %v, %v", name, p, err)
			}
		}
		camp, err := c.GetCampaign(ctx, &promotionv1.GetCampaignRequest{Name: "campaigns/spring"})
		if err != nil || camp.GetCampaign().GetBudgetUsed().GetAmountMinor() != 0 || camp.GetCampaign().GetState() != promotionv1.CampaignState_CAMPAIGN_STATE_ACTIVE {
			t.Fatalf("campaign = %v, %v", camp, err)
		}

		// Lifecycle: pause takes the promotions off at once, end is final.
		if _, err := c.PauseCampaign(ctx, &promotionv1.PauseCampaignRequest{Name: "campaigns/spring"}); err != nil {
			t.Fatal(err)
		}
		ev, err = c.EvaluateCart(ctx, &promotionv1.EvaluateCartRequest{Cart: cart("c1", line{"a", 1, 3000})})
		if err != nil || len(ev.GetEvaluation().GetApplied()) != 0 {
			t.Fatalf("evaluation while paused = %v, %v", ev, err)
		}
		_, err = c.PauseCampaign(ctx, &promotionv1.PauseCampaignRequest{Name: "campaigns/spring"})
		wantErr(t, err, codes.FailedPrecondition, "INVALID_TRANSITION", "paused")
		if _, err := c.EndCampaign(ctx, &promotionv1.EndCampaignRequest{Name: "campaigns/spring"}); err != nil {
			t.Fatal(err)
		}
		_, err = c.ActivateCampaign(ctx, &promotionv1.ActivateCampaignRequest{Name: "campaigns/spring"})
		wantErr(t, err, codes.FailedPrecondition, "CAMPAIGN_ENDED")
	})
}
