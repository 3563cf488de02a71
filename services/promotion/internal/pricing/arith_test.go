package pricing

import (
	"slices"
	"testing"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		name    string
		total   int64
		weights []int64
		want    []int64
	}{
		{"issue example, remainder to the largest", 1000, []int64{2999, 1500, 2500}, []int64{429, 214, 357}},
		{"issue example, ties to the lowest index", 1000, []int64{3000, 3000, 3000}, []int64{334, 333, 333}},
		{"two left over among ties", 2, []int64{1, 1, 1}, []int64{1, 1, 0}},
		{"exact", 600, []int64{100, 200, 300}, []int64{100, 200, 300}},
		{"zero weight gets nothing", 10, []int64{0, 5, 5}, []int64{0, 5, 5}},
		{"zero total", 0, []int64{5, 5}, []int64{0, 0}},
		{"all weights zero", 10, []int64{0, 0}, []int64{0, 0}},
		{"refund example", 1000, []int64{6000, 4000}, []int64{600, 400}},
		{"huge amounts in 128 bits", MaxAmount, []int64{MaxAmount / 3, MaxAmount / 3, MaxAmount - 2*(MaxAmount/3)}, []int64{333333333333333, 333333333333333, 333333333333334}},
		{"one unit over many", 1, []int64{7, 9, 9, 2}, []int64{0, 1, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts := make([]int64, len(tt.weights))
			rems := make([]int64, len(tt.weights))
			split(tt.total, tt.weights, parts, rems)
			if !slices.Equal(parts, tt.want) {
				t.Fatalf("split(%d, %v) = %v, want %v", tt.total, tt.weights, parts, tt.want)
			}
		})
	}
}

func TestPercentOf(t *testing.T) {
	tests := []struct {
		amount, bp, want int64
	}{
		{20000, 1000, 2000},
		{18000, 1000, 1800},
		{5, 1000, 1},      // 0.5 rounds up
		{4, 1000, 0},      // 0.4 rounds down
		{15, 1000, 2},     // 1.5 rounds up
		{14, 1000, 1},     // 1.4
		{6999, 1250, 875}, // 874.875
		{999, 3333, 333},  // 332.9667
		{MaxAmount, MaxBasisPoints, MaxAmount},
		{MaxAmount, 9999, 999_900_000_000_000},
	}
	for _, tt := range tests {
		if got := percentOf(tt.amount, tt.bp); got != tt.want {
			t.Errorf("percentOf(%d, %d) = %d, want %d", tt.amount, tt.bp, got, tt.want)
		}
	}
}

// TestSplitManyLeftovers checks the sorted path (more than 8 units left
// over) against the simple one.
func TestSplitManyLeftovers(t *testing.T) {
	weights := make([]int64, 50)
	for i := range weights {
		weights[i] = int64(1 + (i*37)%11) // many ties
	}
	for total := int64(0); total <= 300; total++ {
		parts := make([]int64, len(weights))
		rems := make([]int64, len(weights))
		split(total, weights, parts, rems)
		// reference: floor shares, then leftovers one at a time
		var sum int64
		for _, w := range weights {
			sum += w
		}
		want := make([]int64, len(weights))
		rem := make([]int64, len(weights))
		left := total
		for i, w := range weights {
			want[i], rem[i] = total*w/sum, total*w%sum
			left -= want[i]
		}
		for ; left > 0; left-- {
			best := 0
			for i := range rem {
				if rem[i] > rem[best] {
					best = i
				}
			}
			want[best]++
			rem[best] = -1
		}
		if !slices.Equal(parts, want) {
			t.Fatalf("split(%d) = %v, want %v", total, parts, want)
		}
	}
}
