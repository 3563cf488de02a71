package sqlstore

import "time"

// Nanos is how the services store a timestamp: Unix nanoseconds in a
// BIGINT column, with 0 for the zero time. FromNanos reads it back in UTC.
func Nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// FromNanos is the inverse of Nanos.
func FromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
