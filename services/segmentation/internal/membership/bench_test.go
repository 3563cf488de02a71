package membership

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// million returns a builder filled with 1,000,000 customers (added in a
// shuffled order) and 20 rule segments — 40 audiences in all — and the ids.
func million(tb testing.TB) (*Builder, []string) {
	tb.Helper()
	const n, nRules = 1_000_000, 20
	rng := rand.New(rand.NewPCG(1, 2))
	ruleIDs := make([]string, nRules)
	for i := range ruleIDs {
		ruleIDs[i] = fmt.Sprintf("seg-%02d", i)
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("cust-%08d", i)
	}
	rng.Shuffle(n, func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	b := NewBuilder(ruleIDs)
	b.Grow(n)
	in := make([]bool, nRules)
	for _, id := range ids {
		r := segmentation.Result{Tier: segmentation.Tier(rng.IntN(5)), Stage: segmentation.Stage(1 + rng.IntN(5)), Segment: segmentation.Segment(rng.IntN(12))}
		for j := range in {
			in[j] = rng.IntN(4) == 0
		}
		b.Add(id, &r, in)
	}
	return b, ids
}

// BenchmarkCheck1000Pairs checks 1,000 (customer, audience) pairs — 100
// customers (10 unknown) × 10 audiences — against 1M customers and 40
// audiences. Target: well under 1 ms.
func BenchmarkCheck1000Pairs(b *testing.B) {
	bld, ids := million(b)
	s, err := bld.Build()
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	customers := make([]string, 100)
	for i := range customers {
		if i%10 == 0 {
			customers[i] = fmt.Sprintf("unknown-%d", i)
		} else {
			customers[i] = ids[rng.IntN(len(ids))]
		}
	}
	all := s.Audiences()
	audiences := make([]string, 10)
	for i := range audiences {
		audiences[i] = all[rng.IntN(len(all))]
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Check(customers, audiences); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuild1M builds a snapshot of 1M customers added in random
// order, and in id order (no sort needed).
func BenchmarkBuild1M(b *testing.B) {
	bld, ids := million(b)
	b.Run("shuffled", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := bld.Build(); err != nil {
				b.Fatal(err)
			}
		}
	})
	slices.Sort(ids)
	sorted := NewBuilder(bld.ruleSegments)
	for _, id := range ids {
		sorted.Add(id, &segmentation.Result{Tier: segmentation.TierVIP, Stage: segmentation.StageActive, Segment: segmentation.SegmentLoyal}, []bool{true, false, true})
	}
	b.Run("sorted", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := sorted.Build(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkMembersPage lists a 100-member page from the middle of a segment.
func BenchmarkMembersPage(b *testing.B) {
	bld, _ := million(b)
	s, err := bld.Build()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ids, _, err := s.Members("segments/seg-07", "cust-00500000", 100); err != nil || len(ids) != 100 {
			b.Fatal(len(ids), err)
		}
	}
}
