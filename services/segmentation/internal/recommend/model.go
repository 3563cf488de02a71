package recommend

import (
	"cmp"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Options tune a model. The zero value of each field takes its default.
type Options struct {
	// Neighbours is how many related items are kept per item (default 20):
	// the model's memory is at most items × Neighbours entries.
	Neighbours int
	// MaxBasket is the largest order, in lines, whose items count as bought
	// together (default 100); a larger order still counts as purchases
	// (popularity, exclusion) but not for co-purchase: wholesale baskets
	// would relate everything to everything and cost basket² to count.
	MaxBasket int
	// MaxCustomerItems is how many of a customer's most recently bought
	// distinct items enter co-purchase counting and a recommendation's
	// scoring (default 100), so one heavy buyer costs at most its square.
	MaxCustomerItems int
	// Alpha shapes the normalisation of co-purchase counts: the similarity
	// of j to i is c(i,j) / (n(i)^Alpha × n(j)^(1−Alpha)), n the number of
	// buyers. The default, 0.5, is cosine: a bestseller bought with
	// everything scores low against each item, so it does not drown
	// everything.
	Alpha float64
	// HalfLife is how fast an older purchase loses weight in a customer's
	// scores (default 60 days): recent purchases say more about what is
	// bought next.
	HalfLife time.Duration
	// PopularWindow is the period before as-of over which popularity is
	// counted for the fallback (default 90 days); items are ranked by
	// buyers in the window, then by buyers overall.
	PopularWindow time.Duration
	// ViewWindow is how long a viewed but not bought item stays a
	// candidate (default 30 days).
	ViewWindow time.Duration
	// MaxItemBuyers bounds how many of an item's buyers are read to count
	// its co-purchases (default 2,000): a bestseller's row is counted over
	// an even sample of its buyers, scaled back up, so the build costs at
	// most items × MaxItemBuyers × MaxCustomerItems whatever the traffic.
	MaxItemBuyers int
	// CategoryWeight blends in category affinity: an item popular in a
	// category the customer buys from scores CategoryWeight × the
	// customer's share of purchases in that category (default 0.05).
	CategoryWeight float64
}

func (o Options) withDefaults() Options {
	o.Neighbours = cmp.Or(o.Neighbours, 20)
	o.MaxBasket = cmp.Or(o.MaxBasket, 100)
	o.MaxCustomerItems = cmp.Or(o.MaxCustomerItems, 100)
	o.Alpha = cmp.Or(o.Alpha, 0.5)
	o.HalfLife = cmp.Or(o.HalfLife, 60*24*time.Hour)
	o.PopularWindow = cmp.Or(o.PopularWindow, 90*24*time.Hour)
	o.ViewWindow = cmp.Or(o.ViewWindow, 30*24*time.Hour)
	o.CategoryWeight = cmp.Or(o.CategoryWeight, 0.05)
	o.MaxItemBuyers = cmp.Or(o.MaxItemBuyers, 2000)
	return o
}

// popularPerCategory is how many items each category's popularity list keeps.
const popularPerCategory = 50

// popularOverall is how many items the overall popularity list keeps.
const popularOverall = 500

// Model is the recommendation model of one recompute: every item's related
// items, popularity overall and per category, and each customer's top
// category, from the purchases before AsOf. It reads the customers'
// purchases and views from the History it was built from when it answers.
type Model struct {
	h   *History
	opt Options
	// Copies of the history's item names and categories at build time,
	// read without its lock.
	skus     []string
	cats     []string
	category []int32
	asOf     int64
	items    int // items known at build time

	nbrOff   []int32 // item i's neighbours are nbrItem[nbrOff[i]:nbrOff[i+1]]
	nbrItem  []int32
	nbrScore []float32

	buyers       []int32   // distinct buyers before as-of, per item
	recent       []int32   // distinct buyers in the popularity window, per item
	popular      []int32   // items by recent popularity, best first
	allTime      []int32   // items by buyers before as-of, best first (the baseline)
	popScore     []float32 // per item, in [0, 1]
	popularByCat [][]int32 // per category, best first
	topCat       []int32   // per customer index: top category, -1 when none
}

// AsOf is the time the model was built as of: it saw purchases before it.
func (m *Model) AsOf() time.Time { return time.Unix(m.asOf, 0).UTC() }

// Items is how many items the model knows.
func (m *Model) Items() int { return m.items }

// TopCategory returns the category the customer bought most items from
// before the model's as-of time ("" when none); a tie goes to the category
// the history saw first.
func (m *Model) TopCategory(customer string) string {
	m.h.mu.RLock()
	defer m.h.mu.RUnlock()
	i, ok := m.h.custIdx[customer]
	if !ok || int(i) >= len(m.topCat) || m.topCat[i] < 0 {
		return ""
	}
	return m.cats[m.topCat[i]]
}

// bought is one distinct item a customer bought: the latest time and
// whether it may count for co-purchase.
type bought struct {
	item int32
	at   int64
}

// purchases is one customer's purchases as a build sees them: the
// history's slice as it was when the build began (purchases are only
// ever appended, so the build reads it without the history's lock).
type purchases struct {
	buys   []event
	orders int32
}

// Build builds the model from every purchase in h before asOf. It holds
// h's lock only to take a view of it (about 30 bytes per customer), so
// the event consumer and the queries go on while it counts.
func Build(h *History, asOf time.Time, opt Options) *Model {
	opt = opt.withDefaults()
	h.mu.RLock()
	m := &Model{h: h, opt: opt, asOf: asOf.Unix(), items: len(h.skus),
		skus: slices.Clone(h.skus), cats: slices.Clone(h.cats), category: slices.Clone(h.category)}
	view := make([]purchases, len(h.custs))
	for i, c := range h.custs {
		if c != nil {
			view[i] = purchases{buys: c.buys[:len(c.buys):len(c.buys)], orders: c.orders}
		}
	}
	h.mu.RUnlock()
	pairs := m.collect(view)
	m.popularity()
	m.neighbours(pairs)
	return m
}

// csr is a list of lists in one slice: list i is vals[off[i]:off[i+1]].
type csr struct {
	off  []int32
	vals []int32
}

func (c *csr) list(i int) []int32 { return c.vals[c.off[i]:c.off[i+1]] }

// collect goes over every customer once, in shards on GOMAXPROCS
// goroutines: it returns, per customer, the items that count for
// co-purchase (from orders within MaxBasket, the MaxCustomerItems most
// recent), and records each customer's top category and each item's
// buyers before as-of and in the popularity window.
func (m *Model) collect(view []purchases) csr {
	n := len(view)
	m.topCat = make([]int32, n)
	workers := runtime.GOMAXPROCS(0)
	shards := make([]shard, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { shards[w] = m.collectShard(view[w*n/workers:(w+1)*n/workers], w*n/workers) })
	}
	wg.Wait()
	m.buyers = make([]int32, m.items)
	m.recent = make([]int32, m.items)
	pairs := csr{off: make([]int32, 1, n+1)}
	for _, sh := range shards {
		for i := range m.items {
			m.buyers[i] += sh.buyers[i]
			m.recent[i] += sh.recent[i]
		}
		base := int32(len(pairs.vals))
		for _, o := range sh.pairs.off[1:] {
			pairs.off = append(pairs.off, base+o)
		}
		pairs.vals = append(pairs.vals, sh.pairs.vals...)
	}
	return pairs
}

// shard is what collectShard found over a range of customers.
type shard struct {
	pairs          csr
	buyers, recent []int32
}

// collectShard does collect's work for the customers of view, the first
// of which has index lo.
func (m *Model) collectShard(view []purchases, lo int) shard {
	sh := shard{buyers: make([]int32, m.items), recent: make([]int32, m.items)}
	sh.pairs.off = append(make([]int32, 0, len(view)+1), 0)
	from := m.asOf - int64(m.opt.PopularWindow/time.Second)
	last := make([]int64, m.items) // item → latest purchase time + 1 for the current customer, 0 if none
	eligible := make([]bool, m.items)
	catCount := make([]int32, len(m.cats))
	var seen []bought
	var sizes []int32
	for k := range view {
		c, ci := &view[k], lo+k
		m.topCat[ci] = -1
		seen = seen[:0]
		if c.buys != nil {
			sizes = orderSizes(c, m.asOf, sizes)
			for _, b := range c.buys {
				if b.at >= m.asOf || int(b.item) >= m.items {
					continue
				}
				if last[b.item] == 0 {
					seen = append(seen, bought{item: b.item})
				}
				last[b.item] = max(last[b.item], b.at+1)
				if int(sizes[b.order]) <= m.opt.MaxBasket {
					eligible[b.item] = true
				}
			}
		}
		for k := range seen {
			seen[k].at = last[seen[k].item] - 1
		}
		slices.SortFunc(seen, func(a, b bought) int { return cmp.Or(cmp.Compare(b.at, a.at), cmp.Compare(a.item, b.item)) })
		n := 0
		for _, s := range seen {
			sh.buyers[s.item]++
			if s.at >= from {
				sh.recent[s.item]++
			}
			if eligible[s.item] && n < m.opt.MaxCustomerItems {
				sh.pairs.vals = append(sh.pairs.vals, s.item)
				n++
			}
			if cat := m.category[s.item]; cat >= 0 {
				catCount[cat]++
			}
			last[s.item], eligible[s.item] = 0, false
		}
		m.topCat[ci] = topCategory(seen, m.category, catCount)
		sh.pairs.off = append(sh.pairs.off, int32(len(sh.pairs.vals)))
	}
	return sh
}

// orderSizes returns, indexed by order number, how many lines each of c's
// orders before asOf has, reusing buf.
func orderSizes(c *purchases, asOf int64, buf []int32) []int32 {
	buf = slices.Grow(buf[:0], int(c.orders)+1)[:c.orders+1]
	clear(buf)
	for _, b := range c.buys {
		if b.at < asOf {
			buf[b.order]++
		}
	}
	return buf
}

// topCategory returns the category most of seen's items belong to (ties:
// the lowest category index) and resets catCount for them.
func topCategory(seen []bought, category []int32, catCount []int32) int32 {
	best, bestN := int32(-1), int32(0)
	for _, s := range seen {
		cat := category[s.item]
		if cat < 0 {
			continue
		}
		if n := catCount[cat]; n > bestN || (n == bestN && cat < best) {
			best, bestN = cat, n
		}
	}
	for _, s := range seen {
		if cat := category[s.item]; cat >= 0 {
			catCount[cat] = 0
		}
	}
	return best
}

// popularity ranks items overall and per category, by buyers in the
// popularity window, then by buyers before as-of (counted by collect).
func (m *Model) popularity() {
	recent := m.recent
	order := make([]int32, 0, m.items)
	for i := range m.items {
		if m.buyers[i] > 0 {
			order = append(order, int32(i))
		}
	}
	slices.SortFunc(order, func(a, b int32) int {
		return cmp.Or(cmp.Compare(recent[b], recent[a]), cmp.Compare(m.buyers[b], m.buyers[a]), cmp.Compare(a, b))
	})
	m.popScore = make([]float32, m.items)
	for rank, it := range order {
		m.popScore[it] = 1 / float32(1+rank) // rank-based: 1, 1/2, 1/3 …
	}
	m.popular = order[:min(len(order), popularOverall)]
	byBuyers := slices.Clone(order)
	slices.SortFunc(byBuyers, func(a, b int32) int { return cmp.Or(cmp.Compare(m.buyers[b], m.buyers[a]), cmp.Compare(a, b)) })
	m.allTime = byBuyers[:min(len(byBuyers), popularOverall)]
	m.popularByCat = make([][]int32, len(m.cats))
	for _, it := range order {
		if cat := m.category[it]; cat >= 0 && len(m.popularByCat[cat]) < popularPerCategory {
			m.popularByCat[cat] = append(m.popularByCat[cat], it)
		}
	}
}

// neighbours counts co-purchases (two items bought by the same customer)
// and keeps each item's Neighbours most similar items. Items are shared
// out to GOMAXPROCS workers; each keeps one dense counter row.
func (m *Model) neighbours(pairs csr) {
	n := m.items
	// Inverted lists: item → customers whose co-purchase items hold it.
	cnt := make([]int32, n+1)
	for _, it := range pairs.vals {
		cnt[it+1]++
	}
	for i := range n {
		cnt[i+1] += cnt[i]
	}
	inv := csr{off: slices.Clone(cnt), vals: make([]int32, len(pairs.vals))}
	for c := 0; c+1 < len(pairs.off); c++ {
		for _, it := range pairs.list(c) {
			inv.vals[cnt[it]] = int32(c)
			cnt[it]++
		}
	}
	// Similarity of j to i: c(i,j) / (n(i)^Alpha × n(j)^(1−Alpha)), with the
	// powers computed once per item.
	powA, powB := make([]float32, n), make([]float32, n)
	for i := range n {
		nb := float64(inv.off[i+1] - inv.off[i]) // co-purchase buyers
		if nb > 0 {
			powA[i], powB[i] = float32(math.Pow(nb, -m.opt.Alpha)), float32(math.Pow(nb, m.opt.Alpha-1))
		}
	}
	k := m.opt.Neighbours
	lists := make([][]scored, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			acc := make([]float32, n)
			var touched []int32
			top := make(topK, 0, k)
			for {
				lo := int(next.Add(64)) - 64
				if lo >= n {
					return
				}
				for it := lo; it < min(lo+64, n); it++ {
					touched = touched[:0]
					buyers := inv.list(it)
					stride := (len(buyers) + m.opt.MaxItemBuyers - 1) / m.opt.MaxItemBuyers
					for b := 0; b < len(buyers); b += stride {
						for _, j := range pairs.list(int(buyers[b])) {
							if acc[j] == 0 {
								touched = append(touched, j)
							}
							acc[j]++
						}
					}
					top = top[:0]
					scale := float32(stride) * powA[it]
					for _, j := range touched {
						if j != int32(it) {
							top.push(scored{item: j, score: acc[j] * scale * powB[j]}, k)
						}
						acc[j] = 0
					}
					lists[it] = top.sorted()
				}
			}
		})
	}
	wg.Wait()
	m.nbrOff = make([]int32, n+1)
	for i, l := range lists {
		m.nbrOff[i+1] = m.nbrOff[i] + int32(len(l))
	}
	m.nbrItem = make([]int32, m.nbrOff[n])
	m.nbrScore = make([]float32, m.nbrOff[n])
	for i, l := range lists {
		for k, s := range l {
			m.nbrItem[int(m.nbrOff[i])+k], m.nbrScore[int(m.nbrOff[i])+k] = s.item, s.score
		}
	}
}

// scored is an item with a score.
type scored struct {
	item  int32
	score float32
}

// byScore orders best first, then by item for a stable answer.
func byScore(a, b scored) int {
	return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(a.item, b.item))
}

// bestOf returns a copy of the k best of s, best first.
func bestOf(s []scored, k int) []scored {
	slices.SortFunc(s, byScore)
	return slices.Clone(s[:min(k, len(s))])
}

// topK keeps the best k scored items seen, as a min-heap on byScore (the
// worst kept item first), so that choosing an item's neighbours costs
// O(touched × log k), not a sort of every co-purchased item.
type topK []scored

// worse reports whether a ranks below b (byScore, inlined: it runs for
// every co-purchased pair).
func worse(a, b scored) bool {
	return a.score < b.score || (a.score == b.score && a.item > b.item)
}

func (t *topK) push(s scored, k int) {
	h := *t
	if len(h) < k {
		h = append(h, s)
		for i := len(h) - 1; i > 0; { // sift up
			p := (i - 1) / 2
			if !worse(h[i], h[p]) {
				break
			}
			h[i], h[p] = h[p], h[i]
			i = p
		}
		*t = h
		return
	}
	if k == 0 || !worse(h[0], s) {
		return
	}
	h[0] = s
	for i := 0; ; { // sift down
		l, r, w := 2*i+1, 2*i+2, i
		if l < len(h) && worse(h[l], h[w]) {
			w = l
		}
		if r < len(h) && worse(h[r], h[w]) {
			w = r
		}
		if w == i {
			break
		}
		h[i], h[w] = h[w], h[i]
		i = w
	}
}

// sorted returns a copy of the kept items, best first.
func (t topK) sorted() []scored {
	out := slices.Clone(t)
	slices.SortFunc(out, byScore)
	return out
}
