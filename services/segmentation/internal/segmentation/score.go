package segmentation

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrInvalidInput is wrapped by Score's errors about its arguments.
var ErrInvalidInput = errors.New("segmentation: invalid input")

// Input is what scoring needs to know about one customer.
type Input struct {
	CustomerID string
	// FirstOrder and LastOrder are the times of the first and last order;
	// zero if the customer has none.
	FirstOrder time.Time
	LastOrder  time.Time
	// OrderCount is the number of orders; refunds don't reduce it.
	// A customer with OrderCount 0 is a prospect, whatever the other fields say.
	OrderCount int64
	// NetSpendMinor is orders minus refunds, in minor currency units.
	NetSpendMinor int64
}

// Result is one customer's RFM values, scores, segment, tier and stage.
type Result struct {
	CustomerID string
	// Scored is true for customers with at least one order. For the others
	// (prospects) every value and score below is zero, Segment is
	// SegmentNone, Tier is TierNone and Stage is StageProspect.
	Scored bool
	// RecencyDays is the number of whole days (floor) from the last order
	// to as_of. A last order after as_of counts as 0 days, as if it
	// happened at as_of: it is as recent as an order can be.
	RecencyDays int64
	// Frequency is the number of orders.
	Frequency int64
	// Monetary is the net spend in minor units.
	Monetary int64
	// RScore, FScore and MScore are 1–5 for scored customers, 0 otherwise.
	RScore, FScore, MScore uint8
	Segment                Segment
	Tier                   Tier
	Stage                  Stage
}

const day = 24 * time.Hour

// Score computes every customer's RFM values, scores, segment, value tier
// and lifecycle stage as of asOf. Results are in the order of customers.
//
// Under MethodQuintile the population is the customers passed in: a
// customer's scores depend on everyone else's values, so pass the whole
// population. Customer ids are not checked for uniqueness.
//
// Score returns an error wrapping ErrInvalidSettings if settings are
// invalid, or ErrInvalidInput if asOf is zero, there are more than 2³²−1
// customers, an OrderCount is negative, or a customer with orders lacks a
// first or last order time or has its last order before its first.
func Score(asOf time.Time, customers []Input, settings Settings) ([]Result, error) {
	if err := settings.Validate(); err != nil {
		return nil, err
	}
	if asOf.IsZero() {
		return nil, fmt.Errorf("%w: as_of is zero", ErrInvalidInput)
	}
	if uint64(len(customers)) > math.MaxUint32 {
		return nil, fmt.Errorf("%w: %d customers, at most %d per call", ErrInvalidInput, len(customers), uint64(math.MaxUint32))
	}
	results := make([]Result, len(customers))
	lc := settings.Lifecycle
	scored := 0
	for i := range customers {
		in := &customers[i]
		r := &results[i]
		r.CustomerID = in.CustomerID
		switch {
		case in.OrderCount < 0:
			return nil, fmt.Errorf("%w: customer %q (index %d): order count %d is negative", ErrInvalidInput, in.CustomerID, i, in.OrderCount)
		case in.OrderCount == 0:
			r.Stage = StageProspect
			continue
		case in.FirstOrder.IsZero() || in.LastOrder.IsZero():
			return nil, fmt.Errorf("%w: customer %q (index %d): %d orders but no first or last order time", ErrInvalidInput, in.CustomerID, i, in.OrderCount)
		case in.LastOrder.Before(in.FirstOrder):
			return nil, fmt.Errorf("%w: customer %q (index %d): last order %s is before first order %s", ErrInvalidInput, in.CustomerID, i, in.LastOrder.Format(time.RFC3339), in.FirstOrder.Format(time.RFC3339))
		}
		scored++
		r.Scored = true
		r.RecencyDays = wholeDays(in.LastOrder, asOf)
		r.Frequency = in.OrderCount
		r.Monetary = in.NetSpendMinor
		r.Stage = lc.stage(wholeDays(in.FirstOrder, asOf), r.RecencyDays)
	}

	switch settings.Method {
	case MethodQuintile:
		scoreQuintiles(results, scored)
	case MethodFixedThresholds:
		scoreThresholds(results, &settings.Thresholds)
	}

	tiers := settings.Tiers.table()
	for i := range results {
		r := &results[i]
		if !r.Scored {
			continue
		}
		r.Segment = segmentTable[r.RScore-1][r.FScore-1]
		r.Tier = tiers[r.Segment]
	}
	return results, nil
}

// wholeDays is the floor of the number of days from from to to, or 0 if
// to is not after from.
func wholeDays(from, to time.Time) int64 {
	d := to.Sub(from)
	if d <= 0 {
		return 0
	}
	return int64(d / day)
}

// stage is the lifecycle stage of a customer with at least one order.
func (lc Lifecycle) stage(sinceFirst, sinceLast int64) Stage {
	switch {
	case sinceFirst <= lc.NewDays:
		return StageNew
	case sinceLast <= lc.ActiveDays:
		return StageActive
	case sinceLast <= lc.DormantDays:
		return StageDormant
	default:
		return StageChurned
	}
}

// dimension selects one of R, F, M.
type dimension uint8

const (
	dimR dimension = iota
	dimF
	dimM
)

// key returns r's value in dimension d, oriented so that a smaller key is
// a worse value: recency is negated because more days is worse.
func (d dimension) key(r *Result) int64 {
	switch d {
	case dimR:
		return -r.RecencyDays // RecencyDays ≥ 0, so this cannot overflow
	case dimF:
		return r.Frequency
	default:
		return r.Monetary
	}
}

func (d dimension) set(r *Result, score uint8) {
	switch d {
	case dimR:
		r.RScore = score
	case dimF:
		r.FScore = score
	default:
		r.MScore = score
	}
}

// scoreQuintiles applies score = 1 + floor(5 × W / N) to each dimension,
// where W is the number of scored customers with a strictly worse value.
//
// Per dimension it sorts (key, customer index) pairs once, then walks the
// sorted pairs: within a run of equal keys W is the position where the run
// starts, so ties share a score. The sort is an LSD radix sort on the key
// minus the minimum key, so it makes only as many byte passes as the range
// of values needs (one or two for R and F, three or four for M in practice):
// O(N) per dimension, with two scratch buffers allocated once per call and
// nothing per customer.
func scoreQuintiles(results []Result, n int) {
	if n == 0 {
		return
	}
	keyBuf := make([]uint64, 2*n)
	idxBuf := make([]uint32, 2*n)
	for _, d := range [...]dimension{dimR, dimF, dimM} {
		keys, idx := keyBuf[:n], idxBuf[:n]
		tmpKeys, tmpIdx := keyBuf[n:], idxBuf[n:]
		j := 0
		lo := int64(1<<63 - 1)
		for i := range results {
			if results[i].Scored {
				k := d.key(&results[i])
				lo = min(lo, k)
				keys[j] = uint64(k)
				idx[j] = uint32(i)
				j++
			}
		}
		// Shift so the smallest key is 0. The subtraction wraps, which is
		// exactly right: k − lo always fits in a uint64.
		var hi uint64
		for i := range keys {
			keys[i] -= uint64(lo)
			hi = max(hi, keys[i])
		}
		for shift := uint(0); shift < 64 && hi>>shift != 0; shift += 8 {
			var count [256]int
			for _, k := range keys {
				count[byte(k>>shift)]++
			}
			if count[byte(keys[0]>>shift)] == n {
				continue // every key has the same byte here
			}
			pos := 0
			for b, c := range count {
				count[b] = pos
				pos += c
			}
			for i, k := range keys {
				b := byte(k >> shift)
				tmpKeys[count[b]] = k
				tmpIdx[count[b]] = idx[i]
				count[b]++
			}
			keys, tmpKeys = tmpKeys, keys
			idx, tmpIdx = tmpIdx, idx
		}
		w := 0
		for i, k := range keys {
			if k != keys[w] {
				w = i
			}
			d.set(&results[idx[i]], uint8(1+5*int64(w)/int64(n)))
		}
	}
}

// scoreThresholds applies fixed cut points; see Thresholds.
func scoreThresholds(results []Result, t *Thresholds) {
	for i := range results {
		r := &results[i]
		if !r.Scored {
			continue
		}
		r.RScore = lowerIsBetter(r.RecencyDays, &t.Recency)
		r.FScore = higherIsBetter(r.Frequency, &t.Frequency)
		r.MScore = higherIsBetter(r.Monetary, &t.Monetary)
	}
}

// higherIsBetter is 1 + the number of cut points c with v ≥ c.
func higherIsBetter(v int64, cuts *[4]int64) uint8 {
	s := uint8(1)
	for _, c := range cuts {
		if v >= c {
			s++
		}
	}
	return s
}

// lowerIsBetter is 5 − the number of cut points c with v > c.
func lowerIsBetter(v int64, cuts *[4]int64) uint8 {
	s := uint8(5)
	for _, c := range cuts {
		if v > c {
			s--
		}
	}
	return s
}
