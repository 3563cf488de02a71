package pricing

import (
	"cmp"
	"math/bits"
	"slices"
)

// mulDivFloor returns floor(a × b / d) and the remainder, for non-negative
// a and b and positive d with a × b / d < 2^63, computed in 128 bits.
func mulDivFloor(a, b, d int64) (q, r int64) {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	uq, ur := bits.Div64(hi, lo, uint64(d)) // callers keep the quotient small: hi < d
	return int64(uq), int64(ur)
}

// mulDivHalfUp returns a × b / d rounded half up (non-negative inputs).
func mulDivHalfUp(a, b, d int64) int64 {
	q, r := mulDivFloor(a, b, d)
	if uint64(r)*2 >= uint64(d) { // r < d ≤ 2^63, so 2r fits in uint64
		q++
	}
	return q
}

// percentOf returns basisPoints of amount, rounded half up to the minor
// unit: the one percentage rule of the engine.
func percentOf(amount, basisPoints int64) int64 {
	return mulDivHalfUp(amount, basisPoints, MaxBasisPoints)
}

// split divides total across weights (the lines' current amounts) in
// proportion, by the largest-remainder method: each part is first
// floor(total × w / Σw); the units left over go one each to the parts
// with the largest remainders, ties to the lowest index. The parts add up
// to total exactly, and no part exceeds its weight when total ≤ Σw (the
// engine never splits more than the weights hold). parts must have
// len(weights); rems is scratch of the same length.
//
// 1000 over [2999, 1500, 2500] → [429, 214, 357]; 1000 over [3000, 3000,
// 3000] → [334, 333, 333].
func split(total int64, weights, parts, rems []int64) {
	var sum int64
	for _, w := range weights {
		sum += w
	}
	for i := range parts {
		parts[i], rems[i] = 0, 0
	}
	if total <= 0 || sum <= 0 {
		return
	}
	left := total
	for i, w := range weights {
		if w <= 0 {
			rems[i] = -1 // never gets a leftover unit
			continue
		}
		parts[i], rems[i] = mulDivFloor(total, w, sum)
		left -= parts[i]
	}
	// left < number of positive weights: give one unit each to the left
	// largest remainders, ties to the lowest index.
	if left <= 8 {
		for ; left > 0; left-- {
			best := -1
			for i, r := range rems {
				if r >= 0 && (best < 0 || r > rems[best]) {
					best = i
				}
			}
			parts[best]++
			rems[best] = -1
		}
		return
	}
	order := make([]int, 0, len(rems))
	for i, r := range rems {
		if r >= 0 {
			order = append(order, i)
		}
	}
	slices.SortFunc(order, func(a, b int) int {
		if c := cmp.Compare(rems[b], rems[a]); c != 0 {
			return c
		}
		return a - b
	})
	for _, i := range order[:left] {
		parts[i]++
	}
}

// addChecked returns a + b and whether it stayed within MaxAmount.
func addChecked(a, b int64) (int64, bool) {
	s := a + b
	return s, s <= MaxAmount && s >= 0
}
