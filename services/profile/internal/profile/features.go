package profile

import (
	"cmp"
	"slices"
	"time"
)

// TopCategoryCount is how many categories Features.TopCategories returns.
const TopCategoryCount = 5

// MaxTotal is where accumulated totals saturate: gross spend and refunds
// per currency, in minor units, and quantity per category. A single event
// carries at most MaxAmountMinor and MaxQuantity per line, so reaching it
// takes a thousand of the largest orders; a total that reaches it stays
// there instead of wrapping. It is well below the int64 limit, so that a
// consumer can add or subtract a few totals (gross − refunds, or a sum over
// a handful of currencies) without overflow.
const MaxTotal int64 = 1_000_000_000_000_000_000

// Features is the fold state derived from a customer's events. It keeps only
// sums, counts, minima and maxima, so folding events in any order gives the
// same state; the reported features (main currency, spend, average order
// value, top categories, preferred channel) are computed from it by methods.
// Sums saturate at MaxTotal (a saturating sum of non-negative terms is
// min(MaxTotal, exact sum) whatever the order); counts grow by one per
// event and cannot reach the int64 limit.
type Features struct {
	FirstOrderTime time.Time
	LastOrderTime  time.Time
	// OrderCount counts orders in every currency; refunds don't reduce it.
	OrderCount int64
	// DiscountedOrderCount counts orders that used a line or order discount.
	DiscountedOrderCount int64
	RefundCount          int64
	LastActivityTime     time.Time
	// EventCount counts events folded in (system events are not folded).
	EventCount int64
	// Currencies holds spend per ISO 4217 code.
	Currencies map[string]CurrencyTotals
	// Categories holds quantity and orders per product category.
	Categories map[string]CategoryTotals
	// Channels holds orders per sales channel.
	Channels map[string]int64
}

// CurrencyTotals is the spend in one currency.
type CurrencyTotals struct {
	OrderCount int64
	// GrossMinor is the sum of order totals, saturating at MaxTotal.
	GrossMinor int64
	// NetMinor is GrossMinor minus the sum of refunds (itself saturating at
	// MaxTotal), so it is negative when refunds exceed orders, and always
	// within [-MaxTotal, MaxTotal].
	NetMinor int64
}

// Refunded is the sum of refunds, saturating at MaxTotal.
func (t CurrencyTotals) Refunded() int64 {
	return clampTotal(clampTotal(t.GrossMinor) - max(-MaxTotal, min(t.NetMinor, MaxTotal)))
}

// Net is the net spend: gross minus refunds, bounded to [-MaxTotal,
// MaxTotal]. It is negative when the refunds exceed the orders (for example
// refunds of orders placed before the shop sent its history to Tenure).
func (t CurrencyTotals) Net() int64 { return max(-MaxTotal, min(t.NetMinor, MaxTotal)) }

// add folds an order total and a refund into t.
func (t *CurrencyTotals) add(order, refund int64) {
	gross, refunded := addCapped(t.GrossMinor, order), addCapped(t.Refunded(), refund)
	t.GrossMinor, t.NetMinor = gross, gross-refunded
}

// CategoryTotals is what a customer bought of one category.
type CategoryTotals struct {
	// Quantity is the sum of line quantities, saturating at MaxTotal.
	Quantity   int64
	OrderCount int64
}

// clampTotal bounds v to [0, MaxTotal].
func clampTotal(v int64) int64 { return max(0, min(v, MaxTotal)) }

// addCapped is a + b saturating at MaxTotal, for non-negative terms; it
// clamps both terms first, so no input can make it wrap.
func addCapped(a, b int64) int64 { return min(clampTotal(a)+clampTotal(b), MaxTotal) }

// CurrencySpend is a customer's spend in one currency, as reported.
type CurrencySpend struct {
	Currency string
	CurrencyTotals
}

// CategoryAffinity is how much of one category a customer bought.
type CategoryAffinity struct {
	Category string
	CategoryTotals
}

// Apply folds one accepted event into f. It is commutative and
// associative: any order of the same events gives the same f. Events are
// expected to be valid (see ValidateEvent); system events (SystemKinds) are
// ignored: they record changes to the customer record, not activity. So is
// order_delivered: the carrier's doing, not the customer's.
func (f *Features) Apply(e Event) {
	if e.Payload == nil || e.Kind().IsSystem() || e.Kind() == KindOrderDelivered {
		return
	}
	f.EventCount++
	f.LastActivityTime = laterOf(f.LastActivityTime, e.OccurredAt)
	switch p := e.Payload.(type) {
	case OrderPlaced:
		f.applyOrder(e.OccurredAt, p)
	case OrderRefunded:
		f.RefundCount++
		if p.Amount.Currency != "" {
			t := f.currency(p.Amount.Currency)
			t.add(0, p.Amount.Minor)
			f.Currencies[p.Amount.Currency] = t
		}
	}
}

func (f *Features) applyOrder(at time.Time, p OrderPlaced) {
	f.OrderCount++
	if f.FirstOrderTime.IsZero() || at.Before(f.FirstOrderTime) {
		f.FirstOrderTime = at
	}
	f.LastOrderTime = laterOf(f.LastOrderTime, at)
	if orderUsedDiscount(p) {
		f.DiscountedOrderCount++
	}
	if total, err := OrderTotal(p); err == nil && total.Currency != "" {
		t := f.currency(total.Currency)
		t.OrderCount++
		t.add(total.Minor, 0)
		f.Currencies[total.Currency] = t
	}
	seen := map[string]bool{}
	for _, l := range p.Lines {
		if l.Category == "" {
			continue
		}
		if f.Categories == nil {
			f.Categories = map[string]CategoryTotals{}
		}
		c := f.Categories[l.Category]
		c.Quantity = addCapped(c.Quantity, l.Quantity)
		if !seen[l.Category] {
			seen[l.Category] = true
			c.OrderCount++
		}
		f.Categories[l.Category] = c
	}
	if p.Channel != "" {
		if f.Channels == nil {
			f.Channels = map[string]int64{}
		}
		f.Channels[p.Channel]++
	}
}

func (f *Features) currency(code string) CurrencyTotals {
	if f.Currencies == nil {
		f.Currencies = map[string]CurrencyTotals{}
	}
	return f.Currencies[code]
}

func laterOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func orderUsedDiscount(p OrderPlaced) bool {
	if p.OrderDiscount.Minor > 0 {
		return true
	}
	for _, l := range p.Lines {
		if l.Discount.Minor > 0 {
			return true
		}
	}
	return false
}

// MainCurrency is the currency with most orders; ties go to the
// alphabetically first code. A customer with refunds but no orders has the
// first refunded currency. "" when there is no money at all.
func (f Features) MainCurrency() string {
	best := ""
	var bestOrders int64 = -1
	for code, t := range f.Currencies {
		if t.OrderCount > bestOrders || (t.OrderCount == bestOrders && code < best) {
			best, bestOrders = code, t.OrderCount
		}
	}
	return best
}

// GrossSpend is the sum of order totals in the main currency.
func (f Features) GrossSpend() Money {
	c := f.MainCurrency()
	if c == "" {
		return Money{}
	}
	return Money{Currency: c, Minor: clampTotal(f.Currencies[c].GrossMinor)}
}

// NetSpend is gross spend minus refunds in the main currency (see
// CurrencyTotals.Net).
func (f Features) NetSpend() Money {
	c := f.MainCurrency()
	if c == "" {
		return Money{}
	}
	return Money{Currency: c, Minor: f.Currencies[c].Net()}
}

// AverageOrderValue is gross spend divided by the orders in the main
// currency, rounded half up. Zero amount when there are no such orders.
func (f Features) AverageOrderValue() Money {
	c := f.MainCurrency()
	if c == "" {
		return Money{}
	}
	t := f.Currencies[c]
	return Money{Currency: c, Minor: divHalfUp(clampTotal(t.GrossMinor), t.OrderCount)}
}

// divHalfUp divides a by n > 0, rounding halves away from zero; 0 if n <= 0.
func divHalfUp(a, n int64) int64 {
	if n <= 0 {
		return 0
	}
	if a < 0 {
		return -divHalfUp(-a, n)
	}
	q, r := a/n, a%n
	if r >= n-r {
		q++
	}
	return q
}

// DiscountShare is the share of orders that used a discount, 0 to 1.
func (f Features) DiscountShare() float64 {
	if f.OrderCount == 0 {
		return 0
	}
	return float64(f.DiscountedOrderCount) / float64(f.OrderCount)
}

// TopCategories returns up to TopCategoryCount categories by quantity,
// most first; ties go to more orders, then alphabetical order.
func (f Features) TopCategories() []CategoryAffinity {
	out := make([]CategoryAffinity, 0, len(f.Categories))
	for name, t := range f.Categories {
		out = append(out, CategoryAffinity{Category: name, CategoryTotals: t})
	}
	slices.SortFunc(out, func(a, b CategoryAffinity) int {
		if c := cmp.Compare(b.Quantity, a.Quantity); c != 0 {
			return c
		}
		if c := cmp.Compare(b.OrderCount, a.OrderCount); c != 0 {
			return c
		}
		return cmp.Compare(a.Category, b.Category)
	})
	if len(out) > TopCategoryCount {
		out = out[:TopCategoryCount]
	}
	return out
}

// PreferredChannel is the channel with most orders; ties go to the
// alphabetically first. "" when no order named a channel.
func (f Features) PreferredChannel() string {
	best := ""
	var bestN int64
	for ch, n := range f.Channels {
		if n > bestN || (n == bestN && ch < best) {
			best, bestN = ch, n
		}
	}
	return best
}

// SpendByCurrency returns the spend per currency, by currency code, with
// NetMinor bounded as Net says.
func (f Features) SpendByCurrency() []CurrencySpend {
	out := make([]CurrencySpend, 0, len(f.Currencies))
	for code, t := range f.Currencies {
		t.NetMinor = t.Net()
		out = append(out, CurrencySpend{Currency: code, CurrencyTotals: t})
	}
	slices.SortFunc(out, func(a, b CurrencySpend) int { return cmp.Compare(a.Currency, b.Currency) })
	return out
}
