package sqlstore

import (
	"testing"
	"time"
)

func TestNanosRoundTrip(t *testing.T) {
	for _, tm := range []time.Time{{}, time.Date(2026, 12, 2, 9, 0, 0, 123456789, time.UTC), time.Unix(0, 1).UTC()} {
		n := Nanos(tm)
		if got := FromNanos(n); !got.Equal(tm) || got.Location() != time.UTC {
			t.Errorf("FromNanos(Nanos(%v)) = %v, want %v in UTC", tm, got, tm)
		}
	}
	if Nanos(time.Time{}) != 0 {
		t.Errorf("Nanos(zero) = %d, want 0", Nanos(time.Time{}))
	}
}
