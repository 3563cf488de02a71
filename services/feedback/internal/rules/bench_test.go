package rules

import (
	"fmt"
	"testing"

	"github.com/tenurehq/tenure/services/feedback/internal/feedback"
)

// BenchmarkClassify200Rules classifies one ticket with 200 compiled rules
// (100 keyword lists, 100 CEL conditions): the classification part of a
// ticket's creation, without storage.
func BenchmarkClassify200Rules(b *testing.B) {
	c, err := New()
	if err != nil {
		b.Fatal(err)
	}
	var rs []feedback.CompiledRule
	for i := range 100 {
		for _, r := range []feedback.Rule{
			{ID: fmt.Sprintf("kw-%03d", i), Keywords: []string{fmt.Sprintf("产品%03d", i), fmt.Sprintf("word%03d", i)}, SetQueue: "q"},
			{ID: fmt.Sprintf("cel-%03d", i), Condition: fmt.Sprintf(`ticket.channel == "app" && customer.value_tier == "vip" && size(ticket.body) > %d`, i)},
		} {
			m, err := c.Compile(r)
			if err != nil {
				b.Fatal(err)
			}
			rs = append(rs, feedback.CompiledRule{Rule: r, Matcher: m})
		}
	}
	cust := feedback.CustomerContext{ValueTier: "vip"}
	// The body is 36 code points: kw-042 and the conditions with a bound
	// under 36 match.
	for b.Loop() {
		t := feedback.Ticket{Channel: "app", Subject: "订单问题", Body: "我的产品042坏了，我要退款。Order arrived broken.", Priority: feedback.PriorityNormal}
		if matched := feedback.Classify(&t, rs, cust); len(matched) != 37 {
			b.Fatalf("matched %d rules, want 37", len(matched))
		}
	}
}
