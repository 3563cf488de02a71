// Package membership is the in-memory index of audience memberships that
// batch membership checks and member listings read: which customers are in
// each rule or static segment, value tier, lifecycle stage and RFM segment.
//
// A Snapshot is immutable. A recompute builds a new one with a Builder;
// static segment changes derive a new one with WithStatic; a Holder swaps
// the current snapshot atomically, so readers never lock.
//
// Audience names are "segments/{id}", "tiers/{tier}", "stages/{stage}" and
// "rfmSegments/{segment}", with the lower snake names of the segmentation
// package.
package membership

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// ErrUnknownAudience is wrapped by errors about an audience the snapshot
// does not have.
var ErrUnknownAudience = errors.New("membership: unknown audience")

// ErrDuplicateCustomer is wrapped by Build's error when a customer id was
// added twice.
var ErrDuplicateCustomer = errors.New("membership: duplicate customer")

// audience is one audience's members: a bitset over the snapshot's customer
// ordinals, or, for static segments, a sorted list of ids that need not be
// customers of the snapshot.
type audience struct {
	bits   []uint64 // nil for static audiences
	static []string // sorted, unique; static audiences only
	size   int
}

func (a *audience) containsOrdinal(ord int) bool {
	return a.bits[ord>>6]&(1<<(uint(ord)&63)) != 0
}

func (a *audience) containsStatic(id string) bool {
	_, found := slices.BinarySearch(a.static, id)
	return found
}

// Snapshot is an immutable index of memberships; it is safe for concurrent
// use. The zero value is not usable: use Empty or a Builder.
type Snapshot struct {
	ids       idIndex // customers, sorted; ordinal = position
	audiences map[string]*audience
	names     []string // sorted audience names
}

// Empty returns a snapshot without customers, with the tier, stage and RFM
// segment audiences (all empty) and no segments.
func Empty() *Snapshot {
	s, _ := NewBuilder(nil).Build()
	return s
}

// Audiences returns the names of every audience, sorted.
func (s *Snapshot) Audiences() []string { return slices.Clone(s.names) }

// Customers returns the number of scored customers (those added to the
// Builder).
func (s *Snapshot) Customers() int { return s.ids.len() }

func (s *Snapshot) audience(name string) (*audience, error) {
	a, ok := s.audiences[name]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownAudience, name)
	}
	return a, nil
}

// Size returns the number of members of the audience.
func (s *Snapshot) Size(name string) (int, error) {
	a, err := s.audience(name)
	if err != nil {
		return 0, err
	}
	return a.size, nil
}

// Contains reports whether the customer is in the audience; false for an
// unknown audience or customer.
func (s *Snapshot) Contains(customerID, name string) bool {
	a, ok := s.audiences[name]
	if !ok {
		return false
	}
	if a.bits == nil {
		return a.containsStatic(customerID)
	}
	ord, ok := s.ids.lookup(customerID)
	return ok && a.containsOrdinal(ord)
}

// Check answers, for every customer i and audience j, whether customer i
// is in audience j, as out[i*len(audiences)+j] (customer-major). An
// unknown customer is in no audience; an unknown audience is an error
// wrapping ErrUnknownAudience.
func (s *Snapshot) Check(customerIDs, audiences []string) ([]bool, error) {
	var buf [32]*audience
	auds := buf[:0]
	for _, name := range audiences {
		a, err := s.audience(name)
		if err != nil {
			return nil, err
		}
		auds = append(auds, a)
	}
	out := make([]bool, len(customerIDs)*len(auds))
	var ords [batch]int32
	for base := 0; base < len(customerIDs); base += batch {
		part := customerIDs[base:min(base+batch, len(customerIDs))]
		s.ids.lookupBatch(part, ords[:])
		for j, a := range auds {
			if a.bits == nil {
				for k, id := range part {
					out[(base+k)*len(auds)+j] = a.containsStatic(id)
				}
				continue
			}
			for k, ord := range ords[:len(part)] {
				out[(base+k)*len(auds)+j] = ord >= 0 && a.containsOrdinal(int(ord))
			}
		}
	}
	return out, nil
}

// AudiencesOf returns the sorted names of the audiences the customer is in.
func (s *Snapshot) AudiencesOf(customerID string) []string {
	ord, known := s.ids.lookup(customerID)
	var out []string
	for _, name := range s.names {
		a := s.audiences[name]
		if a.bits == nil {
			if a.containsStatic(customerID) {
				out = append(out, name)
			}
		} else if known && a.containsOrdinal(ord) {
			out = append(out, name)
		}
	}
	return out
}

// Members returns up to limit members of the audience whose ids sort after
// `after` ("" for the first page), in id order. next is the last id
// returned if there may be more, or "" at the end; pass it as after to get
// the following page. limit must be positive.
func (s *Snapshot) Members(name, after string, limit int) (ids []string, next string, err error) {
	a, err := s.audience(name)
	if err != nil {
		return nil, "", err
	}
	if limit <= 0 {
		return nil, "", fmt.Errorf("membership: limit %d, want > 0", limit)
	}
	if a.bits == nil {
		start := 0
		if after != "" {
			start = sort.SearchStrings(a.static, after)
			if start < len(a.static) && a.static[start] == after {
				start++
			}
		}
		end := min(start+limit, len(a.static))
		ids = slices.Clone(a.static[start:end])
		if end < len(a.static) {
			next = ids[len(ids)-1]
		}
		return ids, next, nil
	}
	ord := 0
	if after != "" {
		ord = s.ids.search(after)
		if ord < s.ids.len() && s.ids.id(ord) == after {
			ord++
		}
	}
	ids = make([]string, 0, min(limit, a.size))
	for w := ord >> 6; w < len(a.bits); w++ {
		word := a.bits[w]
		if w == ord>>6 {
			word &^= (1 << (uint(ord) & 63)) - 1
		}
		for word != 0 {
			o := w<<6 | bits.TrailingZeros64(word)
			word &= word - 1
			if len(ids) == limit {
				return ids, ids[len(ids)-1], nil
			}
			ids = append(ids, s.ids.id(o))
		}
	}
	return ids, "", nil
}

// WithStatic returns a snapshot equal to s except that the segment's
// audience "segments/{segmentID}" has exactly memberIDs as members
// (duplicates ignored). Static members need not be customers of s.
func (s *Snapshot) WithStatic(segmentID string, memberIDs []string) *Snapshot {
	members := slices.Clone(memberIDs)
	slices.Sort(members)
	members = slices.Compact(members)
	return s.with(segmentation.SegmentAudience(segmentID), &audience{static: members, size: len(members)})
}

// Without returns a snapshot equal to s without the audience (e.g. a
// deleted segment); s itself if it has no such audience.
func (s *Snapshot) Without(name string) *Snapshot {
	if _, ok := s.audiences[name]; !ok {
		return s
	}
	return s.with(name, nil)
}

// with returns a copy of s with the audience replaced, added or (a == nil)
// removed. The customers and the other audiences are shared.
func (s *Snapshot) with(name string, a *audience) *Snapshot {
	n := &Snapshot{ids: s.ids, audiences: make(map[string]*audience, len(s.audiences)+1)}
	for k, v := range s.audiences {
		n.audiences[k] = v
	}
	if a == nil {
		delete(n.audiences, name)
	} else {
		n.audiences[name] = a
	}
	n.names = sortedNames(n.audiences)
	return n
}

func sortedNames(m map[string]*audience) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// Holder holds the current snapshot for concurrent readers and swaps it
// atomically. The zero value holds Empty().
type Holder struct {
	p atomic.Pointer[Snapshot]
}

// empty is the immutable snapshot a Holder holds before its first Store.
var empty = Empty()

// Load returns the current snapshot; never nil.
func (h *Holder) Load() *Snapshot {
	if s := h.p.Load(); s != nil {
		return s
	}
	return empty
}

// Store makes s the current snapshot.
func (h *Holder) Store(s *Snapshot) { h.p.Store(s) }

// Update replaces the current snapshot with fn(current), retrying if
// another writer swapped it meanwhile, and returns the new snapshot. fn may
// run more than once and must not have side effects.
func (h *Holder) Update(fn func(*Snapshot) *Snapshot) *Snapshot {
	for {
		old := h.p.Load()
		cur := old
		if cur == nil {
			cur = empty
		}
		n := fn(cur)
		if h.p.CompareAndSwap(old, n) {
			return n
		}
	}
}

// Rekey returns a snapshot equal to s except that each customer old in
// moves has become moves[old]: its memberships of the recompute's
// audiences (rule segments, tiers, stages, RFM segments) move to the new
// id, replacing any the new id had, or are dropped when the new id is "".
// It is how erasures (re-keys to an anonymous id) and deletions reach the
// snapshot between recomputes. Static audiences lose the old ids and gain
// nothing: explicit memberships are not carried over. The moves apply at
// once, not in sequence. It takes O(customers + members) time; s itself
// is returned if no id in moves is in s.
func (s *Snapshot) Rekey(moves map[string]string) *Snapshot {
	touched := false
	for old, nw := range moves {
		if _, ok := s.ids.lookup(old); ok {
			touched = true
			break
		}
		if nw != "" {
			if _, ok := s.ids.lookup(nw); ok {
				touched = true
				break
			}
		}
	}
	if !touched {
		return s.withoutStatic(moves)
	}
	// Ids that are replaced by a moved customer lose their own entry.
	replaced := make(map[string]bool, len(moves))
	for old, nw := range moves {
		if _, ok := s.ids.lookup(old); ok && nw != "" {
			replaced[nw] = true
		}
	}
	type renamed struct {
		id  string
		ord int // old ordinal
	}
	var moved []renamed
	kept := make([]string, 0, s.ids.len())
	keptOrd := make([]int, 0, s.ids.len())
	for ord := range s.ids.len() {
		id := s.ids.id(ord)
		if nw, ok := moves[id]; ok {
			if nw != "" {
				moved = append(moved, renamed{nw, ord})
			}
			continue
		}
		if replaced[id] {
			continue
		}
		kept = append(kept, id)
		keptOrd = append(keptOrd, ord)
	}
	slices.SortFunc(moved, func(a, b renamed) int { return strings.Compare(a.id, b.id) })
	// Merge the kept ids (sorted) with the renamed ones (sorted).
	perm := make([]int32, s.ids.len()) // old ordinal → new ordinal, or -1
	for i := range perm {
		perm[i] = -1
	}
	ids := make([]string, 0, len(kept)+len(moved))
	i, j := 0, 0
	for i < len(kept) || j < len(moved) {
		if j == len(moved) || (i < len(kept) && kept[i] < moved[j].id) {
			perm[keptOrd[i]] = int32(len(ids))
			ids = append(ids, kept[i])
			i++
		} else {
			perm[moved[j].ord] = int32(len(ids))
			ids = append(ids, moved[j].id)
			j++
		}
	}
	index, err := newIDIndex(ids)
	if err != nil {
		// Only past 1 TiB of customer ids.
		panic(err)
	}
	n := &Snapshot{ids: index, audiences: make(map[string]*audience, len(s.audiences))}
	words := (len(ids) + 63) / 64
	for name, a := range s.audiences {
		if a.bits == nil {
			n.audiences[name] = staticWithout(a, moves)
			continue
		}
		b := &audience{bits: make([]uint64, words)}
		for w, word := range a.bits {
			for word != 0 {
				o := w<<6 | bits.TrailingZeros64(word)
				word &= word - 1
				if p := perm[o]; p >= 0 {
					b.bits[p>>6] |= 1 << (uint(p) & 63)
					b.size++
				}
			}
		}
		n.audiences[name] = b
	}
	n.names = sortedNames(n.audiences)
	return n
}

// withoutStatic returns s with the old ids of moves removed from its static
// audiences; s itself if none is a static member.
func (s *Snapshot) withoutStatic(moves map[string]string) *Snapshot {
	n := s
	for _, name := range s.names {
		a := s.audiences[name]
		if a.bits != nil {
			continue
		}
		if b := staticWithout(a, moves); b != a {
			n = n.with(name, b)
		}
	}
	return n
}

// staticWithout returns the static audience a without the old ids of
// moves; a itself if it has none of them.
func staticWithout(a *audience, moves map[string]string) *audience {
	out := make([]string, 0, len(a.static))
	for _, id := range a.static {
		if _, ok := moves[id]; !ok {
			out = append(out, id)
		}
	}
	if len(out) == len(a.static) {
		return a
	}
	return &audience{static: out, size: len(out)}
}
