package pricing

import (
	"reflect"
	"sync"
	"testing"
)

// TestResultsOutliveReusedState checks a Result shares nothing with the
// working data the next evaluations reuse: evaluations of other carts, one
// after another and at once, leave it as it was, and pricing the same cart
// again gives the same Result.
func TestResultsOutliveReusedState(t *testing.T) {
	c, cs, ctx := benchSetup()
	first, err := Evaluate(c, cs, ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := deepCopy(t, first)
	other := gbp(line("a", 3, 12000), line("b", 1, 450))
	other.Codes = []string{"nope"}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if _, err := Evaluate(other, cs, ctx); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if !reflect.DeepEqual(first, want) {
		t.Fatal("a later evaluation changed an earlier Result")
	}
	again, err := Evaluate(c, cs, ctx)
	if err != nil || !reflect.DeepEqual(again, want) {
		t.Fatalf("the same cart priced again differs (%v)", err)
	}
}

// deepCopy copies r with none of its slices shared, after checking every
// applied and not-applied entry still holds what evaluation wrote.
func deepCopy(t *testing.T, r Result) Result {
	t.Helper()
	out := r
	out.Lines = append([]LineResult(nil), r.Lines...)
	out.Gifts = append([]GiftLine(nil), r.Gifts...)
	out.NotApplied = append([]NotApplied(nil), r.NotApplied...)
	out.Applied = nil
	for _, a := range r.Applied {
		a.Allocations = append([]Allocation(nil), a.Allocations...)
		out.Applied = append(out.Applied, a)
	}
	if len(r.Applied) == 0 || len(r.NotApplied) == 0 {
		t.Fatalf("the cart needs promotions both applied and not: %d, %d", len(r.Applied), len(r.NotApplied))
	}
	for _, a := range r.Applied {
		if a.PromotionID == "" || len(a.Allocations) == 0 && a.ShippingDiscount == 0 && a.GiftQuantity == 0 {
			t.Fatalf("an applied promotion lost its fields: %+v", a)
		}
	}
	for _, n := range r.NotApplied {
		if n.Reason == "" {
			t.Fatalf("a promotion not applied lost its reason: %+v", n)
		}
	}
	return out
}
