package outreach

import "testing"

func consent(granted ...Channel) Consent {
	return func(c Channel) bool {
		for _, g := range granted {
			if g == c {
				return true
			}
		}
		return false
	}
}

func TestDecide(t *testing.T) {
	order := []Channel{ChannelPush, ChannelEmail, ChannelSMS}
	tests := []struct {
		name          string
		order         []Channel
		transactional bool
		r             Recipient
		want          Decision
	}{
		{"first channel with consent", order, false, Recipient{Consent: consent(ChannelSMS, ChannelEmail)}, Decision{Channel: ChannelEmail}},
		{"the preferred channel", order, false, Recipient{Consent: consent(ChannelPush, ChannelSMS)}, Decision{Channel: ChannelPush}},
		{"no consent on any channel of the order", order, false, Recipient{Consent: consent(ChannelInApp)}, Decision{Suppressed: ReasonNoConsent}},
		{"no consent read", order, false, Recipient{}, Decision{Suppressed: ReasonNoConsent}},
		{"holdout", order, false, Recipient{Holdout: true, Unsubscribed: true, Consent: consent(ChannelEmail)}, Decision{Suppressed: ReasonHoldout}},
		{"unsubscribed", order, false, Recipient{Unsubscribed: true, Consent: consent(ChannelEmail)}, Decision{Suppressed: ReasonUnsubscribed}},
		{"transactional needs no marketing consent", order, true, Recipient{Holdout: true, Unsubscribed: true}, Decision{Channel: ChannelPush}},
		{"empty order", nil, true, Recipient{}, Decision{Suppressed: ReasonNoConsent}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Decide(tt.order, tt.transactional, tt.r); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
