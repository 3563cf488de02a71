package segmentation

// Distribution counts results per RFM segment, value tier, lifecycle stage
// and R, F and M score. The arrays are indexed by the value counted:
// Segments[SegmentChampions], Tiers[TierVIP], Stages[StageNew], R[5].
// Index 0 (SegmentNone, TierNone, score 0) counts customers without orders.
type Distribution struct {
	Total    int // all customers
	Scored   int // customers with at least one order
	Segments [numSegments]int
	Tiers    [numTiers]int
	Stages   [numStages]int
	R, F, M  [6]int
}

// Distribute counts results.
func Distribute(results []Result) Distribution {
	var d Distribution
	d.Total = len(results)
	for i := range results {
		r := &results[i]
		if r.Scored {
			d.Scored++
		}
		// Results come from Score, but guard the indexes anyway: a bad
		// value is counted nowhere rather than panicking.
		if r.Segment < numSegments {
			d.Segments[r.Segment]++
		}
		if r.Tier < numTiers {
			d.Tiers[r.Tier]++
		}
		if r.Stage < numStages {
			d.Stages[r.Stage]++
		}
		if r.RScore <= 5 {
			d.R[r.RScore]++
		}
		if r.FScore <= 5 {
			d.F[r.FScore]++
		}
		if r.MScore <= 5 {
			d.M[r.MScore]++
		}
	}
	return d
}
