package profile

import (
	"math"
	"reflect"
	"testing"
	"time"
)

func at(day int) time.Time { return time.Date(2026, 1, day, 10, 0, 0, 0, time.UTC) }

func fold(events ...Event) Features {
	var f Features
	for _, e := range events {
		f.Apply(e)
	}
	return f
}

func placed(day int, p OrderPlaced) Event {
	return Event{ID: "o", CustomerID: "c1", OccurredAt: at(day), Payload: p}
}

func TestFeatures(t *testing.T) {
	eur := func(m int64) Money { return Money{Currency: "EUR", Minor: m} }
	tests := []struct {
		name   string
		events []Event
		check  func(t *testing.T, f Features)
	}{
		{
			name:   "no events",
			events: nil,
			check: func(t *testing.T, f Features) {
				if f.MainCurrency() != "" || !f.NetSpend().IsZero() || f.DiscountShare() != 0 || f.PreferredChannel() != "" || len(f.TopCategories()) != 0 {
					t.Fatalf("zero features expected, got %+v", f)
				}
			},
		},
		{
			name: "orders and refunds",
			events: []Event{
				placed(3, OrderPlaced{Lines: []OrderLine{line("books", 2, 500)}, Channel: "web"}), // 1000
				placed(1, OrderPlaced{Total: gbp(301), Channel: "app"}),
				placed(5, OrderPlaced{Lines: []OrderLine{{Category: "toys", Quantity: 1, UnitPrice: gbp(400), Discount: gbp(100)}}, Channel: "web"}), // 300
				{ID: "r", CustomerID: "c1", OccurredAt: at(7), Payload: OrderRefunded{Amount: gbp(250)}},
				{ID: "v", CustomerID: "c1", OccurredAt: at(9), Payload: ProductViewed{SKU: "x"}},
			},
			check: func(t *testing.T, f Features) {
				assertEq(t, "first order", f.FirstOrderTime, at(1))
				assertEq(t, "last order", f.LastOrderTime, at(5))
				assertEq(t, "last activity", f.LastActivityTime, at(9))
				assertEq(t, "order count", f.OrderCount, int64(3))
				assertEq(t, "refund count", f.RefundCount, int64(1))
				assertEq(t, "event count", f.EventCount, int64(5))
				assertEq(t, "gross", f.GrossSpend(), gbp(1601))
				assertEq(t, "net", f.NetSpend(), gbp(1351))
				assertEq(t, "aov", f.AverageOrderValue(), gbp(534)) // 533.67 → 534
				assertEq(t, "discount share", f.DiscountShare(), 1.0/3)
				assertEq(t, "channel", f.PreferredChannel(), "web")
			},
		},
		{
			name: "aov rounds half up",
			events: []Event{
				placed(1, OrderPlaced{Total: gbp(1)}),
				placed(2, OrderPlaced{Total: gbp(2)}),
			},
			check: func(t *testing.T, f Features) { assertEq(t, "aov", f.AverageOrderValue(), gbp(2)) }, // 1.5 → 2
		},
		{
			name: "order discount counts as discount and reduces the total",
			events: []Event{
				placed(1, OrderPlaced{Lines: []OrderLine{line("a", 1, 1000)}, OrderDiscount: gbp(100)}),
				placed(2, OrderPlaced{Total: gbp(50)}),
			},
			check: func(t *testing.T, f Features) {
				assertEq(t, "gross", f.GrossSpend(), gbp(950))
				assertEq(t, "discount share", f.DiscountShare(), 0.5)
			},
		},
		{
			name: "main currency: most orders, tie alphabetical",
			events: []Event{
				placed(1, OrderPlaced{Total: gbp(100)}),
				placed(2, OrderPlaced{Total: eur(900)}),
				placed(3, OrderPlaced{Total: eur(100)}),
				placed(4, OrderPlaced{Total: gbp(100)}),
				{ID: "r", CustomerID: "c1", OccurredAt: at(5), Payload: OrderRefunded{Amount: gbp(10)}},
			},
			check: func(t *testing.T, f Features) {
				assertEq(t, "main", f.MainCurrency(), "EUR")
				assertEq(t, "gross", f.GrossSpend(), eur(1000))
				assertEq(t, "net", f.NetSpend(), eur(1000))
				assertEq(t, "aov", f.AverageOrderValue(), eur(500))
				assertEq(t, "by currency", f.SpendByCurrency(), []CurrencySpend{
					{"EUR", CurrencyTotals{OrderCount: 2, GrossMinor: 1000, NetMinor: 1000}},
					{"GBP", CurrencyTotals{OrderCount: 2, GrossMinor: 200, NetMinor: 190}},
				})
			},
		},
		{
			name: "refund before any order",
			events: []Event{
				{ID: "r", CustomerID: "c1", OccurredAt: at(5), Payload: OrderRefunded{Amount: gbp(10)}},
			},
			check: func(t *testing.T, f Features) {
				assertEq(t, "net", f.NetSpend(), gbp(-10))
				assertEq(t, "refunded", f.Currencies["GBP"].Refunded(), int64(10))
				assertEq(t, "refund count", f.RefundCount, int64(1))
				assertEq(t, "orders", f.OrderCount, int64(0))
				assertEq(t, "first order", f.FirstOrderTime.IsZero(), true)
			},
		},
		{
			name: "top five categories by quantity, channel tie alphabetical",
			events: []Event{
				placed(1, OrderPlaced{Lines: []OrderLine{line("a", 1, 1), line("b", 7, 1), line("c", 3, 1)}, Channel: "web"}),
				placed(2, OrderPlaced{Lines: []OrderLine{line("d", 3, 1), line("e", 2, 1), line("f", 1, 1), line("a", 1, 1)}, Channel: "app"}),
				placed(3, OrderPlaced{Lines: []OrderLine{line("g", 2, 1), line("g", 1, 1)}}),
			},
			check: func(t *testing.T, f Features) {
				assertEq(t, "top", f.TopCategories(), []CategoryAffinity{
					{"b", CategoryTotals{Quantity: 7, OrderCount: 1}},
					{"c", CategoryTotals{Quantity: 3, OrderCount: 1}},
					{"d", CategoryTotals{Quantity: 3, OrderCount: 1}},
					{"g", CategoryTotals{Quantity: 3, OrderCount: 1}},
					{"a", CategoryTotals{Quantity: 2, OrderCount: 2}},
				})
				assertEq(t, "channel", f.PreferredChannel(), "app")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, fold(tt.events...)) })
	}
}

func assertEq[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

// TestFeaturesOrderIndependent folds every permutation of a small event set
// and expects the same features each time.
func TestFeaturesOrderIndependent(t *testing.T) {
	events := []Event{
		placed(4, OrderPlaced{Lines: []OrderLine{line("books", 2, 500), line("toys", 1, 300)}, Channel: "web"}),
		placed(2, OrderPlaced{Total: Money{Currency: "EUR", Minor: 700}, Channel: "app"}),
		placed(6, OrderPlaced{Lines: []OrderLine{{Category: "toys", Quantity: 4, UnitPrice: gbp(100), Discount: gbp(50)}}, Channel: "store"}),
		{ID: "r", CustomerID: "c1", OccurredAt: at(5), Payload: OrderRefunded{Amount: gbp(120)}},
		{ID: "v", CustomerID: "c1", OccurredAt: at(9), Payload: ProductViewed{SKU: "x"}},
		{ID: "w", CustomerID: "c1", OccurredAt: at(1), Payload: ReviewPosted{Rating: 4}},
	}
	want := fold(events...)
	n := 0
	permute(events, 0, func(p []Event) {
		n++
		if got := fold(p...); !reflect.DeepEqual(got, want) {
			t.Fatalf("permutation %d: got %+v, want %+v", n, got, want)
		}
	})
	if n != 720 {
		t.Fatalf("tried %d permutations, want 720", n)
	}
	assertEq(t, "gross", want.GrossSpend(), gbp(1650))
	assertEq(t, "net", want.NetSpend(), gbp(1530))
	assertEq(t, "channel", want.PreferredChannel(), "app")
}

func permute(s []Event, k int, fn func([]Event)) {
	if k == len(s) {
		fn(s)
		return
	}
	for i := k; i < len(s); i++ {
		s[k], s[i] = s[i], s[k]
		permute(s, k+1, fn)
		s[k], s[i] = s[i], s[k]
	}
}

func TestApplyIgnoresSystemEvents(t *testing.T) {
	at := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	var want Features
	want.Apply(Event{ID: "o", CustomerID: "c", OccurredAt: at, Payload: order(line("a", 1, 100))})
	for _, p := range []Payload{CustomerErased{AnonymousID: "x"}, CustomerUpdated{Tags: []string{"t"}}, CustomerDeleted{}} {
		t.Run(string(p.Kind()), func(t *testing.T) {
			if !p.Kind().IsSystem() {
				t.Fatalf("%s.IsSystem() = false, want true", p.Kind())
			}
			got := want
			got.Apply(Event{ID: "s", CustomerID: "c", OccurredAt: at.Add(time.Hour), Payload: p})
			assertEq(t, "features", got, want)
		})
	}
	got := want
	got.Apply(Event{ID: "d", CustomerID: "c", OccurredAt: at.Add(time.Hour), Payload: OrderDelivered{OrderID: "o"}})
	assertEq(t, "features after order_delivered", got, want)
	if KindOrderPlaced.IsSystem() {
		t.Error("order_placed.IsSystem() = true, want false")
	}
}

func refund(day int, minor int64) Event {
	return Event{ID: "r", CustomerID: "c1", OccurredAt: at(day), Payload: OrderRefunded{Amount: gbp(minor)}}
}

// Totals are exact below MaxTotal, stay at MaxTotal beyond it, and never
// wrap; a refund beyond the orders brings net spend to zero and no further.
func TestFeaturesLimits(t *testing.T) {
	t.Run("largest orders add up exactly", func(t *testing.T) {
		f := fold(placed(1, OrderPlaced{Total: gbp(MaxAmountMinor)}), placed(2, OrderPlaced{Total: gbp(2)}))
		assertEq(t, "gross", f.GrossSpend(), gbp(MaxAmountMinor+2))
		assertEq(t, "net", f.NetSpend(), gbp(MaxAmountMinor+2))
	})
	t.Run("gross saturates", func(t *testing.T) {
		var f Features
		n := MaxTotal/MaxAmountMinor + 1
		for i := int64(0); i < n; i++ {
			f.Apply(placed(1, OrderPlaced{Total: gbp(MaxAmountMinor)}))
		}
		assertEq(t, "orders", f.OrderCount, n)
		assertEq(t, "gross", f.GrossSpend(), gbp(MaxTotal))
		assertEq(t, "aov", f.AverageOrderValue(), gbp(divHalfUp(MaxTotal, n)))
		f.Apply(refund(2, 5))
		assertEq(t, "net after refund", f.NetSpend(), gbp(MaxTotal-5))
		f.Apply(placed(3, OrderPlaced{Total: gbp(7)}))
		assertEq(t, "net after a further order", f.NetSpend(), gbp(MaxTotal-5))
	})
	t.Run("refund larger than orders", func(t *testing.T) {
		f := fold(placed(1, OrderPlaced{Total: gbp(100)}), refund(2, MaxAmountMinor))
		assertEq(t, "gross", f.GrossSpend(), gbp(100))
		assertEq(t, "net", f.NetSpend(), gbp(100-MaxAmountMinor))
		assertEq(t, "by currency", f.SpendByCurrency(), []CurrencySpend{{"GBP", CurrencyTotals{OrderCount: 1, GrossMinor: 100, NetMinor: 100 - MaxAmountMinor}}})
		assertEq(t, "refunded", f.Currencies["GBP"].Refunded(), MaxAmountMinor)
		// A later order nets against the refunds already counted, as it
		// would had it arrived first.
		f.Apply(placed(3, OrderPlaced{Total: gbp(MaxAmountMinor)}))
		assertEq(t, "net", f.NetSpend(), gbp(100))
	})
	t.Run("refunds saturate", func(t *testing.T) {
		f := Features{Currencies: map[string]CurrencyTotals{"GBP": {OrderCount: 1, GrossMinor: 10, NetMinor: 10 - MaxTotal}}}
		f.Apply(refund(1, MaxAmountMinor))
		assertEq(t, "refunded", f.Currencies["GBP"].Refunded(), MaxTotal)
		assertEq(t, "net", f.NetSpend(), gbp(10-MaxTotal))
	})
	t.Run("category quantity saturates", func(t *testing.T) {
		f := Features{Categories: map[string]CategoryTotals{"a": {Quantity: MaxTotal - 3, OrderCount: 1}}}
		f.Apply(placed(1, order(line("a", MaxQuantity, 1))))
		assertEq(t, "quantity", f.Categories["a"], CategoryTotals{Quantity: MaxTotal, OrderCount: 2})
	})
	t.Run("wrapped totals from earlier releases are bounded", func(t *testing.T) {
		f := Features{
			Currencies: map[string]CurrencyTotals{"GBP": {OrderCount: 2, GrossMinor: math.MinInt64 + 1, NetMinor: math.MaxInt64 - 198}},
			Categories: map[string]CategoryTotals{"a": {Quantity: math.MaxInt64, OrderCount: 1}},
		}
		f.Apply(placed(1, order(line("a", MaxQuantity, MaxAmountMinor/MaxQuantity))))
		f.Apply(refund(2, MaxAmountMinor))
		tot := f.Currencies["GBP"]
		if g, n := f.GrossSpend().Minor, f.NetSpend().Minor; g < 0 || g > MaxTotal || n < -MaxTotal || n > g || tot.Refunded() < 0 || tot.Refunded() > MaxTotal {
			t.Fatalf("totals out of bounds: %+v (gross %d, net %d)", tot, g, n)
		}
		assertEq(t, "quantity", f.Categories["a"].Quantity, MaxTotal)
	})
}

// TestFeaturesOrderIndependentNearLimits folds every permutation of events
// that cross MaxTotal and a negative net spend, from a state close
// to the limit, and expects the same features each time.
func TestFeaturesOrderIndependentNearLimits(t *testing.T) {
	start := func() Features {
		return Features{
			Currencies: map[string]CurrencyTotals{"GBP": {OrderCount: 1, GrossMinor: MaxTotal - MaxAmountMinor/2, NetMinor: MaxTotal - MaxAmountMinor/2}},
			Categories: map[string]CategoryTotals{"a": {Quantity: MaxTotal - 5, OrderCount: 1}},
		}
	}
	events := []Event{
		placed(1, OrderPlaced{Total: gbp(MaxAmountMinor)}),
		refund(2, MaxAmountMinor),
		placed(3, order(line("a", 3, 1))),
		refund(4, 7),
		placed(5, order(line("a", 4, MaxAmountMinor/4))),
		placed(6, OrderPlaced{Total: Money{Currency: "EUR", Minor: 3}}),
		{ID: "re", CustomerID: "c1", OccurredAt: at(7), Payload: OrderRefunded{Amount: Money{Currency: "EUR", Minor: MaxAmountMinor}}},
	}
	foldFrom := func(es []Event) Features {
		f := start()
		for _, e := range es {
			f.Apply(e)
		}
		return f
	}
	want := foldFrom(events)
	n := 0
	permute(events, 0, func(p []Event) {
		n++
		if got := foldFrom(p); !reflect.DeepEqual(got, want) {
			t.Fatalf("permutation %d: got %+v, want %+v", n, got, want)
		}
	})
	if n != 5040 {
		t.Fatalf("tried %d permutations, want 5040", n)
	}
	assertEq(t, "gross", want.GrossSpend(), gbp(MaxTotal))
	assertEq(t, "net", want.NetSpend(), gbp(MaxTotal-MaxAmountMinor-7))
	assertEq(t, "EUR", want.SpendByCurrency()[0], CurrencySpend{"EUR", CurrencyTotals{OrderCount: 1, GrossMinor: 3, NetMinor: 3 - MaxAmountMinor}})
	assertEq(t, "quantity", want.Categories["a"].Quantity, MaxTotal)
}
