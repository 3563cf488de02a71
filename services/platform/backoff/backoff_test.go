package backoff_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/backoff"
)

func TestNextDoublesWithinBounds(t *testing.T) {
	b := backoff.Backoff{Min: 100 * time.Millisecond, Max: 700 * time.Millisecond}
	// The ceiling of each step: doubling from Min, capped at Max.
	for i, ceil := range []time.Duration{100, 200, 400, 700, 700} {
		ceil *= time.Millisecond
		if d := b.Next(); d < ceil/2 || d > ceil {
			t.Errorf("step %d: Next() = %v, want within [%v, %v]", i, d, ceil/2, ceil)
		}
	}
	b.Reset()
	if d := b.Next(); d < 50*time.Millisecond || d > 100*time.Millisecond {
		t.Errorf("after Reset: Next() = %v, want within [50ms, 100ms]", d)
	}
}

func TestZeroValueUsesDefaults(t *testing.T) {
	var b backoff.Backoff
	if d := b.Next(); d < backoff.DefaultMin/2 || d > backoff.DefaultMin {
		t.Errorf("first Next() = %v, want within [%v, %v]", d, backoff.DefaultMin/2, backoff.DefaultMin)
	}
	for range 20 {
		if d := b.Next(); d > backoff.DefaultMax {
			t.Fatalf("Next() = %v, want at most %v", d, backoff.DefaultMax)
		}
	}
}

func TestWaitStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b := backoff.Backoff{Min: time.Hour, Max: time.Hour}
	if err := b.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with a cancelled context = %v, want context.Canceled", err)
	}
	if err := backoff.Sleep(context.Background(), 0); err != nil {
		t.Fatalf("Sleep(0) = %v, want nil", err)
	}
}

func TestAttempt(t *testing.T) {
	b := backoff.Backoff{Min: 10 * time.Millisecond, Max: 70 * time.Millisecond}
	for _, tt := range []struct {
		n    int
		want time.Duration // the delay before jitter
	}{{0, 10 * time.Millisecond}, {1, 10 * time.Millisecond}, {2, 20 * time.Millisecond}, {3, 40 * time.Millisecond}, {4, 70 * time.Millisecond}, {100, 70 * time.Millisecond}} {
		for range 50 {
			if got := b.Attempt(tt.n); got < tt.want/2 || got > tt.want {
				t.Fatalf("Attempt(%d) = %v, want within [%v, %v]", tt.n, got, tt.want/2, tt.want)
			}
		}
	}
}
