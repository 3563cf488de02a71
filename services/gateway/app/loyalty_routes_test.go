package app_test

import (
	"net/http"
	"strings"
	"testing"
)

// rewardRedemption is a RewardRedemption as the gateway renders it.
type rewardRedemption struct {
	Name  string `json:"name"`
	State string `json:"state"`
}

// TestLoyaltyRewardRoutes: a reward redeemed, fulfilled and cancelled
// through the JSON routes, with the points and stock they leave.
func TestLoyaltyRewardRoutes(t *testing.T) {
	s := startStack(t, stackOptions{})
	post := func(path, body string, want int) []byte {
		t.Helper()
		code, b := s.do(t, http.MethodPost, path, strings.NewReader(body), nil)
		if code != want {
			t.Fatalf("POST %s = %d %s, want %d", path, code, b, want)
		}
		return b
	}
	post("/v1/members?memberId=c1", `{}`, http.StatusOK)
	post("/v1/members/c1:adjustPoints", `{"points":"100","reason":"welcome","operator":"ops"}`, http.StatusOK)
	post("/v1/rewards?rewardId=mug", `{"displayName":"Mug","type":"REWARD_TYPE_GOODS","pointsCost":"30","stock":"2"}`, http.StatusOK)
	redeem := func() rewardRedemption {
		t.Helper()
		b := post("/v1/members/c1:redeemReward", `{"reward":"rewards/mug"}`, http.StatusOK)
		return decode[struct {
			Redemption rewardRedemption `json:"redemption"`
		}](t, b).Redemption
	}
	kept, back := redeem(), redeem()

	b := post("/v1/"+kept.Name+":fulfil", `{"requestId":"f-1"}`, http.StatusOK)
	if r := decode[struct{ Redemption rewardRedemption }](t, b).Redemption; r.State != "REWARD_REDEMPTION_STATE_FULFILLED" {
		t.Fatalf("fulfil = %s", b)
	}
	b = post("/v1/"+back.Name+":cancel", `{}`, http.StatusOK)
	if r := decode[struct{ Redemption rewardRedemption }](t, b).Redemption; r.State != "REWARD_REDEMPTION_STATE_CANCELLED" {
		t.Fatalf("cancel = %s", b)
	}
	b = post("/v1/"+kept.Name+":cancel", `{}`, http.StatusBadRequest)
	if !strings.Contains(string(b), "REDEMPTION_CLOSED") {
		t.Fatalf("cancel of a fulfilled redemption = %s, want REDEMPTION_CLOSED", b)
	}

	code, b := s.do(t, http.MethodGet, "/v1/members/c1", nil, nil)
	if m := decode[struct {
		AvailablePoints string `json:"availablePoints"`
	}](t, b); code != http.StatusOK || m.AvailablePoints != "70" {
		t.Fatalf("member = %d %s, want 70 available points (100 − 30 fulfilled)", code, b)
	}
	code, b = s.do(t, http.MethodGet, "/v1/rewards/mug", nil, nil)
	if r := decode[struct {
		Stock string `json:"stock"`
	}](t, b); code != http.StatusOK || r.Stock != "1" {
		t.Fatalf("reward = %d %s, want 1 left in stock", code, b)
	}
}
