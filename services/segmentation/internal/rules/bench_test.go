package rules

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// realisticRules are twenty rules of the kind marketers write.
var realisticRules = []string{
	`rfm.r_score >= 4 && features.order_count >= 3 && "newsletter" in tags`,
	`rfm.segment == "champions"`,
	`rfm.segment in ["at_risk", "cant_lose"]`,
	`tier == "vip" && features.net_spend > 100000`,
	`lifecycle == "dormant" && features.order_count > 1`,
	`features.last_order_time > timestamp("2011-06-01T00:00:00Z")`,
	`features.first_order_time < timestamp("2011-01-01T00:00:00Z") && rfm.f_score >= 3`,
	`features.discount_share > 0.3`,
	`features.refund_count * 2 > features.order_count`,
	`"electronics" in features.top_categories`,
	`features.top_categories.exists(c, c.startsWith("home"))`,
	`features.preferred_channel == "mobile" && rfm.m_score >= 4`,
	`features.average_order_value >= 5000 && features.currency == "GBP"`,
	`rfm.recency_days <= 30 && rfm.frequency >= 2`,
	`tags.exists(t, t.startsWith("vip_"))`,
	`size(tags) == 0 && lifecycle == "prospect"`,
	`rfm.r_score + rfm.f_score + rfm.m_score >= 12`,
	`features.last_activity_time - features.last_order_time > duration("720h")`,
	`lifecycle in ["new", "active"] && !("unsubscribed" in tags)`,
	`rfm.monetary > 50000 || (rfm.f_score == 5 && tier != "at_risk")`,
}

// syntheticSubjects returns n customers with plausible features, tags and
// RFM results; about one in ten is a prospect.
func syntheticSubjects(n int, seed uint64) []Subject {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	base := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)
	allTags := []string{"newsletter", "vip_gold", "unsubscribed", "wholesale", "b2b", "gift"}
	cats := []string{"electronics", "home_garden", "home_kitchen", "toys", "books", "fashion"}
	channels := []string{"web", "mobile", "store"}
	customers := make([]segmentation.Customer, n)
	results := make([]segmentation.Result, n)
	subjects := make([]Subject, n)
	for i := range customers {
		c := &customers[i]
		c.ID = "c" + time.Duration(i).String()
		var tags []string
		for _, t := range allTags {
			if rng.IntN(4) == 0 {
				tags = append(tags, t)
			}
		}
		c.Tags = tags
		r := &results[i]
		r.CustomerID = c.ID
		if rng.IntN(10) == 0 {
			r.Stage = segmentation.StageProspect
			subjects[i] = Subject{Customer: c, Result: r}
			continue
		}
		orders := int64(1 + rng.IntN(20))
		first := base.Add(time.Duration(rng.IntN(700*24)) * time.Hour)
		last := first.Add(time.Duration(rng.IntN(300*24)) * time.Hour)
		net := orders * int64(500+rng.IntN(20000))
		c.Features = segmentation.Features{
			FirstOrderTime:         first,
			LastOrderTime:          last,
			LastActivityTime:       last.Add(time.Duration(rng.IntN(90*24)) * time.Hour),
			OrderCount:             orders,
			RefundCount:            int64(rng.IntN(3)),
			Currency:               "GBP",
			GrossMinor:             net + int64(rng.IntN(1000)),
			NetMinor:               net,
			AverageOrderValueMinor: net / orders,
			DiscountShare:          rng.Float64() / 2,
			PreferredChannel:       channels[rng.IntN(len(channels))],
			TopCategories:          []string{cats[rng.IntN(len(cats))], cats[rng.IntN(len(cats))]},
		}
		rs, fs := uint8(1+rng.IntN(5)), uint8(1+rng.IntN(5))
		*r = segmentation.Result{
			CustomerID:  c.ID,
			Scored:      true,
			RecencyDays: int64(rng.IntN(400)),
			Frequency:   orders,
			Monetary:    net,
			RScore:      rs,
			FScore:      fs,
			MScore:      uint8(1 + rng.IntN(5)),
			Segment:     segmentation.SegmentFor(rs, fs),
			Tier:        segmentation.Tier(1 + rng.IntN(4)),
			Stage:       segmentation.Stage(2 + rng.IntN(4)),
		}
		subjects[i] = Subject{Customer: c, Result: r}
	}
	return subjects
}

func compileAll(tb testing.TB, env *Env, exprs []string) []*Rule {
	tb.Helper()
	rules := make([]*Rule, len(exprs))
	for i, x := range exprs {
		r, err := env.Compile(x)
		if err != nil {
			tb.Fatalf("Compile(%q): %v", x, err)
		}
		rules[i] = r
	}
	return rules
}

// BenchmarkEval20Rules evaluates twenty realistic rules per customer on one
// goroutine; ns/customer is the figure to watch (target ≤ 4 µs).
func BenchmarkEval20Rules(b *testing.B) {
	env, err := NewEnv()
	if err != nil {
		b.Fatal(err)
	}
	ev := env.NewEvaluator(compileAll(b, env, realisticRules))
	subjects := syntheticSubjects(10_000, 1)
	out := make([]bool, len(realisticRules))
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		if errs := ev.Eval(&subjects[n%len(subjects)], out); errs != 0 {
			b.Fatalf("%d errors", errs)
		}
		n++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/customer")
}
