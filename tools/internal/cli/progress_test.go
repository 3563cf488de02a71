package cli

import (
	"strings"
	"testing"
	"time"
)

func TestProgressBar(t *testing.T) {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		total, done int
		want        string
	}{
		{"total not known yet", 0, 0, "[" + strings.Repeat(".", barWidth) + "]   0%  0/? customers  0/s "},
		{"half", 1000, 500, "[" + strings.Repeat("#", 15) + strings.Repeat(".", 15) + "]  50%  500/1,000 customers  250/s "},
		{"done", 1000, 1000, "[" + strings.Repeat("#", barWidth) + "] 100%  1,000/1,000 customers  500/s "},
		{"past the total", 10, 12, "[" + strings.Repeat("#", barWidth) + "] 100%  12/10 customers  6/s "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			p := &progressBar{w: &b, total: tt.total, unit: "customers", start: start}
			p.update(tt.done, start.Add(2*time.Second))
			if got := strings.TrimPrefix(b.String(), "\r"); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
