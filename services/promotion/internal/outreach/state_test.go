package outreach

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestTransitions(t *testing.T) {
	allowed := map[[2]State]bool{
		{StateScheduled, StateHeld}: true, {StateScheduled, StateSuppressed}: true, {StateScheduled, StateSent}: true,
		{StateScheduled, StateFailed}: true, {StateScheduled, StateDead}: true, {StateHeld, StateDead}: true,
		{StateHeld, StateScheduled}: true, {StateHeld, StateSuppressed}: true, {StateHeld, StateSent}: true, {StateHeld, StateFailed}: true,
		{StateFailed, StateSent}: true, {StateFailed, StateFailed}: true, {StateFailed, StateDead}: true, {StateFailed, StateSuppressed}: true,
		{StateSent, StateDelivered}: true,
	}
	for from := StateUnspecified; from <= StateDead; from++ {
		for to := StateUnspecified; to <= StateDead; to++ {
			want := allowed[[2]State{from, to}]
			err := Transition(from, to)
			if (err == nil) != want || (err != nil && !errors.Is(err, ErrInvalidTransition)) {
				t.Errorf("%s → %s: got %v, want allowed %v", from, to, err, want)
			}
			if from.Final() && err == nil {
				t.Errorf("%s is final but moves to %s", from, to)
			}
		}
	}
	for _, s := range []State{StateSuppressed, StateDelivered, StateDead} {
		if !s.Final() {
			t.Errorf("%s: not final", s)
		}
	}
}

func TestNames(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{StateHeld.String(), "held"}, {StateDead.String(), "dead"}, {ReasonCap.String(), "cap"},
		{ReasonNoConsent.String(), "no_consent"}, {ChannelInApp.String(), "in_app"}, {TriggerPointsExpiring.String(), "points_expiring"},
		{State(99).String(), "state(99)"}, {fmt.Sprint(Channel(-1)), "channel(-1)"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	for c := ChannelEmail; c <= ChannelWebhook; c++ {
		if got, ok := ParseChannel(c.String()); !ok || got != c {
			t.Errorf("ParseChannel(%q) = %v, %v", c, got, ok)
		}
	}
	if _, ok := ParseChannel(""); ok {
		t.Error(`ParseChannel("") succeeded`)
	}
}

func TestRetry(t *testing.T) {
	p := RetryPolicy{MaxAttempts: 4, Min: time.Minute, Max: 5 * time.Minute}
	failed := utc("2026-06-01T10:00:00Z")
	for _, tt := range []struct {
		attempt int
		state   State
		max     time.Duration // the backoff before jitter: the wait is in [max/2, max]
	}{
		{1, StateFailed, time.Minute}, {2, StateFailed, 2 * time.Minute}, {3, StateFailed, 4 * time.Minute}, {4, StateDead, 0},
	} {
		for range 50 { // jittered: every draw stays in bounds
			state, next := p.AfterFailure(tt.attempt, failed)
			if state != tt.state {
				t.Fatalf("attempt %d: got %s, want %s", tt.attempt, state, tt.state)
			}
			if state == StateDead {
				if !next.IsZero() {
					t.Errorf("attempt %d: dead with a next attempt at %s", tt.attempt, next)
				}
				continue
			}
			if wait := next.Sub(failed); wait < tt.max/2 || wait > tt.max {
				t.Errorf("attempt %d: waits %s, want %s to %s", tt.attempt, wait, tt.max/2, tt.max)
			}
		}
	}
	capped := RetryPolicy{MaxAttempts: 20, Min: time.Minute, Max: 5 * time.Minute}
	if _, next := capped.AfterFailure(10, failed); next.Sub(failed) > 5*time.Minute {
		t.Errorf("attempt 10 waits %s, want at most the 5m ceiling", next.Sub(failed))
	}
}
