// Package synth generates a deterministic synthetic customer base for the
// segmentation benchmarks: the same Config always yields the same customers,
// byte for byte, whatever the machine.
//
// Distributions (per customer, drawn from a generator seeded with the
// config seed and the customer's index, so customers are independent and can
// be generated in any order):
//
//   - 5 % prospects (no order), the rest have at least one order;
//   - order count: geometric with mean ≈ 2.5, and 3 % "regulars" with mean ≈ 15;
//   - order value: log-normal (median ≈ 45.00, long right tail);
//   - first order uniform over the two years before AsOf, later orders spread
//     between the first order and AsOf with a bias towards early churn;
//   - 6 % of orders are refunded in full;
//   - channel web 55 %, app 35 %, store 10 %; categories from a 12-word
//     vocabulary with a Zipf-like skew; 0–3 tags from an 8-word vocabulary.
package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// DefaultAsOf is the reference time the generated history ends at.
var DefaultAsOf = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Currency is the one currency every synthetic order uses.
const Currency = "EUR"

// Config selects a synthetic population.
type Config struct {
	Customers int
	Seed      uint64
	// AsOf is when the history ends (default DefaultAsOf). No order is after it.
	AsOf time.Time
}

// Order is one synthetic order.
type Order struct {
	ID          string
	Time        time.Time
	AmountMinor int64
	Refunded    bool
	Channel     string
	Category    string
	// DiscountMinor is the part of AmountMinor's list price given as discount.
	DiscountMinor int64
}

// Customer is one synthetic customer: its orders, its last non-order
// activity and its tags. Features derives what profile would report.
type Customer struct {
	ID           string
	Orders       []Order // by time
	LastActivity time.Time
	Tags         []string
}

// Features are the customer features derived from a Customer, in the
// shape profile reports them (money in minor units of Currency).
type Features struct {
	FirstOrderTime, LastOrderTime, LastActivityTime time.Time
	OrderCount, RefundCount                         int64
	Currency                                        string
	GrossMinor, NetMinor, AverageOrderValueMinor    int64
	DiscountShare                                   float64
	PreferredChannel                                string
	TopCategories                                   []string
}

var (
	channels   = []string{"web", "app", "store"}
	categories = []string{"apparel", "shoes", "accessories", "home", "beauty", "kids",
		"sports", "electronics", "books", "garden", "food", "gifts"}
	tagVocab = []string{"newsletter", "sms_opt_in", "birthday_club", "student", "b2b",
		"employee", "vip_event", "app_user"}
	// tagOdds is the probability of each tag in tagVocab.
	tagOdds = []float64{0.45, 0.15, 0.20, 0.05, 0.03, 0.01, 0.04, 0.30}
)

// Tags returns the tag vocabulary.
func Tags() []string { return slices.Clone(tagVocab) }

// Categories returns the category vocabulary.
func Categories() []string { return slices.Clone(categories) }

// Generator produces the customers of one Config.
type Generator struct {
	cfg Config
}

// New returns a generator for cfg.
func New(cfg Config) *Generator {
	if cfg.AsOf.IsZero() {
		cfg.AsOf = DefaultAsOf
	}
	return &Generator{cfg: cfg}
}

// AsOf returns the time the history ends at.
func (g *Generator) AsOf() time.Time { return g.cfg.AsOf }

// Len returns the number of customers.
func (g *Generator) Len() int { return g.cfg.Customers }

// ID returns the id of customer i: "c" and eight digits, so ids sort in index order.
func ID(i int) string { return fmt.Sprintf("c%08d", i) }

const (
	day    = 24 * time.Hour
	window = 730 * day
)

// Customer returns customer i (0 ≤ i < Len()).
func (g *Generator) Customer(i int) Customer {
	rng := rand.New(rand.NewPCG(g.cfg.Seed, uint64(i)))
	c := Customer{ID: ID(i)}
	asOf := g.cfg.AsOf
	start := asOf.Add(-window)
	for j, t := range tagVocab {
		if rng.Float64() < tagOdds[j] {
			c.Tags = append(c.Tags, t)
		}
	}
	if len(c.Tags) > 3 {
		c.Tags = c.Tags[:3]
	}
	slices.Sort(c.Tags)
	if rng.Float64() < 0.05 { // prospect: browsed, never ordered
		c.LastActivity = start.Add(time.Duration(rng.Int64N(int64(window)))).Truncate(time.Second)
		return c
	}
	mean := 2.5
	if rng.Float64() < 0.03 {
		mean = 15
	}
	n := 1 + geometric(rng, 1/mean)
	n = min(n, 400)
	first := start.Add(time.Duration(rng.Int64N(int64(window))))
	// The active span after the first order: most customers stop early.
	span := time.Duration(float64(asOf.Sub(first)) * math.Pow(rng.Float64(), 1.6))
	times := make([]time.Time, n)
	times[0] = first
	for k := 1; k < n; k++ {
		times[k] = first.Add(time.Duration(rng.Int64N(int64(span) + 1)))
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	chanPref := pickWeighted(rng, []float64{0.55, 0.35, 0.10})
	catPref := zipf(rng, len(categories))
	discountProne := rng.Float64() < 0.4
	c.Orders = make([]Order, n)
	for k := range n {
		o := &c.Orders[k]
		o.ID = fmt.Sprintf("%s-o%d", c.ID, k+1)
		o.Time = times[k].Truncate(time.Second)
		// Log-normal order value, median 45.00, σ 0.8; at least 1.00.
		o.AmountMinor = max(100, int64(math.Exp(math.Log(4500)+0.8*rng.NormFloat64())))
		o.Refunded = rng.Float64() < 0.06
		o.Channel = channels[chanPref]
		if rng.Float64() < 0.2 {
			o.Channel = channels[rng.IntN(len(channels))]
		}
		o.Category = categories[catPref]
		if rng.Float64() < 0.5 {
			o.Category = categories[zipf(rng, len(categories))]
		}
		if discountProne && rng.Float64() < 0.6 {
			o.DiscountMinor = o.AmountMinor * int64(5+rng.IntN(26)) / 100
		}
	}
	c.LastActivity = c.Orders[n-1].Time
	if rng.Float64() < 0.7 { // browsed after the last order
		gap := asOf.Sub(c.LastActivity)
		c.LastActivity = c.LastActivity.Add(time.Duration(rng.Int64N(int64(gap) + 1))).Truncate(time.Second)
	}
	return c
}

// Features returns c's features as profile derives them from its orders.
func (c *Customer) Features() Features {
	f := Features{LastActivityTime: c.LastActivity}
	if len(c.Orders) == 0 {
		return f
	}
	f.Currency = Currency
	f.FirstOrderTime = c.Orders[0].Time
	f.LastOrderTime = c.Orders[len(c.Orders)-1].Time
	f.OrderCount = int64(len(c.Orders))
	var discount int64
	chanCount := map[string]int{}
	catCount := map[string]int{}
	for i := range c.Orders {
		o := &c.Orders[i]
		f.GrossMinor += o.AmountMinor
		discount += o.DiscountMinor
		if o.Refunded {
			f.RefundCount++
		} else {
			f.NetMinor += o.AmountMinor
		}
		chanCount[o.Channel]++
		catCount[o.Category]++
	}
	f.AverageOrderValueMinor = f.GrossMinor / f.OrderCount
	if f.GrossMinor+discount > 0 {
		f.DiscountShare = float64(discount) / float64(f.GrossMinor+discount)
	}
	f.PreferredChannel = topKeys(chanCount, 1)[0]
	f.TopCategories = topKeys(catCount, 3)
	return f
}

// topKeys returns up to n keys with the highest counts, ties by name.
func topKeys(m map[string]int, n int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			return m[b] - m[a]
		}
		if a < b {
			return -1
		}
		return 1
	})
	return keys[:min(n, len(keys))]
}

// geometric returns the number of failures before the first success with
// success probability p.
func geometric(rng *rand.Rand, p float64) int {
	u := 1 - rng.Float64() // (0, 1]
	return int(math.Floor(math.Log(u) / math.Log(1-p)))
}

func pickWeighted(rng *rand.Rand, w []float64) int {
	x := rng.Float64()
	for i, p := range w {
		if x < p {
			return i
		}
		x -= p
	}
	return len(w) - 1
}

// zipf returns an index in [0, n) with probability ∝ 1/(i+1).
func zipf(rng *rand.Rand, n int) int {
	var h float64
	for i := range n {
		h += 1 / float64(i+1)
	}
	x := rng.Float64() * h
	for i := range n {
		x -= 1 / float64(i+1)
		if x < 0 {
			return i
		}
	}
	return n - 1
}
