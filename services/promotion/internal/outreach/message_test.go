package outreach

import (
	"errors"
	"testing"
	"time"
)

func TestNewMessage(t *testing.T) {
	j := Journey{ID: "cart", Trigger: Trigger{Kind: TriggerCartAbandoned, Hours: 4}, Channels: []Channel{ChannelEmail}}
	night := QuietHours{Start: 22 * 60, End: 6 * 60}
	now := utc("2026-06-01T01:30:00Z")
	m := NewMessage(j, "c1", CartOccurrence("e1"), now, time.UTC, night, now)
	if m.State != StateHeld || !m.Due.Equal(utc("2026-06-01T06:00:00Z")) || m.ID != MessageID("cart", "c1", "cart:e1") || len(m.ID) != 32 {
		t.Errorf("got %+v, want held until 06:00 with the occurrence's id", m)
	}
	again := NewMessage(j, "c1", CartOccurrence("e1"), now.Add(time.Hour), time.UTC, night, now.Add(time.Hour))
	if again.ID != m.ID {
		t.Error("the same occurrence made another message id")
	}
	if other := NewMessage(j, "c1", CartOccurrence("e2"), now, time.UTC, night, now); other.ID == m.ID {
		t.Error("another occurrence made the same message id")
	}
	day := NewMessage(j, "c1", CartOccurrence("e3"), utc("2026-06-01T12:00:00Z"), time.UTC, night, now)
	if day.State != StateScheduled || !day.Due.Equal(utc("2026-06-01T12:00:00Z")) {
		t.Errorf("daytime: got %+v, want scheduled at 12:00", day)
	}
}

func TestApply(t *testing.T) {
	p := RetryPolicy{MaxAttempts: 3, Min: time.Minute, Max: time.Hour}
	now := utc("2026-06-01T12:00:00Z")
	email := Decision{Channel: ChannelEmail}
	fail := errors.New("relay down")
	scheduled := Message{ID: "m", State: StateScheduled}
	tests := []struct {
		name      string
		m         Message
		o         Outcome
		want      State
		reason    SuppressionReason
		attempts  int
		wantError bool
	}{
		{"sent", scheduled, Outcome{Decision: email}, StateSent, ReasonNone, 1, false},
		{"suppressed for the cap", scheduled, Outcome{Decision: Decision{Suppressed: ReasonCap}}, StateSuppressed, ReasonCap, 0, false},
		{"failed, retried later", scheduled, Outcome{Decision: email, Err: fail}, StateFailed, ReasonNone, 1, false},
		{"second failure", Message{ID: "m", State: StateFailed, Attempts: 1}, Outcome{Decision: email, Err: fail}, StateFailed, ReasonNone, 2, false},
		{"last failure: dead", Message{ID: "m", State: StateFailed, Attempts: 2}, Outcome{Decision: email, Err: fail}, StateDead, ReasonNone, 3, false},
		{"permanent failure: dead at once", scheduled, Outcome{Decision: email, Err: fail, Permanent: true}, StateDead, ReasonNone, 1, false},
		{"a retry succeeds", Message{ID: "m", State: StateFailed, Attempts: 2}, Outcome{Decision: email}, StateSent, ReasonNone, 3, false},
		{"a sent message is not sent again", Message{ID: "m", State: StateSent, Attempts: 1}, Outcome{Decision: email}, StateSent, ReasonNone, 1, true},
		{"a dead message stays dead", Message{ID: "m", State: StateDead, Attempts: 3}, Outcome{Decision: email, Err: fail}, StateDead, ReasonNone, 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.m.Apply(tt.o, p, now)
			if (err != nil) != tt.wantError || (err != nil && !errors.Is(err, ErrInvalidTransition)) {
				t.Fatalf("got error %v, want error %v", err, tt.wantError)
			}
			if got.State != tt.want || got.Reason != tt.reason || got.Attempts != tt.attempts {
				t.Errorf("got %s %s after %d attempts, want %s %s after %d", got.State, got.Reason, got.Attempts, tt.want, tt.reason, tt.attempts)
			}
			if got.State == StateFailed && (got.Due.Before(now) || got.Due.After(now.Add(time.Hour))) {
				t.Errorf("next attempt at %s, want within the backoff", got.Due)
			}
		})
	}
}
