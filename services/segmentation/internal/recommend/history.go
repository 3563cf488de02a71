package recommend

import (
	"sync"
	"time"
)

// Line is one line of an order as the model sees it: the item and its
// category (empty when the shop sends none).
type Line struct {
	SKU      string
	Category string
}

// event is one purchase (an item on an order) or one view of an item.
type event struct {
	item  int32
	order int32 // the customer's order number, from 1; 0 for a view
	at    int64 // Unix seconds
}

// customerHistory is one customer's purchases and views, in the order
// they were recorded.
type customerHistory struct {
	id     string
	orders int32
	buys   []event
	views  []event
}

// History is every customer's purchases and product views, kept in memory
// with item and customer ids interned. It is safe for concurrent use: the
// event consumer appends while recomputes build models and queries read.
type History struct {
	mu       sync.RWMutex
	skus     []string
	category []int32 // item → category index, -1 when none
	cats     []string
	itemIdx  map[string]int32
	catIdx   map[string]int32
	custIdx  map[string]int32
	custs    []*customerHistory // nil once deleted
}

// NewHistory returns an empty history.
func NewHistory() *History {
	return &History{itemIdx: map[string]int32{}, catIdx: map[string]int32{}, custIdx: map[string]int32{}}
}

// item interns sku (with its category, the latest non-empty one wins);
// h.mu is held for writing.
func (h *History) item(sku, category string) int32 {
	i, ok := h.itemIdx[sku]
	if !ok {
		i = int32(len(h.skus))
		h.itemIdx[sku] = i
		h.skus = append(h.skus, sku)
		h.category = append(h.category, -1)
	}
	if category != "" {
		c, ok := h.catIdx[category]
		if !ok {
			c = int32(len(h.cats))
			h.catIdx[category] = c
			h.cats = append(h.cats, category)
		}
		h.category[i] = c
	}
	return i
}

// customer returns the history of id, created if missing; h.mu is held
// for writing.
func (h *History) customer(id string) *customerHistory {
	if i, ok := h.custIdx[id]; ok && h.custs[i] != nil {
		return h.custs[i]
	}
	c := &customerHistory{id: id}
	h.custIdx[id] = int32(len(h.custs))
	h.custs = append(h.custs, c)
	return c
}

// AddOrder records an order of customer at time at. Lines without a SKU
// are ignored; an order without any line records nothing.
func (h *History) AddOrder(customer string, at time.Time, lines []Line) {
	if customer == "" || len(lines) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.customer(customer)
	c.orders++
	for _, l := range lines {
		if l.SKU == "" {
			continue
		}
		c.buys = append(c.buys, event{item: h.item(l.SKU, l.Category), order: c.orders, at: at.Unix()})
	}
}

// AddView records that customer viewed an item at time at.
func (h *History) AddView(customer string, at time.Time, l Line) {
	if customer == "" || l.SKU == "" {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.customer(customer)
	c.views = append(c.views, event{item: h.item(l.SKU, l.Category), at: at.Unix()})
}

// Delete forgets a customer's history.
func (h *History) Delete(customer string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if i, ok := h.custIdx[customer]; ok {
		h.custs[i] = nil
		delete(h.custIdx, customer)
	}
}

// Rekey moves a customer's history to a new id (an erasure's anonymous id),
// merging it into the history already kept under that id, if any.
func (h *History) Rekey(from, to string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	i, ok := h.custIdx[from]
	if !ok || from == to {
		return
	}
	src := h.custs[i]
	delete(h.custIdx, from)
	if j, ok := h.custIdx[to]; ok && h.custs[j] != nil {
		dst := h.custs[j]
		for _, b := range src.buys {
			b.order += dst.orders
			dst.buys = append(dst.buys, b)
		}
		dst.orders += src.orders
		dst.views = append(dst.views, src.views...)
		h.custs[i] = nil
		return
	}
	src.id = to
	h.custIdx[to] = i
}

// Customers is how many customers have a history.
func (h *History) Customers() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.custIdx)
}
