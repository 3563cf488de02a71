package recommend_test

import (
	"slices"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/segmentation/internal/recommend"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func day(n int) time.Time { return t0.Add(time.Duration(n) * 24 * time.Hour) }

func lines(skus ...string) []recommend.Line {
	out := make([]recommend.Line, len(skus))
	for i, s := range skus {
		out[i] = recommend.Line{SKU: s, Category: "kitchen"}
		if s[0] == 'g' {
			out[i].Category = "garden"
		}
	}
	return out
}

// shop: mugs (m1) are bought with teapots (k1); a bestseller (b) is bought
// by everyone; garden items (g1, g2) by some.
func shop() *recommend.History {
	h := recommend.NewHistory()
	h.AddOrder("c1", day(0), lines("m1", "k1", "b"))
	h.AddOrder("c2", day(1), lines("m1", "k1"))
	h.AddOrder("c2", day(2), lines("b"))
	h.AddOrder("c3", day(1), lines("m1", "b"))
	h.AddOrder("c4", day(2), lines("g1", "g2", "b"))
	h.AddOrder("c5", day(3), lines("g1", "b"))
	h.AddOrder("c6", day(3), lines("b", "g2"))
	return h
}

func skus(items []recommend.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.SKU)
	}
	return out
}

func TestRecommend(t *testing.T) {
	h := shop()
	h.AddView("c5", day(8), recommend.Line{SKU: "k1", Category: "kitchen"})
	h.AddView("c5", day(9), recommend.Line{SKU: "g1", Category: "garden"}) // bought: not a candidate
	asOf := day(10)
	m := recommend.Build(h, asOf, recommend.Options{})

	c3 := m.Recommend(recommend.Query{Customer: "c3", N: 3, Now: asOf})
	if c3.Fallback || len(c3.Items) != 3 {
		t.Fatalf("c3: got %+v, want 3 personal items", c3)
	}
	if got := c3.Items[0]; got.SKU != "k1" || got.Reason != recommend.ReasonBoughtWith || got.Text(asOf) != "bought with m1" {
		t.Errorf("c3 first: got %+v (%q), want k1 bought with m1", got, got.Text(asOf))
	}
	if slices.Contains(skus(c3.Items), "m1") || slices.Contains(skus(c3.Items), "b") {
		t.Errorf("c3: got %v, want no item already bought", skus(c3.Items))
	}
	again := m.Recommend(recommend.Query{Customer: "c3", N: 5, Now: asOf, IncludeRepurchases: true})
	if !slices.Contains(skus(again.Items), "b") {
		t.Errorf("c3 with repurchases: got %v, want b among them", skus(again.Items))
	}

	c5 := m.Recommend(recommend.Query{Customer: "c5", N: 3, Now: asOf})
	if got := c5.Items[0]; got.SKU != "k1" || got.Text(asOf) != "viewed 2 days ago, not bought" {
		t.Errorf("c5 first: got %+v (%q), want k1 viewed 2 days ago, not bought", got, got.Text(asOf))
	}

	unknown := m.Recommend(recommend.Query{Customer: "nobody", N: 2, Now: asOf})
	if !unknown.Fallback || len(unknown.Items) != 2 || unknown.Items[0].SKU != "b" || unknown.Items[0].Text(asOf) != "popular" {
		t.Errorf("unknown: got %+v, want the 2 most popular, b first, marked fallback", unknown)
	}
}

func TestRecommendCategory(t *testing.T) {
	h := shop()
	h.AddOrder("c7", day(4), lines("x")) // kitchen item nobody else buys
	m := recommend.Build(h, day(10), recommend.Options{})
	got := m.Recommend(recommend.Query{Customer: "c7", N: 1, Now: day(10)})
	if len(got.Items) != 1 || got.Items[0].Reason != recommend.ReasonPopularInCategory || got.Items[0].Text(day(10)) != "popular in kitchen" {
		t.Errorf("got %+v, want a kitchen item popular in kitchen", got)
	}
	for _, c := range []struct{ id, want string }{{"c1", "kitchen"}, {"c4", "garden"}, {"c7", "kitchen"}, {"nobody", ""}} {
		if top := m.TopCategory(c.id); top != c.want {
			t.Errorf("TopCategory(%s): got %q, want %q", c.id, top, c.want)
		}
	}
}

func TestBuildSeesOnlyThePast(t *testing.T) {
	h := shop()
	h.AddOrder("c3", day(20), lines("k1")) // after as-of
	m := recommend.Build(h, day(10), recommend.Options{})
	got := m.Recommend(recommend.Query{Customer: "c3", N: 1, Now: day(10)})
	if len(got.Items) != 1 || got.Items[0].SKU != "k1" {
		t.Errorf("got %v, want k1: the later purchase is not seen", skus(got.Items))
	}
	live := m.Recommend(recommend.Query{Customer: "c3", N: 1, Now: day(21)})
	if slices.Contains(skus(live.Items), "k1") {
		t.Errorf("live: got %v, want k1 left out once bought", skus(live.Items))
	}
}

func TestRelated(t *testing.T) {
	m := recommend.Build(shop(), day(10), recommend.Options{})
	got, ok := m.Related("m1", 5)
	if !ok || len(got) == 0 || got[0].SKU != "k1" {
		t.Fatalf("related to m1: got %v %v, want k1 first", skus(got), ok)
	}
	// Cosine: k1 is bought with m1 by 2 of m1's 3 buyers and k1 has 2
	// buyers: 2/√(3×2).
	if want := 2 / 2.449489742783178; got[0].Score < want-1e-6 || got[0].Score > want+1e-6 {
		t.Errorf("score: got %v, want %v", got[0].Score, want)
	}
	if _, ok := m.Related("nope", 5); ok {
		t.Error("unknown sku: got ok, want false")
	}
}

func TestLargeBasketsAreNotCoPurchases(t *testing.T) {
	h := recommend.NewHistory()
	big := make([]string, 0, 101)
	for i := range 101 {
		big = append(big, "w"+string(rune('A'+i%26))+string(rune('a'+i/26)))
	}
	h.AddOrder("wholesaler", day(0), lines(big...))
	m := recommend.Build(h, day(1), recommend.Options{})
	if got, _ := m.Related(big[0], 5); len(got) != 0 {
		t.Errorf("got %v, want no co-purchases from a basket over 100 lines", skus(got))
	}
	small := recommend.Build(h, day(1), recommend.Options{MaxBasket: 200})
	if got, _ := small.Related(big[0], 5); len(got) != 5 {
		t.Errorf("MaxBasket 200: got %d related, want 5", len(got))
	}
}

func TestNeighboursAreCapped(t *testing.T) {
	h := recommend.NewHistory()
	var all []string
	for i := range 30 {
		all = append(all, "i"+string(rune('A'+i)))
	}
	h.AddOrder("c", day(0), lines(all...))
	m := recommend.Build(h, day(1), recommend.Options{Neighbours: 7})
	if got, _ := m.Related(all[0], 100); len(got) != 7 {
		t.Errorf("got %d related, want 7", len(got))
	}
}

func TestDeleteAndRekey(t *testing.T) {
	h := shop()
	h.Rekey("c3", "anon-1")
	h.Delete("c2")
	m := recommend.Build(h, day(10), recommend.Options{})
	if got := m.Recommend(recommend.Query{Customer: "c3", N: 1, Now: day(10)}); !got.Fallback {
		t.Errorf("erased id: got %+v, want the fallback", got)
	}
	if got := m.Recommend(recommend.Query{Customer: "anon-1", N: 1, Now: day(10)}); got.Fallback {
		t.Errorf("anonymous id: got the fallback, want c3's history")
	}
	if got := h.Customers(); got != 5 {
		t.Errorf("customers: got %d, want 5", got)
	}
}

func TestItemText(t *testing.T) {
	now := day(5)
	for _, c := range []struct {
		it   recommend.Item
		want string
	}{
		{recommend.Item{Reason: recommend.ReasonBoughtWith, Because: "22423"}, "bought with 22423"},
		{recommend.Item{Reason: recommend.ReasonViewed, ViewedAt: day(3)}, "viewed 2 days ago, not bought"},
		{recommend.Item{Reason: recommend.ReasonViewed, ViewedAt: day(4)}, "viewed 1 day ago, not bought"},
		{recommend.Item{Reason: recommend.ReasonViewed, ViewedAt: now.Add(-time.Hour)}, "viewed today, not bought"},
		{recommend.Item{Reason: recommend.ReasonPopularInCategory, Because: "kitchen"}, "popular in kitchen"},
		{recommend.Item{Reason: recommend.ReasonPopular}, "popular"},
	} {
		if got := c.it.Text(now); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}
