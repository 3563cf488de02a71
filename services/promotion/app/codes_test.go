package app_test

import (
	"strings"
	"testing"
	"time"

	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	typev1 "github.com/tenurehq/tenure/gen/tenure/type/v1"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	"google.golang.org/grpc/codes"
)

func TestGenerateAndUseCodes(t *testing.T) {
	stacktest.Engines(t, func(t *testing.T, engine string) {
		f := start(t, engine, func() time.Time { return t0 })
		c := f.promo
		p := automatic(amountOffOrder(500))
		p.Kind = promotionv1.PromotionKind_PROMOTION_KIND_CODE
		f.campaign(t, "codes", nil, map[string]*promotionv1.Promotion{"five": p, "auto": automatic(percentOff(1000))})
		gen, err := c.GenerateCodes(ctx, &promotionv1.GenerateCodesRequest{Parent: "campaigns/codes/promotions/five", Count: 2500, Length: 8, Prefix: "spr"})
		if err != nil || gen.GetOperation().GetCodesTotal() != 2500 {
			t.Fatalf("generate = %v, %v", gen, err)
		}
		op := &promotionv1.GetOperationResponse{Operation: gen.GetOperation()}
		for deadline := time.Now().Add(30 * time.Second); !op.GetOperation().GetDone(); time.Sleep(20 * time.Millisecond) {
			if op, err = c.GetOperation(ctx, &promotionv1.GetOperationRequest{Name: gen.GetOperation().GetName()}); err != nil || time.Now().After(deadline) {
				t.Fatalf("operation = %v, %v", op, err)
			}
		}
		if op.GetOperation().GetState() != promotionv1.OperationState_OPERATION_STATE_SUCCEEDED || op.GetOperation().GetCodesDone() != 2500 {
			t.Fatalf("operation = %v", op)
		}
		var all []*promotionv1.Code
		for token := ""; ; {
			page, err := c.ListCodes(ctx, &promotionv1.ListCodesRequest{Parent: "campaigns/codes/promotions/five", PageSize: 1000, PageToken: token})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, page.GetCodes()...)
			if token = page.GetNextPageToken(); token == "" {
				break
			}
		}
		if len(all) != 2500 || !strings.HasPrefix(all[0].GetCode(), "SPR") || len(all[0].GetCode()) != 11 {
			t.Fatalf("%d codes, first %v; want 2500 of SPR + 8 characters", len(all), all[0])
		}

		// A code matches case-insensitively and is single use; unknown codes
		// are reasons, not errors.
		code := strings.ToLower(all[7].GetCode())
		crt := cart("c1", line{"a", 1, 5000})
		crt.Codes = []string{code, "NOPE"}
		ev, err := c.EvaluateCart(ctx, &promotionv1.EvaluateCartRequest{Cart: crt})
		if err != nil || len(ev.GetEvaluation().GetApplied()) != 2 || ev.GetEvaluation().GetTotal().GetAmountMinor() != 5000-500-500 { // auto (by id first): 10 % of 5000, then 500
			t.Fatalf("evaluation = %v, %v", ev, err)
		}
		if n := ev.GetEvaluation().GetNotApplied(); len(n) != 1 || n[0].GetReason() != promotionv1.NotAppliedReason_CODE_NOT_FOUND {
			t.Fatalf("not applied = %v, want CODE_NOT_FOUND for NOPE", n)
		}
		if _, err := c.RedeemCart(ctx, &promotionv1.RedeemCartRequest{OrderId: "o1", Cart: crt}); err != nil {
			t.Fatal(err)
		}
		crt.CustomerId = "c2"
		ev, err = c.EvaluateCart(ctx, &promotionv1.EvaluateCartRequest{Cart: crt})
		if err != nil || !hasReason(ev.GetEvaluation(), promotionv1.NotAppliedReason_CODE_USED_UP) {
			t.Fatalf("second use = %v, %v; want CODE_USED_UP", ev, err)
		}

		_, err = c.GenerateCodes(ctx, &promotionv1.GenerateCodesRequest{Parent: "campaigns/codes/promotions/auto", Count: 10})
		wantErr(t, err, codes.FailedPrecondition, "NOT_A_CODE_PROMOTION")
		_, err = c.GenerateCodes(ctx, &promotionv1.GenerateCodesRequest{Parent: "campaigns/codes/promotions/five", Count: 1_000_001})
		wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "count")
		_, err = c.ImportCodes(ctx, &promotionv1.ImportCodesRequest{Parent: "campaigns/codes/promotions/five", Codes: []*promotionv1.Code{{Code: code}}})
		wantErr(t, err, codes.AlreadyExists, "CODE_ALREADY_EXISTS")
	})
}

func hasReason(e *promotionv1.Evaluation, r promotionv1.NotAppliedReason) bool {
	for _, n := range e.GetNotApplied() {
		if n.GetReason() == r {
			return true
		}
	}
	return false
}

// TestAudienceUnavailable checks that without segmentation the audience
// promotions do not apply (AUDIENCE_UNAVAILABLE) and the others still do.
func TestAudienceUnavailable(t *testing.T) {
	f := start(t, "sqlite", func() time.Time { return t0 })
	f.campaign(t, "vips", &promotionv1.Campaign{Audience: &promotionv1.Audience{Segments: []string{"vip"}}},
		map[string]*promotionv1.Promotion{"ten": automatic(percentOff(1000))})
	f.campaign(t, "all", nil, map[string]*promotionv1.Promotion{"five": automatic(amountOffOrder(500))})
	ev, err := f.promo.EvaluateCart(ctx, &promotionv1.EvaluateCartRequest{Cart: cart("c1", line{"a", 1, 5000})})
	if err != nil || len(ev.GetEvaluation().GetApplied()) != 1 || ev.GetEvaluation().GetApplied()[0].GetPromotion() != "campaigns/all/promotions/five" ||
		!hasReason(ev.GetEvaluation(), promotionv1.NotAppliedReason_AUDIENCE_UNAVAILABLE) {
		t.Fatalf("evaluation = %v, %v", ev, err)
	}
}

func TestBadInput(t *testing.T) {
	f := start(t, "sqlite", func() time.Time { return t0 })
	c := f.promo
	_, err := c.CreateCampaign(ctx, &promotionv1.CreateCampaignRequest{CampaignId: "Bad Id", Campaign: &promotionv1.Campaign{CurrencyCode: "GBP"}})
	wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "campaign_id")
	_, err = c.CreateCampaign(ctx, &promotionv1.CreateCampaignRequest{CampaignId: "x", Campaign: &promotionv1.Campaign{
		CurrencyCode: "GBP", Objective: promotionv1.Objective_OBJECTIVE_CLEARANCE, HoldoutPercent: 60}})
	wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "campaign.holdout_percent")
	f.campaign(t, "ok", nil, nil)
	_, err = c.CreateCampaign(ctx, &promotionv1.CreateCampaignRequest{CampaignId: "ok", Campaign: &promotionv1.Campaign{
		CurrencyCode: "GBP", Objective: promotionv1.Objective_OBJECTIVE_CLEARANCE}})
	wantErr(t, err, codes.AlreadyExists, "CAMPAIGN_ALREADY_EXISTS")
	_, err = c.CreatePromotion(ctx, &promotionv1.CreatePromotionRequest{Parent: "campaigns/ok", PromotionId: "p", Promotion: automatic(&promotionv1.Effect{
		Kind: &promotionv1.Effect_PercentOff{PercentOff: &promotionv1.PercentOff{BasisPoints: 20000, Scope: promotionv1.Scope_SCOPE_LINES}}})})
	wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "promotion.effect.percent_off.basis_points")
	_, err = c.CreatePromotion(ctx, &promotionv1.CreatePromotionRequest{Parent: "campaigns/ok", PromotionId: "p", Promotion: automatic(&promotionv1.Effect{
		Kind: &promotionv1.Effect_AmountOff{AmountOff: &promotionv1.AmountOff{Amount: &typev1.Money{CurrencyCode: "USD", AmountMinor: 5},
			Mode: promotionv1.AmountMode_AMOUNT_MODE_ON_ORDER}}})})
	wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "GBP")
	_, err = c.GetCampaign(ctx, &promotionv1.GetCampaignRequest{Name: "campaigns/none"})
	wantErr(t, err, codes.NotFound, "CAMPAIGN_NOT_FOUND")
	_, err = c.EvaluateCart(ctx, &promotionv1.EvaluateCartRequest{Cart: cart("c1", line{"a", -1, 5000})})
	wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "cart.lines[0].quantity")
	_, err = c.RefundRedemption(ctx, &promotionv1.RefundRedemptionRequest{Name: "redemptions/none"})
	wantErr(t, err, codes.NotFound, "REDEMPTION_NOT_FOUND")
	_, err = c.ListCampaigns(ctx, &promotionv1.ListCampaignsRequest{PageToken: "garbage"})
	wantErr(t, err, codes.InvalidArgument, "INVALID_PAGE_TOKEN", "page_token")
}
