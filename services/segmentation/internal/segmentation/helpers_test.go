package segmentation

import (
	"fmt"
	"math/rand/v2"
	"time"
)

var testAsOf = time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC)

// customer is a compact description of a test customer with orders: its
// last order was recencyDays whole days (plus a few hours) before testAsOf.
type customer struct {
	recencyDays, frequency, monetary int64
}

func inputsFor(cs []customer) []Input {
	in := make([]Input, len(cs))
	for i, c := range cs {
		// Add 5h so the floor in RecencyDays is exercised.
		last := testAsOf.Add(-time.Duration(c.recencyDays)*day - 5*time.Hour)
		in[i] = Input{
			CustomerID:    fmt.Sprintf("c%d", i),
			FirstOrder:    last.Add(-400 * day),
			LastOrder:     last,
			OrderCount:    c.frequency,
			NetSpendMinor: c.monetary,
		}
	}
	return in
}

// syntheticCustomers returns n deterministic customers as of asOf: about 3%
// prospects, recency skewed towards recent days, a long tail of order
// counts, and net spend in minor units with occasional refunds.
func syntheticCustomers(n int, asOf time.Time, seed uint64) []Input {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]Input, n)
	for i := range out {
		in := &out[i]
		in.CustomerID = fmt.Sprintf("cust-%08d", i)
		if rng.IntN(100) < 3 {
			continue
		}
		days := int64(rng.ExpFloat64() * 120)
		if days > 1500 {
			days = 1500
		}
		in.LastOrder = asOf.Add(-time.Duration(days)*day - time.Duration(rng.IntN(86400))*time.Second)
		in.FirstOrder = in.LastOrder.Add(-time.Duration(rng.IntN(1000)) * day)
		in.OrderCount = 1 + int64(rng.ExpFloat64()*4)
		in.NetSpendMinor = in.OrderCount * int64(500+rng.IntN(20000))
		if rng.IntN(10) == 0 {
			in.NetSpendMinor -= int64(rng.IntN(5000))
		}
	}
	return out
}
