package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"github.com/tenurehq/tenure/services/promotion/internal/pricing"
	"github.com/tenurehq/tenure/services/promotion/internal/promotion"
)

// BenchmarkSnapshot reads the usage of one customer with 100 active
// promotions in 10 campaigns with budgets, on SQLite: what every cart
// evaluation reads.
func BenchmarkSnapshot(b *testing.B) {
	ctx := context.Background()
	db, _ := sqlstoretest.SQLiteDSN(b)
	s := migrated(b, db)
	t0 := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	for k := range 10 {
		cid := fmt.Sprintf("c%02d", k)
		if err := s.CreateCampaign(ctx, &promotion.Campaign{ID: cid, Currency: "GBP", Objective: promotion.ObjectiveRetention,
			Status: promotion.StateDraft, Budget: 1_000_000_000, CreateTime: t0, UpdateTime: t0}); err != nil {
			b.Fatal(err)
		}
		for j := range 10 {
			p := promotion.Promotion{CampaignID: cid, PromotionID: fmt.Sprintf("p%02d", j)}
			p.Def = pricing.Definition{ID: promotion.PromotionNames.Format(cid, p.PromotionID), CampaignID: cid, Kind: pricing.KindAutomatic,
				Stacking: pricing.Stackable, Currency: "GBP", Effect: pricing.Effect{AmountOff: &pricing.AmountOff{Mode: pricing.OnOrder, Amount: 100}}}
			if err := s.CreatePromotion(ctx, &p); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := s.UpdateCampaign(ctx, cid, func(c *promotion.Campaign) ([]promotion.AudienceMember, error) {
			c.Status, c.ActivateTime = promotion.StateActive, t0
			return nil, nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		snap, err := s.Snapshot(ctx, "k", nil, promotion.UsageNeeds{CampaignBudgets: true})
		if err != nil || len(snap.CampaignBudgetUsed) != 10 {
			b.Fatalf("snapshot = %+v, %v", snap, err)
		}
	}
}
