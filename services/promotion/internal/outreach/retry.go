package outreach

import (
	"time"

	"github.com/tenurehq/tenure/services/platform/backoff"
)

// RetryPolicy paces a message's delivery attempts: after the n-th failed
// attempt the next one waits a jittered exponential delay (platform
// backoff: a random duration in [d/2, d], d = Min·2^(n−1) up to Max), and
// after MaxAttempts attempts the message is dead.
type RetryPolicy struct {
	MaxAttempts int
	Min, Max    time.Duration
}

// DefaultRetryPolicy tries a message 6 times over about an hour.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 6, Min: 30 * time.Second, Max: 30 * time.Minute}

// AfterFailure returns the state a message moves to after its attempt-th
// attempt (1 for the first) failed at failedAt, and when to try again:
// StateFailed with the next attempt's time, or StateDead after the last.
func (p RetryPolicy) AfterFailure(attempt int, failedAt time.Time) (State, time.Time) {
	if attempt >= max(p.MaxAttempts, 1) {
		return StateDead, time.Time{}
	}
	b := backoff.Backoff{Min: p.Min, Max: p.Max}
	return StateFailed, failedAt.Add(b.Attempt(attempt))
}
