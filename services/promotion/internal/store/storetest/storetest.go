// Package storetest is the conformance suite of promotion.Store: the same
// tests run against every engine (store_test.go runs it on SQLite and
// PostgreSQL).
package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/promotion/internal/pricing"
	"github.com/tenurehq/tenure/services/promotion/internal/promotion"
)

// Opener returns a fresh, migrated store.
type Opener func(t *testing.T) promotion.Store

var t0 = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

// allUsage reads every part of a snapshot.
var allUsage = promotion.UsageNeeds{PromotionCounters: true, CampaignBudgets: true, CustomerUses: true, Frozen: true, Orders: true}

// Run runs the suite.
func Run(t *testing.T, open Opener) {
	t.Run("CatalogVersion", func(t *testing.T) { testCatalogVersion(t, open(t)) })
	t.Run("GuardedCharges", func(t *testing.T) { testGuardedCharges(t, open(t)) })
	t.Run("Codes", func(t *testing.T) { testCodes(t, open(t)) })
}

// seed stores an active campaign with a budget and one promotion with
// limits.
func seed(t *testing.T, s promotion.Store, budget int64, p promotion.Promotion) {
	t.Helper()
	ctx := context.Background()
	c := &promotion.Campaign{ID: "c", Currency: "GBP", Objective: promotion.ObjectiveRetention, Status: promotion.StateDraft,
		Budget: budget, CreateTime: t0, UpdateTime: t0}
	if err := s.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	p.CampaignID, p.PromotionID = "c", "p"
	p.Def = pricing.Definition{ID: "campaigns/c/promotions/p", CampaignID: "c", Kind: pricing.KindCode, Stacking: pricing.Stackable,
		Currency: "GBP", Effect: pricing.Effect{AmountOff: &pricing.AmountOff{Mode: pricing.OnOrder, Amount: 100}}}
	if err := s.CreatePromotion(ctx, &p); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateCampaign(ctx, "c", func(c *promotion.Campaign) ([]promotion.AudienceMember, error) {
		c.Status, c.ActivateTime = promotion.StateActive, t0
		return []promotion.AudienceMember{{CustomerID: "k", Control: true}}, nil
	}); err != nil {
		t.Fatal(err)
	}
}

func testCatalogVersion(t *testing.T, s promotion.Store) {
	ctx := context.Background()
	v0, err := s.CatalogVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seed(t, s, 0, promotion.Promotion{})
	v, cs, ps, err := s.LoadActive(ctx)
	if err != nil || v != v0+3 || len(cs) != 1 || len(ps) != 1 || ps[0].Def.Effect.AmountOff.Amount != 100 {
		t.Fatalf("LoadActive = %d, %v, %v, %v; want version %d, the campaign and its promotion", v, cs, ps, err, v0+3)
	}
	if err := s.CreateCampaign(ctx, cs[0]); !errors.Is(err, promotion.ErrCampaignAlreadyExists) {
		t.Fatalf("second create = %v, want ErrCampaignAlreadyExists", err)
	}
	snap, err := s.Snapshot(ctx, "k", nil, allUsage)
	if err != nil || !snap.Frozen["c"] {
		t.Fatalf("snapshot of k = %+v, %v; want in c's control group", snap, err)
	}
	snap, err = s.Snapshot(ctx, "k", nil, promotion.UsageNeeds{CampaignBudgets: true})
	if err != nil || len(snap.Frozen) != 0 {
		t.Fatalf("snapshot of k's budgets only = %+v, %v; want no frozen audience read", snap, err)
	}
}

func redemption(order, customer string) *promotion.Redemption {
	return &promotion.Redemption{OrderID: order, CustomerID: customer, Fingerprint: "f-" + order, State: promotion.Redeemed,
		ReleasedBy: map[string]int64{}, CreateTime: t0, UpdateTime: t0}
}

func testGuardedCharges(t *testing.T, s promotion.Store) {
	ctx := context.Background()
	seed(t, s, 250, promotion.Promotion{TotalUses: 3})
	ch := promotion.Charge{CampaignID: "c", PromotionID: "p", Cost: 100, UsesPerCustomer: 1}
	for i, want := range []error{nil, nil, promotion.ErrLimitRaced} { // the third takes the budget to 300 > 250
		if _, err := s.Redeem(ctx, redemption(string(rune('a'+i)), string(rune('x'+i))), []promotion.Charge{ch}); !errors.Is(err, want) {
			t.Fatalf("redemption %d = %v, want %v", i, err, want)
		}
	}
	if _, err := s.GetRedemption(ctx, "c"); !errors.Is(err, promotion.ErrRedemptionNotFound) {
		t.Fatalf("the refused redemption was stored: %v", err)
	}
	existing, err := s.Redeem(ctx, redemption("a", "x"), []promotion.Charge{ch})
	if err != nil || existing == nil || existing.Fingerprint != "f-a" {
		t.Fatalf("second redemption of order a = %v, %v; want the stored one", existing, err)
	}
	// The customer's limit of one use: x again is refused.
	ch.Cost = 10
	if _, err := s.Redeem(ctx, redemption("d", "x"), []promotion.Charge{ch}); !errors.Is(err, promotion.ErrLimitRaced) {
		t.Fatalf("x's second use = %v, want ErrLimitRaced", err)
	}
	r, ok, err := s.UpdateRedemption(ctx, "a", "ev-1", func(r *promotion.Redemption) ([]promotion.ReleaseCharge, error) {
		r.State = promotion.Cancelled
		return []promotion.ReleaseCharge{{CampaignID: "c", PromotionID: "p", Amount: 100, ReleaseUse: true}}, nil
	})
	if err != nil || !ok || r.State != promotion.Cancelled {
		t.Fatalf("cancel = %v, %v, %v", r, ok, err)
	}
	if _, ok, err := s.UpdateRedemption(ctx, "a", "ev-1", func(*promotion.Redemption) ([]promotion.ReleaseCharge, error) {
		t.Fatal("an event applied twice")
		return nil, nil
	}); err != nil || ok {
		t.Fatalf("the same event again = %v, %v; want nothing done", ok, err)
	}
	p, err := s.GetPromotion(ctx, "c", "p")
	c, cerr := s.GetCampaign(ctx, "c")
	if err != nil || cerr != nil || p.Uses != 1 || p.BudgetUsed != 100 || c.BudgetUsed != 100 || !p.Redeemed {
		t.Fatalf("promotion = %+v, campaign = %+v (%v, %v); want 1 use and 100 used", p, c, err, cerr)
	}
	if err := s.DeletePromotion(ctx, "c", "p"); !errors.Is(err, promotion.ErrPromotionRedeemed) {
		t.Fatalf("delete = %v, want ErrPromotionRedeemed", err)
	}
}

func testCodes(t *testing.T, s promotion.Store) {
	ctx := context.Background()
	seed(t, s, 0, promotion.Promotion{})
	code := func(c string) promotion.Code {
		return promotion.Code{Code: c, CampaignID: "c", PromotionID: "p", MaxUses: 1}
	}
	taken, err := s.InsertCodes(ctx, []promotion.Code{code("B"), code("A"), code("C")}, nil)
	if err != nil || len(taken) != 0 {
		t.Fatalf("insert = %v, %v", taken, err)
	}
	taken, err = s.InsertCodes(ctx, []promotion.Code{code("D"), code("A")}, nil)
	if err != nil || len(taken) != 1 || taken[0] != "A" {
		t.Fatalf("insert with A taken = %v, %v; want [A]", taken, err)
	}
	page, err := s.ListCodes(ctx, "c", "p", "A", 2)
	if err != nil || len(page) != 2 || page[0].Code != "B" || page[1].Code != "C" {
		t.Fatalf("codes after A = %v, %v; want B, C", page, err)
	}
	snap, err := s.Snapshot(ctx, "x", []string{"D", "Z"}, allUsage)
	if err != nil || len(snap.Codes) != 1 || snap.Codes[0].Code != "D" {
		t.Fatalf("code lookup = %v, %v; want D only", snap.Codes, err)
	}
	op := &promotion.Operation{ID: "op1", CampaignID: "c", PromotionID: "p", State: promotion.OpRunning, Total: 5, CreateTime: t0}
	if err := s.CreateOperation(ctx, op); err != nil {
		t.Fatal(err)
	}
	op.Done, op.State, op.EndTime = 5, promotion.OpSucceeded, t0
	if err := s.UpdateOperation(ctx, op); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetOperation(ctx, "op1")
	if err != nil || got.Done != 5 || got.State != promotion.OpSucceeded || !got.EndTime.Equal(t0) {
		t.Fatalf("operation = %+v, %v", got, err)
	}
	testCodeProgress(t, s)
}

// testCodeProgress checks that codes inserted for an operation count on it
// in the same write: the taken ones do not.
func testCodeProgress(t *testing.T, s promotion.Store) {
	ctx := context.Background()
	op := &promotion.Operation{ID: "op2", CampaignID: "c", PromotionID: "p", State: promotion.OpRunning, Total: 4, Done: 1, CreateTime: t0}
	if err := s.CreateOperation(ctx, op); err != nil {
		t.Fatal(err)
	}
	batch := []promotion.Code{{Code: "E", CampaignID: "c", PromotionID: "p", MaxUses: 1}, {Code: "B", CampaignID: "c", PromotionID: "p", MaxUses: 1},
		{Code: "F", CampaignID: "c", PromotionID: "p", MaxUses: 1}}
	taken, err := s.InsertCodes(ctx, batch, op)
	if err != nil || len(taken) != 1 || taken[0] != "B" || op.Done != 3 {
		t.Fatalf("insert = %v, %v, done %d; want [B] and 3 done", taken, err, op.Done)
	}
	taken, err = s.InsertCodes(ctx, batch[2:], op)
	if err != nil || len(taken) != 1 || op.Done != 3 {
		t.Fatalf("insert of F again = %v, %v, done %d; want [F] and 3 done", taken, err, op.Done)
	}
	got, err := s.GetOperation(ctx, "op2")
	if err != nil || got.Done != 3 || got.State != promotion.OpRunning {
		t.Fatalf("operation = %+v, %v; want 3 done, running", got, err)
	}
}
