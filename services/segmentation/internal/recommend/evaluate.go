package recommend

import "time"

// Metrics are how well one recommender did in a backtest.
type Metrics struct {
	// HitRate is the share of evaluated customers who later bought at
	// least one of their top K items.
	HitRate float64
	// Precision is the mean share of the top K items a customer later
	// bought.
	Precision float64
	// Coverage is the share of the catalogue (items sold before as-of)
	// that appears in at least one evaluated customer's top K.
	Coverage float64
}

// Evaluation compares the model with the popularity baseline on a split
// of the history at AsOf.
type Evaluation struct {
	AsOf time.Time
	K    int
	// Customers is how many customers were evaluated: those who bought
	// before AsOf and later bought an item they had not bought before.
	Customers int
	// Catalogue is how many distinct items were sold before AsOf.
	Catalogue int
	Model     Metrics
	Baseline  Metrics
}

// Evaluate splits h at asOf, builds a model from the purchases before it,
// and scores the model's and the popularity baseline's top k (repurchases
// excluded) against each customer's new items bought at or after asOf.
func Evaluate(h *History, asOf time.Time, k int, opt Options) Evaluation {
	m := Build(h, asOf, opt)
	ev := Evaluation{AsOf: asOf.UTC(), K: k}
	for i := range m.items {
		if m.buyers[i] > 0 {
			ev.Catalogue++
		}
	}
	split := asOf.Unix()
	var model, base tally
	model.seen, base.seen = map[string]bool{}, map[string]bool{}
	for _, c := range m.customersSnapshot() {
		before := map[int32]bool{}
		for _, b := range c.buys {
			if b.at < split {
				before[b.item] = true
			}
		}
		if len(before) == 0 {
			continue
		}
		later := map[string]bool{}
		for _, b := range c.buys {
			if b.at >= split && !before[b.item] {
				later[m.h.skuLocked(b.item)] = true
			}
		}
		if len(later) == 0 {
			continue
		}
		ev.Customers++
		model.add(m.Recommend(Query{Customer: c.id, N: k, Now: asOf}).Items, later, k)
		base.add(m.baseline(before, k), later, k)
	}
	ev.Model, ev.Baseline = model.metrics(ev.Customers, ev.Catalogue), base.metrics(ev.Customers, ev.Catalogue)
	return ev
}

// baseline is the popularity recommender: the k items with the most
// buyers before as-of that the customer has not bought.
func (m *Model) baseline(bought map[int32]bool, k int) []Item {
	out := make([]Item, 0, k)
	for _, j := range m.allTime {
		if len(out) == k {
			break
		}
		if !bought[j] {
			out = append(out, Item{SKU: m.skus[j], Reason: ReasonPopular})
		}
	}
	return out
}

// customersSnapshot returns the histories of every customer; the
// evaluation reads them while nothing else writes (a copy of each
// customer's slices is taken under the lock).
func (m *Model) customersSnapshot() []customerHistory {
	m.h.mu.RLock()
	defer m.h.mu.RUnlock()
	out := make([]customerHistory, 0, len(m.h.custIdx))
	for _, c := range m.h.custs {
		if c != nil {
			out = append(out, customerHistory{id: c.id, buys: c.buys[:len(c.buys):len(c.buys)]})
		}
	}
	return out
}

func (h *History) skuLocked(i int32) string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.skus[i]
}

// tally adds up one recommender's hits.
type tally struct {
	hits      int
	precision float64
	seen      map[string]bool
}

func (t *tally) add(items []Item, later map[string]bool, k int) {
	n := 0
	for _, it := range items {
		t.seen[it.SKU] = true
		if later[it.SKU] {
			n++
		}
	}
	if n > 0 {
		t.hits++
	}
	t.precision += float64(n) / float64(k)
}

func (t *tally) metrics(customers, catalogue int) Metrics {
	if customers == 0 {
		return Metrics{}
	}
	out := Metrics{HitRate: float64(t.hits) / float64(customers), Precision: t.precision / float64(customers)}
	if catalogue > 0 {
		out.Coverage = float64(len(t.seen)) / float64(catalogue)
	}
	return out
}
