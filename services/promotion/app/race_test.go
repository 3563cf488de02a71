package app_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	profileapp "github.com/tenurehq/tenure/services/profile/app"
	"github.com/tenurehq/tenure/services/promotion/app"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// replicas starts profile and n promotion replicas sharing one database of
// engine, and returns a client of each replica.
func replicas(t *testing.T, engine string, n int) []promotionv1.PromotionServiceClient {
	t.Helper()
	s := stacktest.Start(t, stacktest.Options{Engine: engine})
	s.Add(profileapp.Component(nil))
	dsn := stacktest.DSN(t, engine, "promotion")
	var out []promotionv1.PromotionServiceClient
	for range n {
		r := s.Add(app.Component(func(c *app.Config, d *app.Deps) {
			c.DSN = dsn
			c.RefreshInterval = 20 * time.Millisecond
			d.Clock = func() time.Time { return t0 }
		}))
		out = append(out, promotionv1.NewPromotionServiceClient(stacktest.Dial(t, r.Addr())))
	}
	return out
}

// raceEngines runs fn on SQLite with one replica and on PostgreSQL with
// three sharing the database.
func raceEngines(t *testing.T, fn func(t *testing.T, cs []promotionv1.PromotionServiceClient)) {
	stacktest.Engines(t, func(t *testing.T, engine string) {
		n := 1
		if engine == "postgres" {
			n = 3
		}
		fn(t, replicas(t, engine, n))
	})
}

// setup creates and activates a campaign with promotions through the first
// replica.
func setup(t *testing.T, c promotionv1.PromotionServiceClient, id string, camp *promotionv1.Campaign, promos map[string]*promotionv1.Promotion) {
	t.Helper()
	(&fixture{promo: c}).campaign(t, id, camp, promos)
}

// redeemAll runs n concurrent redemptions, spread over the replicas, and
// returns how many succeeded; every failure must be PROMOTIONS_CHANGED.
func redeemAll(t *testing.T, cs []promotionv1.PromotionServiceClient, n int, req func(i int) *promotionv1.RedeemCartRequest) int64 {
	t.Helper()
	var ok atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			_, err := cs[i%len(cs)].RedeemCart(ctx, req(i))
			switch status.Code(err) {
			case codes.OK:
				ok.Add(1)
			case codes.FailedPrecondition:
			default:
				t.Errorf("redeem %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	return ok.Load()
}

func TestCouponLimitUnderConcurrency(t *testing.T) {
	raceEngines(t, func(t *testing.T, cs []promotionv1.PromotionServiceClient) {
		p := automatic(percentOff(1000))
		p.Kind = promotionv1.PromotionKind_PROMOTION_KIND_CODE
		setup(t, cs[0], "coupon", nil, map[string]*promotionv1.Promotion{"ten": p})
		if _, err := cs[0].ImportCodes(ctx, &promotionv1.ImportCodesRequest{Parent: "campaigns/coupon/promotions/ten",
			Codes: []*promotionv1.Code{{Code: "save10", MaxUses: 10}}}); err != nil {
			t.Fatal(err)
		}
		got := redeemAll(t, cs, 1000, func(i int) *promotionv1.RedeemCartRequest {
			c := cart(fmt.Sprintf("c%d", i), line{"a", 1, 5000})
			c.Codes = []string{"SAVE10"}
			return &promotionv1.RedeemCartRequest{OrderId: fmt.Sprintf("o%d", i), Cart: c,
				ExpectedPromotions: []string{"campaigns/coupon/promotions/ten"}}
		})
		codes, err := cs[1%len(cs)].ListCodes(ctx, &promotionv1.ListCodesRequest{Parent: "campaigns/coupon/promotions/ten"})
		if err != nil || got != 10 || codes.GetCodes()[0].GetUses() != 10 {
			t.Fatalf("redeemed %d, code = %v (%v); want exactly 10", got, codes, err)
		}
	})
}

func TestBudgetUnderConcurrency(t *testing.T) {
	raceEngines(t, func(t *testing.T, cs []promotionv1.PromotionServiceClient) {
		setup(t, cs[0], "budget", &promotionv1.Campaign{Budget: gbp(25500)},
			map[string]*promotionv1.Promotion{"off": automatic(amountOffOrder(1000))})
		got := redeemAll(t, cs, 200, func(i int) *promotionv1.RedeemCartRequest {
			return &promotionv1.RedeemCartRequest{OrderId: fmt.Sprintf("o%d", i), Cart: cart(fmt.Sprintf("c%d", i), line{"a", 1, 5000}),
				ExpectedPromotions: []string{"campaigns/budget/promotions/off"}}
		})
		c, err := cs[len(cs)-1].GetCampaign(ctx, &promotionv1.GetCampaignRequest{Name: "campaigns/budget"})
		if err != nil || got != 25 || c.GetCampaign().GetBudgetUsed().GetAmountMinor() != 25000 {
			t.Fatalf("redeemed %d, campaign = %v (%v); want 25 using 25000 of 25500", got, c, err)
		}
	})
}

func TestPerCustomerLimitUnderConcurrency(t *testing.T) {
	raceEngines(t, func(t *testing.T, cs []promotionv1.PromotionServiceClient) {
		p := automatic(percentOff(500))
		p.UsesPerCustomer = 1
		setup(t, cs[0], "once", nil, map[string]*promotionv1.Promotion{"five": p})
		got := redeemAll(t, cs, 60, func(i int) *promotionv1.RedeemCartRequest {
			return &promotionv1.RedeemCartRequest{OrderId: fmt.Sprintf("o%d", i), Cart: cart("same", line{"a", 1, 5000}),
				ExpectedPromotions: []string{"campaigns/once/promotions/five"}}
		})
		if got != 1 {
			t.Fatalf("redeemed %d orders of one customer, want 1", got)
		}
		// Cancelling it gives the customer's use back.
		var order string
		for i := range 60 {
			if r, err := cs[0].GetRedemption(ctx, &promotionv1.GetRedemptionRequest{Name: fmt.Sprintf("redemptions/o%d", i)}); err == nil {
				order = r.GetRedemption().GetName()
			}
		}
		if _, err := cs[0].CancelRedemption(ctx, &promotionv1.CancelRedemptionRequest{Name: order}); err != nil {
			t.Fatal(err)
		}
		if _, err := cs[len(cs)-1].RedeemCart(ctx, &promotionv1.RedeemCartRequest{OrderId: "again", Cart: cart("same", line{"a", 1, 5000}),
			ExpectedPromotions: []string{"campaigns/once/promotions/five"}}); err != nil {
			t.Fatalf("redeem after cancel: %v", err)
		}
	})
}

// TestReplicasRefresh checks a change made through one replica reaches
// another's compiled promotions without a redemption.
func TestReplicasRefresh(t *testing.T) {
	cs := replicas(t, "sqlite", 2)
	setup(t, cs[0], "fresh", nil, map[string]*promotionv1.Promotion{"ten": automatic(percentOff(1000))})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		ev, err := cs[1].EvaluateCart(ctx, &promotionv1.EvaluateCartRequest{Cart: cart("c1", line{"a", 1, 5000})})
		if err == nil && len(ev.GetEvaluation().GetApplied()) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the second replica never applied the promotion: %v, %v", ev, err)
		}
	}
	if _, err := cs[0].PauseCampaign(ctx, &promotionv1.PauseCampaignRequest{Name: "campaigns/fresh"}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		ev, err := cs[1].EvaluateCart(ctx, &promotionv1.EvaluateCartRequest{Cart: cart("c1", line{"a", 1, 5000})})
		if err == nil && len(ev.GetEvaluation().GetApplied()) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the second replica still applies the paused promotion: %v, %v", ev, err)
		}
	}
}
