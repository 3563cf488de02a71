package membership

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

func TestDiff(t *testing.T) {
	prev := smallSnapshot(t)
	// c1 gone; c2 leaves vip and rule a, enters rule-less potential; c3
	// unchanged; c4 enters rule a; c5 new; rule segment c is new, b deleted.
	b := NewBuilder([]string{"a", "c"})
	b.Add("c2", result(segmentation.TierPotential, segmentation.StageNew, segmentation.SegmentNewCustomer), []bool{false, true})
	b.Add("c3", result(segmentation.TierVIP, segmentation.StageActive, segmentation.SegmentChampions), []bool{true, false})
	b.Add("c4", result(segmentation.TierAtRisk, segmentation.StageDormant, segmentation.SegmentAtRisk), []bool{true, false})
	b.Add("c5", result(segmentation.TierNone, segmentation.StageProspect, segmentation.SegmentNone), []bool{false, false})
	cur, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	cur = cur.WithStatic("s", []string{"c2", "c5"})
	want := []Change{
		{"segments/a", "c4", true},
		{"segments/a", "c2", false},
		{"segments/c", "c2", true},
		{"stages/prospect", "c5", true},
		{"tiers/potential", "c2", true},
		{"tiers/vip", "c2", false},
	}
	if got := Diff(prev, cur); !slices.Equal(got, want) {
		t.Errorf("Diff: got %v, want %v", got, want)
	}
	if got := Diff(cur, cur); len(got) != 0 {
		t.Errorf("Diff of a snapshot with itself: got %v, want none", got)
	}
	var all []Change
	for _, c := range Diff(Empty(), prev) {
		if !c.Entered {
			t.Errorf("Diff from empty: got a departure %v", c)
		}
		all = append(all, c)
	}
	if len(all) != 14 { // 4 stages, 3 RFM segments and 3 tiers (c1 has none), 4 rule memberships
		t.Errorf("Diff from empty: got %d changes %v, want 14", len(all), all)
	}
}

// TestDiffMatchesContains checks Diff against membership tests on random
// snapshots that share some customers.
func TestDiffMatchesContains(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	build := func() *Snapshot {
		b := NewBuilder([]string{"r"})
		for i := range 300 {
			if rng.IntN(4) == 0 {
				continue
			}
			b.Add(fmt.Sprintf("c%03d", i), result(segmentation.Tier(rng.IntN(5)), segmentation.Stage(1+rng.IntN(5)),
				segmentation.Segment(rng.IntN(12))), []bool{rng.IntN(2) == 0})
		}
		s, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	prev, cur := build(), build()
	got := map[Change]bool{}
	for _, c := range Diff(prev, cur) {
		got[c] = true
	}
	want := map[Change]bool{}
	for _, name := range cur.Audiences() {
		ids, _, err := cur.Members(name, "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if !prev.Contains(id, name) {
				want[Change{name, id, true}] = true
			}
		}
		old, _, err := prev.Members(name, "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range old {
			if _, known := cur.ids.lookup(id); known && !cur.Contains(id, name) {
				want[Change{name, id, false}] = true
			}
		}
	}
	if len(got) != len(want) {
		t.Fatalf("Diff: got %d changes, want %d", len(got), len(want))
	}
	for c := range want {
		if !got[c] {
			t.Errorf("Diff: missing %v", c)
		}
	}
}

// BenchmarkDiff1M diffs two snapshots of 1,000,000 customers and 20 rule
// segments (40 audiences), where 1% of the customers moved tier, stage,
// RFM segment and rule segments and 1% are new: the work a recompute adds
// to record its audience changes.
func BenchmarkDiff1M(b *testing.B) {
	const n, nRules = 1_000_000, 20
	ruleIDs := make([]string, nRules)
	for i := range ruleIDs {
		ruleIDs[i] = fmt.Sprintf("seg-%02d", i)
	}
	build := func(shift int, count int) *Snapshot {
		rng := rand.New(rand.NewPCG(1, 2))
		bld := NewBuilder(ruleIDs)
		bld.Grow(count)
		in := make([]bool, nRules)
		for i := range count {
			v := rng.Uint64()
			if i%100 == 0 {
				v += uint64(shift)
			}
			r := segmentation.Result{Tier: segmentation.Tier(v % 5), Stage: segmentation.Stage(1 + v/5%5), Segment: segmentation.Segment(v / 25 % 12)}
			for j := range in {
				in[j] = (v>>(10+j))&3 == 0
			}
			bld.Add(fmt.Sprintf("cust-%08d", i), &r, in)
		}
		s, err := bld.Build()
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	prev, cur := build(0, n), build(1<<9, n+n/100)
	var changes int
	b.ReportAllocs()
	for b.Loop() {
		changes = len(Diff(prev, cur))
	}
	b.ReportMetric(float64(changes), "changes")
}
