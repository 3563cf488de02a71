package recommend

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
)

// Reason says why an item is recommended.
type Reason uint8

// Reasons, from the strongest evidence to the weakest.
const (
	// ReasonBoughtWith: customers who bought one of this customer's items
	// also bought it (Because names that item).
	ReasonBoughtWith Reason = iota + 1
	// ReasonViewed: the customer viewed it recently and did not buy it.
	ReasonViewed
	// ReasonPopularInCategory: popular in a category the customer buys
	// from (Because names the category).
	ReasonPopularInCategory
	// ReasonPopular: popular overall, the fallback.
	ReasonPopular
)

// Item is one recommended item.
type Item struct {
	SKU    string
	Score  float64
	Reason Reason
	// Because is the item the recommendation comes from (bought with) or
	// the category (popular in).
	Because string
	// ViewedAt is when the customer last viewed the item (ReasonViewed).
	ViewedAt time.Time
}

// Text is the reason as a person reads it, as of now: "bought with 22423",
// "viewed 2 days ago, not bought", "popular in kitchen", "popular".
func (it Item) Text(now time.Time) string {
	switch it.Reason {
	case ReasonBoughtWith:
		return "bought with " + it.Because
	case ReasonViewed:
		return "viewed " + ago(now.Sub(it.ViewedAt)) + ", not bought"
	case ReasonPopularInCategory:
		return "popular in " + it.Because
	default:
		return "popular"
	}
}

// ago renders a duration as whole days ("today", "1 day ago", "2 days ago").
func ago(d time.Duration) string {
	days := int(d / (24 * time.Hour))
	switch {
	case days <= 0:
		return "today"
	case days == 1:
		return "1 day ago"
	default:
		return fmt.Sprintf("%d days ago", days)
	}
}

// Recommendations is the answer for one customer.
type Recommendations struct {
	Items []Item
	// Fallback is set when the customer has no purchases or views before
	// now that the model knows: the items are the popular ones. (A customer
	// with history but few candidates gets popular items after them,
	// without Fallback.)
	Fallback bool
}

// Query asks for one customer's recommendations.
type Query struct {
	Customer string
	// N is how many items (at least 1).
	N int
	// Now bounds the history used: purchases and views before it. For a
	// backtest it is the model's as-of time; live, the current time, so an
	// item bought since the last recompute is not recommended again.
	Now time.Time
	// IncludeRepurchases lets items the customer already bought be
	// recommended.
	IncludeRepurchases bool
}

// scratch is one query's dense score row, reused through a pool.
type scratch struct {
	score   []float32
	because []int32 // best contributing item (bought with) or -1
	best    []float32
	reason  []Reason
	viewed  []int64
	touched []int32
	mine    []bool // bought by the customer
	items   []bought
}

var scratchPool sync.Pool

func (m *Model) scratch() *scratch {
	s, _ := scratchPool.Get().(*scratch)
	if s == nil || len(s.score) < m.items {
		n := m.items
		s = &scratch{score: make([]float32, n), because: make([]int32, n), best: make([]float32, n),
			reason: make([]Reason, n), viewed: make([]int64, n), mine: make([]bool, n)}
	}
	return s
}

func (m *Model) release(s *scratch) {
	for _, j := range s.touched {
		s.score[j], s.because[j], s.best[j], s.reason[j], s.viewed[j] = 0, 0, 0, 0, 0
	}
	for _, b := range s.items {
		s.mine[b.item] = false
	}
	s.touched, s.items = s.touched[:0], s.items[:0]
	scratchPool.Put(s)
}

// Recommend returns the customer's top q.N items. A customer the model
// knows nothing useful about gets the popular items, marked Fallback.
func (m *Model) Recommend(q Query) Recommendations {
	n := max(q.N, 1)
	s := m.scratch()
	defer m.release(s)
	now := q.Now.Unix()
	m.h.mu.RLock()
	var c *customerHistory
	if i, ok := m.h.custIdx[q.Customer]; ok {
		c = m.h.custs[i]
	}
	hasHistory := c != nil && m.gather(c, now, s)
	m.h.mu.RUnlock()
	if hasHistory {
		m.score(s, now, q.IncludeRepurchases)
	}
	out := Recommendations{Fallback: !hasHistory}
	out.Items = m.top(s, n, q.IncludeRepurchases)
	return out
}

// gather collects the customer's distinct purchases and views before now
// (h.mu is held); it reports whether there were any.
func (m *Model) gather(c *customerHistory, now int64, s *scratch) bool {
	for _, b := range c.buys {
		if b.at >= now || int(b.item) >= m.items {
			continue
		}
		if !s.mine[b.item] {
			s.mine[b.item] = true
			s.items = append(s.items, bought{item: b.item, at: b.at})
			continue
		}
		k := slices.IndexFunc(s.items, func(x bought) bool { return x.item == b.item })
		s.items[k].at = max(s.items[k].at, b.at)
	}
	from := now - int64(m.opt.ViewWindow/time.Second)
	views := false
	for _, v := range c.views {
		if v.at >= now || v.at < from || int(v.item) >= m.items || s.mine[v.item] {
			continue
		}
		if s.viewed[v.item] == 0 {
			m.touch(s, v.item)
		}
		s.viewed[v.item] = max(s.viewed[v.item], v.at)
		views = true
	}
	return len(s.items) > 0 || views
}

// touch marks item j as a candidate.
func (m *Model) touch(s *scratch, j int32) {
	if s.score[j] == 0 && s.viewed[j] == 0 && s.reason[j] == 0 {
		s.touched = append(s.touched, j)
		s.reason[j] = ReasonPopular
		s.because[j] = -1
	}
}

// viewWeight is what a recent view of an item adds to its score: a
// viewed-not-bought item ranks with strong co-purchase evidence.
const viewWeight = 1.0

// score adds, for each item the customer bought (the MaxCustomerItems most
// recent, weighted by recency), its neighbours' similarities; the views;
// and the category affinity blend.
func (m *Model) score(s *scratch, now int64, repurchases bool) {
	slices.SortFunc(s.items, func(a, b bought) int { return int(b.at - a.at) })
	items := s.items[:min(len(s.items), m.opt.MaxCustomerItems)]
	halfLife := m.opt.HalfLife.Seconds()
	for _, b := range items {
		w := float32(math.Exp2(-float64(now-b.at) / halfLife))
		for k := m.nbrOff[b.item]; k < m.nbrOff[b.item+1]; k++ {
			j := m.nbrItem[k]
			if s.mine[j] && !repurchases {
				continue
			}
			m.touch(s, j)
			v := w * m.nbrScore[k]
			s.score[j] += v
			if v > s.best[j] {
				s.best[j], s.because[j], s.reason[j] = v, b.item, ReasonBoughtWith
			}
		}
	}
	for _, j := range s.touched {
		if t := s.viewed[j]; t > 0 {
			s.score[j] += viewWeight * float32(math.Exp2(-float64(now-t)/halfLife))
			s.reason[j] = ReasonViewed
		}
	}
	m.categoryBlend(s, repurchases)
}

// categoryBlend adds, for each of the customer's categories, its popular
// items weighted by the customer's share of purchases in it.
func (m *Model) categoryBlend(s *scratch, repurchases bool) {
	if len(m.popularByCat) == 0 || m.opt.CategoryWeight <= 0 {
		return
	}
	share := map[int32]float32{}
	for _, b := range s.items {
		if cat := m.category[b.item]; cat >= 0 {
			share[cat]++
		}
	}
	for cat, n := range share {
		w := float32(m.opt.CategoryWeight) * n / float32(len(s.items))
		for rank, j := range m.popularByCat[cat] {
			if s.mine[j] && !repurchases {
				continue
			}
			m.touch(s, j)
			s.score[j] += w / float32(1+rank)
			if s.reason[j] == ReasonPopular {
				s.reason[j], s.because[j] = ReasonPopularInCategory, cat
			}
		}
	}
}

// top picks the n best candidates, then fills up with popular items.
func (m *Model) top(s *scratch, n int, repurchases bool) []Item {
	best := make(topK, 0, n)
	for _, j := range s.touched {
		best.push(scored{item: j, score: s.score[j]}, n)
	}
	cands := best.sorted()
	out := make([]Item, 0, n)
	picked := make(map[int32]bool, n)
	for _, c := range cands {
		out = append(out, m.item(s, c.item, float64(c.score)))
		picked[c.item] = true
	}
	scale := 1.0
	if len(out) > 0 {
		scale = 1e-3 // below the personal items
	}
	for _, j := range m.popular {
		if len(out) >= n {
			break
		}
		if picked[j] || (s.mine[j] && !repurchases) {
			continue
		}
		out = append(out, Item{SKU: m.sku(j), Score: float64(m.popScore[j]) * scale, Reason: ReasonPopular})
	}
	return out
}

// item describes candidate j.
func (m *Model) item(s *scratch, j int32, score float64) Item {
	it := Item{SKU: m.sku(j), Score: score, Reason: s.reason[j]}
	switch it.Reason {
	case ReasonBoughtWith:
		it.Because = m.sku(s.because[j])
	case ReasonPopularInCategory:
		it.Because = m.catName(s.because[j])
	case ReasonViewed:
		it.ViewedAt = time.Unix(s.viewed[j], 0).UTC()
	}
	return it
}

// Related returns up to n items most often bought with sku, best first;
// false when the model does not know sku.
func (m *Model) Related(sku string, n int) ([]Item, bool) {
	m.h.mu.RLock()
	i, ok := m.h.itemIdx[sku]
	m.h.mu.RUnlock()
	if !ok || int(i) >= m.items {
		return nil, false
	}
	lo, hi := m.nbrOff[i], m.nbrOff[i+1]
	out := make([]Item, 0, min(n, int(hi-lo)))
	for k := lo; k < hi && len(out) < n; k++ {
		out = append(out, Item{SKU: m.sku(m.nbrItem[k]), Score: float64(m.nbrScore[k]), Reason: ReasonBoughtWith, Because: sku})
	}
	return out, true
}

// sku returns item i's SKU.
func (m *Model) sku(i int32) string { return m.skus[i] }

// catName returns category c's name.
func (m *Model) catName(c int32) string { return m.cats[c] }

// Popular returns the n most popular items (bought most in the popularity
// window before the model's as-of time).
func (m *Model) Popular(n int) []Item {
	out := make([]Item, 0, min(n, len(m.popular)))
	for _, j := range m.popular[:min(n, len(m.popular))] {
		out = append(out, Item{SKU: m.sku(j), Score: float64(m.popScore[j]), Reason: ReasonPopular})
	}
	return out
}
