package grpcapi

import (
	"slices"
	"testing"

	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	"github.com/tenurehq/tenure/services/promotion/internal/pricing"
)

// TestNotAppliedReasons checks every reason of the engine has its value in
// the API's NotAppliedReason, and the API has no value the engine never
// gives.
func TestNotAppliedReasons(t *testing.T) {
	engine := map[string]bool{}
	for _, r := range pricing.Reasons() {
		engine[string(r)] = true
		n := fromResult(pricing.Result{NotApplied: []pricing.NotApplied{{Reason: r}}}).GetNotApplied()[0]
		if n.GetReason().String() != string(r) {
			t.Errorf("reason %s converts to %v", r, n.GetReason())
		}
	}
	for name, v := range promotionv1.NotAppliedReason_value {
		if v != 0 && !engine[name] {
			t.Errorf("NotAppliedReason %s is never given", name)
		}
	}
}

// TestResultTexts checks the texts fromResult gathers in one buffer land in
// their own fields: each applied promotion's campaign name and each reason's
// message, empty for a reason that needs no words.
func TestResultTexts(t *testing.T) {
	r := pricing.Result{Currency: "GBP",
		Applied: []pricing.Applied{{PromotionID: "p1", CampaignID: "c1"}, {PromotionID: "p2", CampaignID: "summer-2"}},
		NotApplied: []pricing.NotApplied{
			{Reason: pricing.ReasonMinSubtotalNotMet, Needed: 5000, Seen: 1234},
			{Reason: pricing.ReasonOutsideSchedule},
			{Reason: pricing.ReasonMinQuantityNotMet, Needed: 3, Seen: 2},
			{Reason: pricing.ReasonBudgetExhausted, Needed: 700, Seen: 0},
			{Reason: pricing.ReasonStockExhausted, Needed: 2, Seen: -1},
			{Reason: pricing.ReasonExcludedByStacking, ByPromotionID: "campaigns/c1/promotions/p1"},
			{Reason: pricing.ReasonCodeNotFound, Code: "SAVE10"},
		}}
	ev := fromResult(r)
	var campaigns []string
	for _, a := range ev.GetApplied() {
		campaigns = append(campaigns, a.GetCampaign())
	}
	if want := []string{"campaigns/c1", "campaigns/summer-2"}; !slices.Equal(campaigns, want) {
		t.Errorf("campaigns = %q, want %q", campaigns, want)
	}
	want := []string{
		"the eligible subtotal is 1234, it needs 5000",
		"",
		"2 eligible units, it needs 3",
		"the discount of 700 is more than the 0 left of its budget",
		"2 units needed, -1 left",
		"excluded by campaigns/c1/promotions/p1",
		"no promotion has code SAVE10",
	}
	var got []string
	for _, n := range ev.GetNotApplied() {
		got = append(got, n.GetMessage())
	}
	if !slices.Equal(got, want) {
		t.Errorf("messages =\n%q\nwant\n%q", got, want)
	}
}
