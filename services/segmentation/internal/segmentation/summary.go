package segmentation

import (
	"maps"
	"slices"
	"strconv"
)

// Count is the number of customers under one key.
type Count struct {
	Key       string
	Customers int64
}

// Amount is a sum of money in one currency, in minor units.
type Amount struct {
	Currency string
	Minor    int64
}

// Summary is the distribution report of a successful recompute, in the
// order it is presented: every RFM segment, tier and stage in declaration
// order (zero counts included), scores "1" to "5", segments by id and
// totals by currency.
type Summary struct {
	Operation       Operation
	Customers       int64 // all customers
	ScoredCustomers int64 // customers with at least one order
	RFMSegments     []Count
	Tiers           []Count
	Stages          []Count
	R, F, M         []Count
	// Segments are the rule segments' sizes at the recompute and the
	// static segments' current sizes, by segment id.
	Segments      []Count
	MonetaryTotal []Amount
}

// Summarize builds the summary of op (whose Report may be nil) with the
// current sizes of the static segments, keyed by segment id. A static
// size replaces a rule segment size of the same id.
func Summarize(op Operation, static map[string]int64) Summary {
	rep := op.Report
	if rep == nil {
		rep = &Report{}
	}
	d := rep.Distribution
	sum := Summary{Operation: op, Customers: int64(d.Total), ScoredCustomers: int64(d.Scored)}
	for _, s := range Segments() {
		sum.RFMSegments = append(sum.RFMSegments, Count{s.String(), int64(d.Segments[s])})
	}
	for t := TierVIP; t < numTiers; t++ {
		sum.Tiers = append(sum.Tiers, Count{t.String(), int64(d.Tiers[t])})
	}
	for s := StageProspect; s < numStages; s++ {
		sum.Stages = append(sum.Stages, Count{s.String(), int64(d.Stages[s])})
	}
	scores := func(counts [6]int) []Count {
		out := make([]Count, 0, 5)
		for v := 1; v <= 5; v++ {
			out = append(out, Count{strconv.Itoa(v), int64(counts[v])})
		}
		return out
	}
	sum.R, sum.F, sum.M = scores(d.R), scores(d.F), scores(d.M)

	sizes := make(map[string]int64, len(rep.Segments)+len(static))
	maps.Copy(sizes, rep.Segments)
	maps.Copy(sizes, static)
	for _, id := range slices.Sorted(maps.Keys(sizes)) {
		sum.Segments = append(sum.Segments, Count{id, sizes[id]})
	}
	for _, c := range slices.Sorted(maps.Keys(rep.MonetaryTotal)) {
		sum.MonetaryTotal = append(sum.MonetaryTotal, Amount{c, rep.MonetaryTotal[c]})
	}
	return sum
}
