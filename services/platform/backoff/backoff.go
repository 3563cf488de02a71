// Package backoff paces retry loops: jittered exponential delays between a
// floor and a ceiling, so that many clients retrying against the same
// recovering dependency (etcd, a database, another service) spread out
// instead of arriving together.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Defaults used when a Backoff's bounds are zero.
const (
	DefaultMin = 100 * time.Millisecond
	DefaultMax = 5 * time.Second
)

// Backoff is the state of one retry loop. The zero value uses DefaultMin and
// DefaultMax. It is not safe for concurrent use.
type Backoff struct {
	// Min is the first delay; Max caps the doubling.
	Min, Max time.Duration

	next time.Duration
}

// Next returns the delay before the next attempt, a random duration in
// [d/2, d] where d starts at Min and doubles on each call up to Max.
func (b *Backoff) Next() time.Duration {
	lo, hi := b.bounds()
	if b.next < lo {
		b.next = lo
	}
	d := b.next
	b.next = min(2*d, hi)
	return jitter(d)
}

// Attempt returns the delay before retry n (1-based) of a loop that keeps
// no state of its own: what the n-th call of Next would return, a random
// duration in [d/2, d] with d = Min doubled n-1 times, at most Max.
func (b Backoff) Attempt(n int) time.Duration {
	lo, hi := b.bounds()
	d := hi
	if shift := max(n-1, 0); shift < 62 && lo<<shift > 0 && lo<<shift < hi {
		d = lo << shift
	}
	return jitter(d)
}

// Reset makes the next delay Min again, after an attempt succeeded.
func (b *Backoff) Reset() { b.next = 0 }

// Wait sleeps for Next() and returns nil, or returns ctx.Err() as soon as
// ctx is done.
func (b *Backoff) Wait(ctx context.Context) error { return Sleep(ctx, b.Next()) }

func (b Backoff) bounds() (time.Duration, time.Duration) {
	lo, hi := b.Min, b.Max
	if lo <= 0 {
		lo = DefaultMin
	}
	if hi < lo {
		hi = max(lo, DefaultMax)
	}
	return lo, hi
}

// jitter returns a random duration in [d/2, d].
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d/2 + rand.N(d/2+1)
}

// Sleep waits for d and returns nil, or returns ctx.Err() as soon as ctx is
// done.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
