package cli

import (
	"strings"
	"testing"
)

func TestRecommendationsEvaluateUsage(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no as-of", nil, "--as-of is required"},
		{"bad as-of", []string{"--as-of", "September"}, "neither a date"},
		{"k zero", []string{"--as-of", "2011-09-01", "--k", "0"}, "--k must be from 1 to 100"},
		{"k too large", []string{"--as-of", "2011-09-01", "--k", "101"}, "--k must be from 1 to 100"},
		{"bad output", []string{"--as-of", "2011-09-01", "--output", "xml"}, "--output must be text or json"},
		{"both transports", []string{"--as-of", "2011-09-01", "--grpc", "127.0.0.1:1", "--gateway", "http://x"}, "not both"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := run(t, false, append([]string{"recommendations", "evaluate"}, c.args...)...)
			if code != 2 || !strings.Contains(stderr, c.want) {
				t.Errorf("got exit %d, stderr %q; want 2 and %q", code, stderr, c.want)
			}
		})
	}
}
