package clients

import (
	"strings"
	"testing"

	"github.com/tenurehq/tenure/services/platform/idempotency"
)

// TestRewardRequestID: every survey and customer id pair gives a valid
// loyalty request id, its own, and readable when the ids fit.
func TestRewardRequestID(t *testing.T) {
	long := strings.Repeat("c", 128)
	cases := []struct{ survey, customer, want string }{
		{"nps", "c-1", "feedback-promoter-nps/c-1"},
		{"nps", "c-1@shop.example", "feedback-promoter-nps/c-1@shop.example"},
		{"nps", long, ""},                           // too long written out: hashed
		{"nps", "客户-7", ""},                         // not ASCII: hashed
		{"nps-c", "1", "feedback-promoter-nps-c/1"}, // not survey nps, customer c-1
		{strings.Repeat("s", 63), long, ""},
	}
	seen := map[string]string{}
	for _, c := range cases {
		id := RewardRequestID(c.survey, c.customer)
		if err := idempotency.CheckRequestID(id); err != nil {
			t.Errorf("RewardRequestID(%q, %q) = %q: %v", c.survey, c.customer, id, err)
		}
		if c.want != "" && id != c.want {
			t.Errorf("RewardRequestID(%q, %q) = %q, want %q", c.survey, c.customer, id, c.want)
		}
		if other, dup := seen[id]; dup {
			t.Errorf("RewardRequestID(%q, %q) = %q, the id of %s too", c.survey, c.customer, id, other)
		}
		seen[id] = c.survey + "/" + c.customer
		if again := RewardRequestID(c.survey, c.customer); again != id {
			t.Errorf("RewardRequestID(%q, %q) changed: %q then %q", c.survey, c.customer, id, again)
		}
	}
}
