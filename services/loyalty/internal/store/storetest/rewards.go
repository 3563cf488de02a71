package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/loyalty/internal/loyalty"
)

// testRewards: stock and per-member limits hold, a cancellation gives the
// points and the stock back, and a fulfilled redemption stays fulfilled.
func testRewards(t *testing.T, a, _ loyalty.Store) {
	c := &clock{t: t0.Add(time.Hour)}
	svc := service(a, c)
	programme(t, svc, nil)
	if err := svc.ApplyEvents(ctx, []loyalty.Event{order(1, "c1", "o1", t0, 50000), order(2, "c2", "o2", t0, 50000)}); err != nil {
		t.Fatal(err)
	}
	mug := loyalty.Reward{ID: "mug", DisplayName: "Mug", Type: loyalty.RewardGoods, PointsCost: 100, Limited: true, Stock: 3,
		PerMemberLimit: 2, ValidFrom: t0}
	must(svc.CreateReward(ctx, mug))(t)
	if _, err := svc.CreateReward(ctx, mug); !errors.Is(err, loyalty.ErrRewardAlreadyExists) {
		t.Fatalf("second create: %v", err)
	}
	gold := loyalty.Reward{ID: "lounge", Type: loyalty.RewardActivity, PointsCost: 10, MinimumTier: "gold"}
	must(svc.CreateReward(ctx, gold))(t)

	var reds []loyalty.RewardRedemption
	for range 2 {
		red, res := must2(svc.RedeemReward(ctx, "c1", "mug"))(t)
		if res.Entry.Points != -100 || red.State != loyalty.RedemptionPending {
			t.Fatalf("redeem = %+v, %+v", red, res)
		}
		reds = append(reds, red)
	}
	wantErr := func(err, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Fatalf("err = %v, want %v", err, want)
		}
	}
	_, _, err := svc.RedeemReward(ctx, "c1", "mug")
	wantErr(err, loyalty.ErrRewardLimitReached)
	_, _, err = svc.RedeemReward(ctx, "c1", "lounge")
	wantErr(err, loyalty.ErrTierTooLow)
	must2(svc.RedeemReward(ctx, "c2", "mug"))(t)
	_, _, err = svc.RedeemReward(ctx, "c2", "mug")
	wantErr(err, loyalty.ErrOutOfStock)

	red, res := must2(svc.FinishRedemption(ctx, "c1", reds[0].Seq, true))(t)
	if red.State != loyalty.RedemptionCancelled || res.Entry.Points != 100 || res.Available != 400 {
		t.Fatalf("cancel = %+v, %+v", red, res)
	}
	if r := must(svc.Reward(ctx, "mug"))(t); r.Stock != 1 {
		t.Fatalf("stock after the cancellation %d, want 1", r.Stock)
	}
	must2(svc.FinishRedemption(ctx, "c1", reds[1].Seq, false))(t)
	_, _, err = svc.FinishRedemption(ctx, "c1", reds[1].Seq, true)
	wantErr(err, loyalty.ErrRedemptionClosed)
	_, err = svc.CancelRedemption(ctx, "c1", reds[1].Seq)
	wantErr(err, loyalty.ErrRedemptionNotFound)
	ex := must(svc.Export(ctx, "c1"))(t)
	if len(ex.Redemptions) != 2 || ex.Redemptions[0].State != loyalty.RedemptionCancelled ||
		ex.Redemptions[1].State != loyalty.RedemptionFulfilled {
		t.Fatalf("exported redemptions %+v", ex.Redemptions)
	}
	rs, next := must2(svc.ListRewards(ctx, 1, ""))(t)
	if len(rs) != 1 || rs[0].ID != "lounge" || next == "" {
		t.Fatalf("first page of rewards %+v, %q", rs, next)
	}
}
