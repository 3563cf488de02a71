package profile

import (
	"errors"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// The fuzz targets run their seeds (f.Add and testdata/fuzz/<name>/) under
// plain go test, and search further with go test -fuzz=<name>.

// FuzzValidateEvent builds an event of any kind from arbitrary fields and
// checks that validation never panics, that a rejection names a field in a
// short valid-UTF-8 message, and that an accepted event is within every
// documented limit (so folding it cannot overflow).
func FuzzValidateEvent(f *testing.F) {
	f.Add("e1", "c1", testNow.Unix()-3600, int32(0), uint8(0), "sku-1", "books", int64(2), int64(500), int64(0), int64(0), "GBP")
	f.Add("e2", "c1", testNow.Unix(), int32(0), uint8(1), "o1", "", int64(1), int64(1), int64(0), int64(100), "GBP")
	f.Add("e3", "c1", int64(-62135596800), int32(0), uint8(2), "s", "c", int64(0), int64(0), int64(0), int64(0), "")
	f.Add(strings.Repeat("e", 300), "c 1", int64(0), int32(0), uint8(4), "s\x00", "\xff", int64(5), int64(7), int64(0), int64(0), "EUR")
	f.Add("e4", "c1", testNow.Unix(), int32(0), uint8(0), "s", "c", MaxQuantity, MaxAmountMinor/MaxQuantity, int64(1), MaxAmountMinor, "JPY")
	f.Add("e5", "c1", testNow.Unix(), int32(0), uint8(0), "s", "c", int64(1)<<40, int64(1)<<40, int64(-1), int64(9223372036854775807), "GBP")
	f.Add("e6", "c1", testNow.Unix(), int32(0), uint8(3), "s", "web", int64(3), MaxAmountMinor, int64(0), MaxAmountMinor+1, "GBP")
	v := NewValidator()
	f.Fuzz(func(t *testing.T, id, customer string, sec int64, nsec int32, kind uint8, s1, s2 string, qty, price, discount, total int64, currency string) {
		e := Event{ID: id, CustomerID: customer, OccurredAt: time.Unix(sec, int64(nsec)).UTC(),
			Payload: fuzzPayload(kind, s1, s2, qty, price, discount, total, currency)}
		verr := v.Event(e, testNow)
		if verr != nil {
			checkRejection(t, e, verr)
			return
		}
		checkAccepted(t, e)
	})
}

func fuzzPayload(kind uint8, s1, s2 string, qty, price, discount, total int64, currency string) Payload {
	money := func(m int64) Money {
		if m == 0 {
			return Money{}
		}
		return Money{Currency: currency, Minor: m}
	}
	lines := []OrderLine{{SKU: s1, Category: s2, Quantity: qty, UnitPrice: money(price), Discount: money(discount)}}
	switch kind % 12 {
	case 0:
		return OrderPlaced{OrderID: s1, Lines: lines, Total: money(total), Channel: s2}
	case 1:
		return OrderRefunded{OrderID: s1, Amount: money(total)}
	case 2:
		return ProductViewed{SKU: s1, Category: s2, Channel: s2}
	case 3:
		return CartUpdated{Lines: lines, Value: money(total), Channel: s2}
	case 4:
		return ReviewPosted{SKU: s1, Rating: int32(qty), Length: int32(price)}
	case 5:
		return ContentShared{ContentID: s1, Network: s2}
	case 6:
		return CheckedIn{LocationID: s1}
	case 7:
		return ServiceContacted{Channel: s1, Topic: s2}
	case 8:
		return MessageEngaged{MessageID: s1, Channel: s2, Action: s2}
	case 9:
		return CustomerErased{AnonymousID: s1}
	case 10:
		return OrderRefunded{OrderID: s1, Amount: money(total), Lines: lines}
	}
	return nil
}

func checkRejection(t *testing.T, e Event, verr *ValidationError) {
	t.Helper()
	if !errors.Is(verr, ErrInvalidEvent) || verr.Path == "" || verr.Message == "" || verr.EventID != e.ID {
		t.Fatalf("rejection %#v lacks its sentinel, field, message or event id", verr)
	}
	msg := verr.Error()
	if !utf8.ValidString(msg) || len(msg) > 600 {
		t.Fatalf("message of %d bytes (valid UTF-8 %v): %.700q", len(msg), utf8.ValidString(msg), msg)
	}
	if len(verr.Description()) > 400 {
		t.Fatalf("description of %d bytes", len(verr.Description()))
	}
	if id, ok := verr.ErrorMetadata()["event_id"]; ok && (id != e.ID || eventIDProblem(id) != "") {
		t.Fatalf("metadata event_id %q, event id %q", id, e.ID)
	}
}

// checkAccepted checks an accepted event against every limit, independently
// of the validator's code.
func checkAccepted(t *testing.T, e Event) {
	t.Helper()
	printable := func(s string, max int) bool {
		return len(s) <= max && utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) })
	}
	if e.ID == "" || !printable(e.ID, MaxEventIDLen) || CheckCustomerID(e.CustomerID) != nil {
		t.Fatalf("accepted ids %q, %q", e.ID, e.CustomerID)
	}
	if e.OccurredAt.Year() < 1970 || e.OccurredAt.After(testNow.Add(MaxFutureSkew)) {
		t.Fatalf("accepted occurred_at %v", e.OccurredAt)
	}
	inRange := func(m Money) bool { return m.Minor >= 0 && m.Minor <= MaxAmountMinor }
	for _, m := range fuzzAmounts(e.Payload) {
		if !inRange(m) {
			t.Fatalf("accepted amount %d in %#v", m.Minor, e.Payload)
		}
	}
	for _, l := range fuzzLines(e.Payload) {
		if l.Quantity < 1 || l.Quantity > MaxQuantity || !printable(l.SKU, MaxTextLen) {
			t.Fatalf("accepted line %#v", l)
		}
		if g := new(big.Int).Mul(big.NewInt(l.Quantity), big.NewInt(l.UnitPrice.Minor)); g.Cmp(big.NewInt(MaxAmountMinor)) > 0 {
			t.Fatalf("accepted line worth %s", g)
		}
	}
	if p, ok := e.Payload.(OrderPlaced); ok {
		total, err := OrderTotal(p)
		if err != nil || !inRange(total) || (p.Total.IsZero() && big.NewInt(total.Minor).Cmp(exactLinesTotal(p)) != 0) {
			t.Fatalf("accepted order %#v has total %v, %v; exact %s", p, total, err, exactLinesTotal(p))
		}
	}
	if e.Kind().IsSystem() || e.Payload == nil {
		t.Fatalf("accepted payload %#v", e.Payload)
	}
}

func fuzzAmounts(p Payload) []Money {
	var out []Money
	for _, l := range fuzzLines(p) {
		out = append(out, l.UnitPrice, l.Discount)
	}
	switch p := p.(type) {
	case OrderPlaced:
		out = append(out, p.Total, p.OrderDiscount)
	case OrderRefunded:
		out = append(out, p.Amount)
	case CartUpdated:
		out = append(out, p.Value)
	}
	return out
}

func fuzzLines(p Payload) []OrderLine {
	switch p := p.(type) {
	case OrderPlaced:
		return p.Lines
	case OrderRefunded:
		return p.Lines
	case CartUpdated:
		return p.Lines
	}
	return nil
}

// exactLinesTotal is an order's total from its lines, in exact arithmetic.
func exactLinesTotal(p OrderPlaced) *big.Int {
	sum := new(big.Int)
	for _, l := range p.Lines {
		sum.Add(sum, new(big.Int).Mul(big.NewInt(l.Quantity), big.NewInt(l.UnitPrice.Minor)))
		sum.Sub(sum, big.NewInt(l.Discount.Minor))
	}
	return sum.Sub(sum, big.NewInt(p.OrderDiscount.Minor))
}

// FuzzFeaturesFold folds a sequence of valid events, decoded from ops, into
// a state that may start close to MaxTotal, and checks every total against
// the exact sum computed with math/big: equal below MaxTotal, MaxTotal at
// or above it, never wrapped; net spend is gross minus refunds; counts
// are exact; and folding the events in reverse or in another
// order gives the same features.
func FuzzFeaturesFold(f *testing.F) {
	f.Add(uint64(0), uint64(0), uint64(0), []byte{0, 0, 1, 5, 2, 0, 1, 7, 1, 1, 2, 1, 0, 3, 3})
	f.Add(uint64(1), uint64(0), uint64(1), []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 2, 0, 0, 1, 0, 0, 0, 0, 0})
	f.Add(uint64(3_000_000_000_000_000), uint64(5), uint64(7), []byte{2, 1, 0, 2, 1, 0, 0, 1, 0, 1, 2, 1, 2})
	f.Fuzz(func(t *testing.T, grossGap, refundGap, qtyGap uint64, ops []byte) {
		v := NewValidator()
		start := fuzzStart(grossGap, refundGap, qtyGap)
		events := decodeOps(ops)
		var valid []Event
		for _, e := range events {
			if v.Event(e, testNow) == nil {
				valid = append(valid, e)
			}
		}
		got := foldOnto(start(), valid)
		checkExact(t, start(), valid, got)
		reversed := slices.Clone(valid)
		slices.Reverse(reversed)
		if r := foldOnto(start(), reversed); !reflect.DeepEqual(r, got) {
			t.Fatalf("reverse order: got %+v, want %+v", r, got)
		}
		if len(valid) > 2 {
			// Odd positions first, then even ones.
			var mixed []Event
			for _, from := range []int{1, 0} {
				for i := from; i < len(valid); i += 2 {
					mixed = append(mixed, valid[i])
				}
			}
			if m := foldOnto(start(), mixed); !reflect.DeepEqual(m, got) {
				t.Fatalf("mixed order: got %+v, want %+v", m, got)
			}
		}
	})
}

// fuzzStart returns a constructor of the state folding starts from: empty,
// or with GBP gross and refunds and category "a" close to MaxTotal.
func fuzzStart(grossGap, refundGap, qtyGap uint64) func() Features {
	near := func(gap uint64, span int64) int64 { return MaxTotal - int64(gap%uint64(span)) }
	return func() Features {
		var f Features
		if grossGap != 0 || refundGap != 0 {
			var gross, refunded int64
			if grossGap != 0 {
				gross = near(grossGap, 4*MaxAmountMinor)
			}
			if refundGap != 0 {
				refunded = near(refundGap, 4*MaxAmountMinor)
			}
			f.Currencies = map[string]CurrencyTotals{"GBP": {GrossMinor: gross, NetMinor: gross - refunded}}
		}
		if qtyGap != 0 {
			f.Categories = map[string]CategoryTotals{"a": {Quantity: near(qtyGap, 4*MaxQuantity*MaxOrderLines)}}
		}
		return f
	}
}

func foldOnto(f Features, events []Event) Features {
	for _, e := range events {
		f.Apply(e)
	}
	return f
}

// opReader hands out the bytes of ops, then zeros.
type opReader struct{ b []byte }

func (r *opReader) byte() byte {
	if len(r.b) == 0 {
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// pick returns 1, max or a value from the next bytes in [1, max].
func (r *opReader) pick(max int64) int64 {
	switch s := r.byte(); s % 4 {
	case 0:
		return max
	case 1:
		return 1
	}
	var v uint64
	for range 7 {
		v = v<<8 | uint64(r.byte())
	}
	return int64(v%uint64(max)) + 1
}

// decodeOps turns bytes into events, mostly valid ones: orders by total or
// by lines, refunds and other activity, in three currencies, with amounts
// and quantities often at their limits.
func decodeOps(ops []byte) []Event {
	r := &opReader{b: ops}
	currencies := []string{"GBP", "EUR", "JPY"}
	categories := []string{"a", "b", ""}
	var out []Event
	for i := 0; len(r.b) > 0 && i < 200; i++ {
		kind, cur := r.byte()%4, currencies[r.byte()%3]
		e := Event{ID: "e", CustomerID: "c1", OccurredAt: at(int(r.byte()%28) + 1)}
		switch kind {
		case 0:
			e.Payload = OrderPlaced{Total: Money{Currency: cur, Minor: r.pick(MaxAmountMinor)}, Lines: []OrderLine{
				{Category: categories[r.byte()%3], Quantity: r.pick(MaxQuantity)}}}
		case 1:
			var lines []OrderLine
			for n := r.byte()%3 + 1; n > 0; n-- {
				q := r.pick(MaxQuantity)
				price := r.pick(MaxAmountMinor / q)
				disc := Money{}
				if r.byte()%2 == 1 {
					disc = Money{Currency: cur, Minor: q * price / 2}
				}
				lines = append(lines, OrderLine{Category: categories[r.byte()%3], Quantity: q, UnitPrice: Money{Currency: cur, Minor: price}, Discount: disc})
			}
			e.Payload = OrderPlaced{Lines: lines, Channel: categories[r.byte()%3]}
		case 2:
			e.Payload = OrderRefunded{Amount: Money{Currency: cur, Minor: r.pick(MaxAmountMinor)}}
		default:
			e.Payload = ProductViewed{SKU: "s"}
		}
		out = append(out, e)
	}
	return out
}

// checkExact compares got, the fold of events onto start, with exact sums.
func checkExact(t *testing.T, start Features, events []Event, got Features) {
	t.Helper()
	gross, refunds, qty := map[string]*big.Int{}, map[string]*big.Int{}, map[string]*big.Int{}
	add := func(m map[string]*big.Int, k string, v *big.Int) {
		if m[k] == nil {
			m[k] = new(big.Int)
		}
		m[k].Add(m[k], v)
	}
	for c, tot := range start.Currencies {
		add(gross, c, big.NewInt(tot.GrossMinor))
		add(refunds, c, big.NewInt(tot.GrossMinor-tot.NetMinor))
	}
	for c, tot := range start.Categories {
		add(qty, c, big.NewInt(tot.Quantity))
	}
	var orders, refundCount int64
	for _, e := range events {
		switch p := e.Payload.(type) {
		case OrderPlaced:
			orders++
			if !p.Total.IsZero() {
				add(gross, p.Total.Currency, big.NewInt(p.Total.Minor))
			} else {
				add(gross, p.Lines[0].UnitPrice.Currency, exactLinesTotal(p))
			}
			for _, l := range p.Lines {
				if l.Category != "" {
					add(qty, l.Category, big.NewInt(l.Quantity))
				}
			}
		case OrderRefunded:
			refundCount++
			add(refunds, p.Amount.Currency, big.NewInt(p.Amount.Minor))
		}
	}
	capped := func(v *big.Int) int64 {
		if v == nil {
			return 0
		}
		if v.Cmp(big.NewInt(MaxTotal)) >= 0 {
			return MaxTotal
		}
		return v.Int64()
	}
	if got.OrderCount != orders || got.RefundCount != refundCount || got.EventCount != int64(len(events)) {
		t.Fatalf("counts %d/%d/%d, want %d/%d/%d", got.OrderCount, got.RefundCount, got.EventCount, orders, refundCount, len(events))
	}
	for c, tot := range got.Currencies {
		g, r := capped(gross[c]), capped(refunds[c])
		if tot.GrossMinor != g || tot.Refunded() != r || tot.Net() != g-r {
			t.Fatalf("%s: gross %d refunded %d net %d; want %d, %d, %d (exact %s, %s)", c, tot.GrossMinor, tot.Refunded(), tot.Net(), g, r, g-r, gross[c], refunds[c])
		}
	}
	for _, s := range got.SpendByCurrency() {
		if s.NetMinor < -MaxTotal || s.NetMinor > s.GrossMinor || s.GrossMinor > MaxTotal {
			t.Fatalf("reported spend %+v out of bounds", s)
		}
	}
	for c, tot := range got.Categories {
		if want := capped(qty[c]); tot.Quantity != want {
			t.Fatalf("category %s: quantity %d, want %d (exact %s)", c, tot.Quantity, want, qty[c])
		}
	}
	if n := got.NetSpend(); n.Minor < -MaxTotal || n.Minor > got.GrossSpend().Minor {
		t.Fatalf("net spend %v, gross %v", n, got.GrossSpend())
	}
}
