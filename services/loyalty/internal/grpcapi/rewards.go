package grpcapi

import (
	"context"

	loyaltyv1 "github.com/tenurehq/tenure/gen/tenure/loyalty/v1"
	"github.com/tenurehq/tenure/services/platform/fielderr"
)

// CreateReward implements loyaltyv1.LoyaltyServiceServer.
func (s *Server) CreateReward(ctx context.Context, req *loyaltyv1.CreateRewardRequest) (*loyaltyv1.CreateRewardResponse, error) {
	if req.GetReward() == nil {
		return nil, &fielderr.Error{Path: "reward", Problem: "is required", Fix: "send the reward to create"}
	}
	r, err := toReward(req.GetRewardId(), req.GetReward())
	if err != nil {
		return nil, err
	}
	if r, err = s.svc.CreateReward(ctx, r); err != nil {
		return nil, err
	}
	return &loyaltyv1.CreateRewardResponse{Reward: fromReward(r)}, nil
}

// GetReward implements loyaltyv1.LoyaltyServiceServer.
func (s *Server) GetReward(ctx context.Context, req *loyaltyv1.GetRewardRequest) (*loyaltyv1.GetRewardResponse, error) {
	id, err := rewardNames.ParseID("name", req.GetName())
	if err != nil {
		return nil, err
	}
	r, err := s.svc.Reward(ctx, id)
	if err != nil {
		return nil, err
	}
	return &loyaltyv1.GetRewardResponse{Reward: fromReward(r)}, nil
}

// ListRewards implements loyaltyv1.LoyaltyServiceServer.
func (s *Server) ListRewards(ctx context.Context, req *loyaltyv1.ListRewardsRequest) (*loyaltyv1.ListRewardsResponse, error) {
	rs, next, err := s.svc.ListRewards(ctx, int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &loyaltyv1.ListRewardsResponse{NextPageToken: next}
	for _, r := range rs {
		out.Rewards = append(out.Rewards, fromReward(r))
	}
	return out, nil
}

// RedeemReward implements loyaltyv1.LoyaltyServiceServer.
func (s *Server) RedeemReward(ctx context.Context, req *loyaltyv1.RedeemRewardRequest) (*loyaltyv1.RedeemRewardResponse, error) {
	id, err := memberNames.ParseID("member", req.GetMember())
	if err != nil {
		return nil, err
	}
	rid, err := rewardNames.ParseID("reward", req.GetReward())
	if err != nil {
		return nil, err
	}
	red, r, err := s.svc.RedeemReward(ctx, id, rid)
	if err != nil {
		return nil, err
	}
	return &loyaltyv1.RedeemRewardResponse{Redemption: fromRedemption(red), Entry: fromEntry(id, r.Entry), AvailablePoints: r.Available}, nil
}

// FulfilRewardRedemption implements loyaltyv1.LoyaltyServiceServer.
func (s *Server) FulfilRewardRedemption(ctx context.Context, req *loyaltyv1.FulfilRewardRedemptionRequest) (*loyaltyv1.FulfilRewardRedemptionResponse, error) {
	id, seq, err := parseSeq(redemptionNames, "name", req.GetName())
	if err != nil {
		return nil, err
	}
	red, _, err := s.svc.FinishRedemption(ctx, id, seq, false)
	if err != nil {
		return nil, err
	}
	return &loyaltyv1.FulfilRewardRedemptionResponse{Redemption: fromRedemption(red)}, nil
}

// CancelRewardRedemption implements loyaltyv1.LoyaltyServiceServer.
func (s *Server) CancelRewardRedemption(ctx context.Context, req *loyaltyv1.CancelRewardRedemptionRequest) (*loyaltyv1.CancelRewardRedemptionResponse, error) {
	id, seq, err := parseSeq(redemptionNames, "name", req.GetName())
	if err != nil {
		return nil, err
	}
	red, r, err := s.svc.FinishRedemption(ctx, id, seq, true)
	if err != nil {
		return nil, err
	}
	return &loyaltyv1.CancelRewardRedemptionResponse{Redemption: fromRedemption(red), Entry: fromEntry(id, r.Entry)}, nil
}
