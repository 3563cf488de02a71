package membership

import (
	"math/bits"
	"strings"
)

// Change is one customer entering or leaving one audience between two
// snapshots.
type Change struct {
	Audience   string
	CustomerID string
	Entered    bool // false: left
}

// Diff returns who entered and who left each recompute audience (rule
// segments, value tiers, lifecycle stages, RFM segments) of cur since
// prev, audience by audience in name order, customers in id order within
// each (entries before departures). Static audiences are left out: they
// change by request, not by a recompute. An audience cur has and prev
// lacks (a new rule segment) is entered by all its members; one prev has
// and cur lacks (a deleted segment) is left out. Customers missing from
// cur (deleted) leave nothing; customers missing from prev (new) enter
// every audience they are in. It takes O(customers + members) time; the
// ids are substrings of the snapshots' own storage.
func Diff(prev, cur *Snapshot) []Change {
	toPrev, toCur := ordinalMaps(prev, cur)
	var out []Change
	for _, name := range cur.names {
		a := cur.audiences[name]
		if a.bits == nil {
			continue
		}
		p := prev.audiences[name]
		if p != nil && p.bits == nil {
			p = nil
		}
		forEachOrdinal(a.bits, func(o int) {
			if po := toPrev[o]; p == nil || po < 0 || !p.containsOrdinal(int(po)) {
				out = append(out, Change{Audience: name, CustomerID: cur.ids.id(o), Entered: true})
			}
		})
		if p == nil {
			continue
		}
		forEachOrdinal(p.bits, func(po int) {
			if o := toCur[po]; o >= 0 && !a.containsOrdinal(int(o)) {
				out = append(out, Change{Audience: name, CustomerID: cur.ids.id(int(o))})
			}
		})
	}
	return out
}

// ordinalMaps matches the customers of prev and cur by id (both sorted):
// toPrev[o] is the prev ordinal of cur's customer o and toCur[p] the cur
// ordinal of prev's customer p, -1 where the other lacks the customer.
func ordinalMaps(prev, cur *Snapshot) (toPrev, toCur []int32) {
	n, m := cur.ids.len(), prev.ids.len()
	toPrev, toCur = make([]int32, n), make([]int32, m)
	for i := range toCur {
		toCur[i] = -1
	}
	p := 0
	for o := range n {
		id := cur.ids.id(o)
		for p < m && strings.Compare(prev.ids.id(p), id) < 0 {
			p++
		}
		toPrev[o] = -1
		if p < m && prev.ids.id(p) == id {
			toPrev[o], toCur[p] = int32(p), int32(o)
			p++
		}
	}
	return toPrev, toCur
}

// forEachOrdinal calls fn with every set bit's position, in order.
func forEachOrdinal(set []uint64, fn func(int)) {
	for w, word := range set {
		for word != 0 {
			fn(w<<6 | bits.TrailingZeros64(word))
			word &= word - 1
		}
	}
}
