package storetest

import (
	"reflect"
	"testing"

	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// testPurchaseDays: purchase days add up per day across pages, move with a
// re-key, go with a delete, and load with the inputs.
func testPurchaseDays(t *testing.T, s Store) {
	up := func(id string, days ...segmentation.PurchaseDay) segmentation.Mutation {
		return segmentation.Mutation{Kind: segmentation.MutationUpsert, ID: id, Features: features(1, 100), Purchases: days}
	}
	mustApply(t, s, 10,
		up("ann", segmentation.PurchaseDay{Day: 100, Amount: 500}, segmentation.PurchaseDay{Day: 107, Amount: 250}),
		up("bob", segmentation.PurchaseDay{Day: 100, Amount: 1}),
		up("cat", segmentation.PurchaseDay{Day: 90, Amount: 9}),
	)
	mustApply(t, s, 12,
		up("ann", segmentation.PurchaseDay{Day: 107, Amount: 50}),
		segmentation.Mutation{Kind: segmentation.MutationDelete, ID: "bob"},
		up("bob", segmentation.PurchaseDay{Day: 300, Amount: 7}), // a new customer under the deleted id
		up("cat", segmentation.PurchaseDay{Day: 91, Amount: 1}),
		segmentation.Mutation{Kind: segmentation.MutationRekey, ID: "cat", NewID: "anon-1"},
	)
	customers, err := s.LoadCustomers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]segmentation.PurchaseDay{}
	for _, c := range customers {
		got[c.ID] = c.Purchases
	}
	want := map[string][]segmentation.PurchaseDay{
		"ann":    {{Day: 100, Amount: 500}, {Day: 107, Amount: 300}},
		"bob":    {{Day: 300, Amount: 7}},
		"anon-1": {{Day: 90, Amount: 9}, {Day: 91, Amount: 1}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("purchase days = %v, want %v", got, want)
	}
}
