package promotion

import (
	"errors"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/promotion/internal/pricing"
)

var now = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

func TestTransition(t *testing.T) {
	future, past := now.Add(time.Hour), now.Add(-time.Hour)
	tests := []struct {
		name    string
		c       Campaign
		action  Action
		want    State
		wantErr error
	}{
		{"draft activates", Campaign{Status: StateDraft}, ActionActivate, StateActive, nil},
		{"draft activates before its start (scheduled)", Campaign{Status: StateDraft, Start: future}, ActionActivate, StateActive, nil},
		{"paused activates", Campaign{Status: StatePaused}, ActionActivate, StateActive, nil},
		{"active does not activate", Campaign{Status: StateActive}, ActionActivate, 0, ErrInvalidTransition},
		{"draft does not pause", Campaign{Status: StateDraft}, ActionPause, 0, ErrInvalidTransition},
		{"scheduled pauses", Campaign{Status: StateActive, Start: future}, ActionPause, StatePaused, nil},
		{"active pauses", Campaign{Status: StateActive}, ActionPause, StatePaused, nil},
		{"paused ends", Campaign{Status: StatePaused}, ActionEnd, StateEnded, nil},
		{"draft does not end", Campaign{Status: StateDraft}, ActionEnd, 0, ErrInvalidTransition},
		{"ended stays ended", Campaign{Status: StateEnded}, ActionActivate, 0, ErrCampaignEnded},
		{"past its end it is ended", Campaign{Status: StateActive, End: past}, ActionPause, 0, ErrCampaignEnded},
		{"a paused campaign past its end does not activate", Campaign{Status: StatePaused, End: past}, ActionActivate, 0, ErrCampaignEnded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.c.Transition(tt.action, now)
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Fatalf("got %v, %v; want %v, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestStateAt(t *testing.T) {
	c := Campaign{Status: StateActive, Start: now, End: now.Add(time.Hour)}
	for _, tt := range []struct {
		at   time.Time
		want State
	}{{now.Add(-time.Second), StateScheduled}, {now, StateActive}, {now.Add(time.Hour - 1), StateActive}, {now.Add(time.Hour), StateEnded}} {
		if got := c.StateAt(tt.at); got != tt.want {
			t.Errorf("state at %s = %v, want %v", tt.at, got, tt.want)
		}
	}
}

func TestCampaignAudience(t *testing.T) {
	seg := Audience{Segments: []string{"vip"}}
	tiers := Audience{LoyaltyTiers: []string{"gold"}}
	tests := []struct {
		name   string
		c      Campaign
		frozen map[string]bool
		inSeg  map[string]bool
		segOK  bool
		tier   string
		tierOK bool
		want   pricing.Audience
	}{
		{"everyone", Campaign{ID: "c"}, nil, nil, true, "", true, pricing.AudienceEveryone},
		{"in the segment", Campaign{ID: "c", Audience: seg}, nil, map[string]bool{"segments/vip": true}, true, "", true, pricing.AudienceMember},
		{"not in the segment", Campaign{ID: "c", Audience: seg}, nil, map[string]bool{}, true, "", true, pricing.AudienceNotMember},
		{"segmentation unavailable", Campaign{ID: "c", Audience: seg}, nil, nil, false, "", true, pricing.AudienceUnavailable},
		{"loyalty tier", Campaign{ID: "c", Audience: tiers}, nil, nil, false, "gold", true, pricing.AudienceMember},
		{"loyalty unavailable", Campaign{ID: "c", Audience: tiers}, nil, nil, true, "", false, pricing.AudienceUnavailable},
		{"frozen treatment", Campaign{ID: "c", Audience: seg, HoldoutPercent: 10}, map[string]bool{"c": false}, nil, false, "", true, pricing.AudienceMember},
		{"frozen control", Campaign{ID: "c", Audience: seg, HoldoutPercent: 10}, map[string]bool{"c": true}, nil, false, "", true, pricing.AudienceHoldout},
		{"not in the frozen audience", Campaign{ID: "c", Audience: seg, HoldoutPercent: 10}, map[string]bool{}, map[string]bool{"segments/vip": true}, true, "", true, pricing.AudienceNotMember},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := campaignAudience(&tt.c, "cust", &Snapshot{Frozen: tt.frozen}, tt.inSeg, tt.segOK, tt.tier, tt.tierOK)
			if got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
