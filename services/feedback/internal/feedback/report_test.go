package feedback

import (
	"testing"
	"time"
)

func TestMedianAndAttainment(t *testing.T) {
	h := time.Hour
	for _, tt := range []struct {
		in   []time.Duration
		want time.Duration
	}{{nil, 0}, {[]time.Duration{3 * h}, 3 * h}, {[]time.Duration{5 * h, h, 3 * h}, 3 * h}, {[]time.Duration{4 * h, h, 2 * h, 3 * h}, 150 * time.Minute}} {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
	if got := attainment(3, 1); got != 75 {
		t.Errorf("attainment(3, 1) = %v, want 75", got)
	}
	if got := attainment(0, 0); got != 0 {
		t.Errorf("attainment(0, 0) = %v, want 0", got)
	}
}
