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

// TestLoyaltyExpiringPointsRoute: GET /v1/members:expiringPoints lists the
// members whose points expire within withinDays, with the points and the
// first expiry, page by page; a bad window names the field.
func TestLoyaltyExpiringPointsRoute(t *testing.T) {
	s := startStack(t, stackOptions{})
	code, b := s.do(t, http.MethodPatch, "/v1/loyalty/programme?updateMask=expiry_months", strings.NewReader(`{"expiryMonths":1}`), nil)
	if code != http.StatusOK {
		t.Fatalf("PATCH programme = %d %s", code, b)
	}
	for _, id := range []string{"c1", "c2", "c3"} {
		if code, b := s.do(t, http.MethodPost, "/v1/members?memberId="+id, strings.NewReader(`{}`), nil); code != http.StatusOK {
			t.Fatalf("create %s = %d %s", id, code, b)
		}
		body := `{"points":"40","reason":"welcome","operator":"ops"}`
		if code, b := s.do(t, http.MethodPost, "/v1/members/"+id+":adjustPoints", strings.NewReader(body), nil); code != http.StatusOK {
			t.Fatalf("adjust %s = %d %s", id, code, b)
		}
	}
	type page struct {
		Members []struct {
			Member             string `json:"member"`
			Points             string `json:"points"`
			EarliestExpireTime string `json:"earliestExpireTime"`
		} `json:"members"`
		NextPageToken string `json:"nextPageToken"`
	}
	var got []string
	for token := ""; ; {
		code, b := s.do(t, http.MethodGet, "/v1/members:expiringPoints?withinDays=32&pageSize=2&pageToken="+token, nil, nil)
		if code != http.StatusOK {
			t.Fatalf("expiringPoints = %d %s", code, b)
		}
		p := decode[page](t, b)
		for _, m := range p.Members {
			if m.Points != "40" || m.EarliestExpireTime == "" {
				t.Fatalf("member %+v, want 40 points and an expiry time", m)
			}
			got = append(got, m.Member)
		}
		if token = p.NextPageToken; token == "" {
			break
		}
	}
	if strings.Join(got, " ") != "members/c1 members/c2 members/c3" {
		t.Fatalf("expiring within 32 days: %v, want c1, c2, c3", got)
	}
	code, b = s.do(t, http.MethodGet, "/v1/members:expiringPoints?withinDays=1", nil, nil)
	if code != http.StatusOK || len(decode[page](t, b).Members) != 0 {
		t.Fatalf("within 1 day = %d %s, want no member", code, b)
	}
	code, b = s.do(t, http.MethodGet, "/v1/members:expiringPoints?withinDays=0", nil, nil)
	if code != http.StatusBadRequest || !strings.Contains(string(b), "within_days") {
		t.Fatalf("within 0 days = %d %s, want 400 naming within_days", code, b)
	}
}
