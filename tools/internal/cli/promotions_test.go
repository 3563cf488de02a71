package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	typev1 "github.com/tenurehq/tenure/gen/tenure/type/v1"
)

// TestPromotionCommands runs campaigns list, show and report, codes
// generate and export and carts evaluate against the real services through
// the gateway.
func TestPromotionCommands(t *testing.T) {
	conn, gw := startPromotionStack(t)
	c := promotionv1.NewPromotionServiceClient(conn)
	ctx := context.Background()
	if _, err := c.CreateCampaign(ctx, &promotionv1.CreateCampaignRequest{CampaignId: "spring", Campaign: &promotionv1.Campaign{
		CurrencyCode: "GBP", Objective: promotionv1.Objective_OBJECTIVE_RETENTION, Budget: &typev1.Money{CurrencyCode: "GBP", AmountMinor: 50000}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreatePromotion(ctx, &promotionv1.CreatePromotionRequest{Parent: "campaigns/spring", PromotionId: "coupon", Promotion: &promotionv1.Promotion{
		Kind: promotionv1.PromotionKind_PROMOTION_KIND_CODE, Stacking: promotionv1.Stacking_STACKING_STACKABLE,
		Effect: &promotionv1.Effect{Kind: &promotionv1.Effect_PercentOff{PercentOff: &promotionv1.PercentOff{BasisPoints: 2000, Scope: promotionv1.Scope_SCOPE_LINES}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ActivateCampaign(ctx, &promotionv1.ActivateCampaignRequest{Name: "campaigns/spring"}); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := run(t, true, append([]string{"codes", "generate", "spring/coupon", "--count", "300", "--prefix", "SP"}, gw...)...)
	if code != 0 || !strings.Contains(stdout, "300 codes generated for campaigns/spring/promotions/coupon") || !strings.Contains(stderr, "codes") {
		t.Fatalf("codes generate: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = run(t, false, append([]string{"codes", "export", "spring/coupon"}, gw...)...)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != 0 || len(lines) != 301 || lines[0] != "code,max_uses,uses,customer_id" || !strings.HasPrefix(lines[1], "SP") {
		t.Fatalf("codes export: exit %d, %d lines\n%s", code, len(lines), stderr)
	}
	first := strings.Split(lines[1], ",")[0]

	cart := filepath.Join(t.TempDir(), "cart.json")
	if err := os.WriteFile(cart, []byte(`{"customerId":"c1","currencyCode":"GBP","codes":["`+strings.ToLower(first)+`","NOPE"],
		"lines":[{"lineId":"1","sku":"MUG","quantity":"2","unitPrice":{"currencyCode":"GBP","amountMinor":"1250"}}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = run(t, false, append([]string{"carts", "evaluate", "--file", cart}, gw...)...)
	if code != 0 || !strings.Contains(stdout, "2,000 GBP") || !strings.Contains(stdout, "CODE_NOT_FOUND") ||
		!strings.Contains(stdout, "campaigns/spring/promotions/coupon") {
		t.Fatalf("carts evaluate: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, args := range [][]string{{"campaigns", "list"}, {"campaigns", "show", "spring"}, {"campaigns", "report", "spring"}} {
		code, stdout, stderr = run(t, false, append(args, gw...)...)
		if code != 0 || !strings.Contains(stdout, "50,000 GBP") {
			t.Fatalf("%v: exit %d\n%s\n%s", args, code, stdout, stderr)
		}
	}
	code, _, stderr = run(t, false, append([]string{"campaigns", "show", "nope"}, gw...)...)
	if code != 1 || !strings.Contains(stderr, "campaign not found") {
		t.Fatalf("show of an unknown campaign: exit %d\n%s", code, stderr)
	}
}
