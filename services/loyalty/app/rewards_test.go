package app_test

import (
	"testing"
	"time"

	loyaltyv1 "github.com/tenurehq/tenure/gen/tenure/loyalty/v1"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// TestRewardFulfilAndCancel: a redemption fulfilled keeps its points and
// stock; one cancelled gives both back; a closed redemption cannot be
// fulfilled or cancelled again; retries return the first answer; bad
// names and unknown redemptions are refused with their reasons.
func TestRewardFulfilAndCancel(t *testing.T) {
	stacktest.Engines(t, func(t *testing.T, engine string) {
		f := start(t, engine, func() time.Time { return t0 })
		c := f.loyalty
		if _, err := c.CreateMember(ctx, &loyaltyv1.CreateMemberRequest{MemberId: "c1"}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.AdjustPoints(ctx, &loyaltyv1.AdjustPointsRequest{Member: "members/c1", Points: 100, Reason: "welcome",
			Operator: "ops"}); err != nil {
			t.Fatal(err)
		}
		stock := int64(2)
		if _, err := c.CreateReward(ctx, &loyaltyv1.CreateRewardRequest{RewardId: "mug", Reward: &loyaltyv1.Reward{
			DisplayName: "Mug", Type: loyaltyv1.RewardType_REWARD_TYPE_GOODS, PointsCost: 30, Stock: &stock}}); err != nil {
			t.Fatal(err)
		}
		redeem := func() *loyaltyv1.RedeemRewardResponse {
			t.Helper()
			r, err := c.RedeemReward(ctx, &loyaltyv1.RedeemRewardRequest{Member: "members/c1", Reward: "rewards/mug"})
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		stockLeft := func() int64 {
			t.Helper()
			r, err := c.GetReward(ctx, &loyaltyv1.GetRewardRequest{Name: "rewards/mug"})
			if err != nil {
				t.Fatal(err)
			}
			return r.GetReward().GetStock()
		}
		kept, back := redeem(), redeem()
		if kept.GetAvailablePoints() != 70 || back.GetAvailablePoints() != 40 || stockLeft() != 0 {
			t.Fatalf("after two redemptions: %v, %v, stock %d; want 70, 40 points and no stock", kept, back, stockLeft())
		}

		req := &loyaltyv1.FulfilRewardRedemptionRequest{Name: kept.GetRedemption().GetName(), RequestId: "f-1"}
		ful, err := c.FulfilRewardRedemption(ctx, req)
		if err != nil || ful.GetRedemption().GetState() != loyaltyv1.RewardRedemptionState_REWARD_REDEMPTION_STATE_FULFILLED {
			t.Fatalf("fulfil = %v, %v", ful, err)
		}
		if again, err := c.FulfilRewardRedemption(ctx, req); err != nil || !proto.Equal(ful, again) {
			t.Fatalf("fulfil retry = %v, %v; want the first answer", again, err)
		}
		if m := f.member(t, "c1"); m.GetAvailablePoints() != 40 || stockLeft() != 0 {
			t.Fatalf("after fulfil: %d points, stock %d; want 40 and 0", m.GetAvailablePoints(), stockLeft())
		}

		can, err := c.CancelRewardRedemption(ctx, &loyaltyv1.CancelRewardRedemptionRequest{Name: back.GetRedemption().GetName()})
		if err != nil || can.GetRedemption().GetState() != loyaltyv1.RewardRedemptionState_REWARD_REDEMPTION_STATE_CANCELLED ||
			can.GetEntry().GetType() != loyaltyv1.EntryType_ENTRY_TYPE_CANCEL || can.GetEntry().GetPoints() != 30 {
			t.Fatalf("cancel = %v, %v; want cancelled with a cancel entry of 30 points", can, err)
		}
		if m := f.member(t, "c1"); m.GetAvailablePoints() != 70 || stockLeft() != 1 {
			t.Fatalf("after cancel: %d points, stock %d; want 70 and 1", m.GetAvailablePoints(), stockLeft())
		}

		// Closed redemptions stay closed.
		_, err = c.CancelRewardRedemption(ctx, &loyaltyv1.CancelRewardRedemptionRequest{Name: kept.GetRedemption().GetName()})
		wantErr(t, err, codes.FailedPrecondition, "REDEMPTION_CLOSED", "fulfilled")
		_, err = c.FulfilRewardRedemption(ctx, &loyaltyv1.FulfilRewardRedemptionRequest{Name: back.GetRedemption().GetName()})
		wantErr(t, err, codes.FailedPrecondition, "REDEMPTION_CLOSED", "cancelled")
		// Unknown and malformed redemptions.
		_, err = c.FulfilRewardRedemption(ctx, &loyaltyv1.FulfilRewardRedemptionRequest{Name: "members/c1/rewardRedemptions/999"})
		wantErr(t, err, codes.NotFound, "REDEMPTION_NOT_FOUND")
		_, err = c.CancelRewardRedemption(ctx, &loyaltyv1.CancelRewardRedemptionRequest{Name: "members/c1/redemptions/x"})
		wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "name")
		_, err = c.FulfilRewardRedemption(ctx, &loyaltyv1.FulfilRewardRedemptionRequest{Name: "members/nobody/rewardRedemptions/1"})
		wantErr(t, err, codes.NotFound, "MEMBER_NOT_FOUND")
	})
}
