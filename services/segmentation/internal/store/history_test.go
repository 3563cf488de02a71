package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"github.com/tenurehq/tenure/services/segmentation/internal/recommend"
	"github.com/tenurehq/tenure/services/segmentation/internal/store"
)

func TestPurchaseHistory(t *testing.T) {
	for _, eng := range []struct {
		name string
		open func(testing.TB) *sqlstore.DB
	}{{"sqlite", sqlstoretest.SQLite}, {"postgres", sqlstoretest.Postgres}} {
		t.Run(eng.name, func(t *testing.T) { testPurchaseHistory(t, eng.open(t)) })
	}
}

func testPurchaseHistory(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	s := store.New(db)
	for range 2 {
		if err := s.MigrateHistory(ctx); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	line := func(sku string) recommend.Line { return recommend.Line{SKU: sku, Category: "kitchen"} }
	page := []recommend.Change{
		{Sequence: 1, Kind: recommend.ChangeOrder, Customer: "ann", At: at, Lines: []recommend.Line{line("mug"), line("teapot")}},
		{Sequence: 2, Kind: recommend.ChangeOrder, Customer: "bob", At: at, Lines: []recommend.Line{line("mug"), line("teapot")}},
		{Sequence: 3, Kind: recommend.ChangeView, Customer: "cat", At: at, Lines: []recommend.Line{line("mug")}},
		{Sequence: 4, Kind: recommend.ChangeOrder, Customer: "dan", At: at, Lines: []recommend.Line{line("spoon")}},
	}
	applied, err := s.ApplyHistory(ctx, page, 4)
	if err != nil || len(applied) != 4 {
		t.Fatalf("first page: %d applied, %v; want 4", len(applied), err)
	}
	// A replica behind applies an overlapping page: only what is new counts.
	applied, err = s.ApplyHistory(ctx, append(page[2:], recommend.Change{Sequence: 5, Kind: recommend.ChangeRekey, Customer: "ann", NewID: "anon-1"},
		recommend.Change{Sequence: 6, Kind: recommend.ChangeDelete, Customer: "dan"}), 6)
	if err != nil || len(applied) != 2 || applied[0].Sequence != 5 {
		t.Fatalf("overlapping page: %+v, %v; want sequences 5 and 6", applied, err)
	}
	if applied, err = s.ApplyHistory(ctx, page, 4); err != nil || len(applied) != 0 {
		t.Fatalf("old page: %+v, %v; want nothing applied", applied, err)
	}
	if c, err := s.HistoryCursor(ctx); c != 6 || err != nil {
		t.Fatalf("cursor %d, %v; want 6", c, err)
	}

	h := recommend.NewHistory()
	cursor, err := s.LoadHistory(ctx, h)
	if err != nil || cursor != 6 {
		t.Fatalf("load: cursor %d, %v; want 6", cursor, err)
	}
	if n := h.Customers(); n != 3 { // anon-1, bob, cat; dan deleted
		t.Errorf("customers: got %d, want 3", n)
	}
	m := recommend.Build(h, at.Add(time.Hour), recommend.Options{})
	if got := m.Recommend(recommend.Query{Customer: "anon-1", N: 1, Now: at.Add(time.Hour)}); got.Fallback {
		t.Errorf("anon-1: got the fallback, want ann's history")
	}
	if got := m.Recommend(recommend.Query{Customer: "ann", N: 1, Now: at.Add(time.Hour)}); !got.Fallback {
		t.Errorf("ann (erased): got %+v, want the fallback", got)
	}
	if got, ok := m.Related("spoon", 5); ok {
		t.Errorf("spoon (its only buyer deleted): got %+v, want unknown", got)
	}
	if got := m.Recommend(recommend.Query{Customer: "cat", N: 1, Now: at.Add(time.Hour)}); got.Fallback || got.Items[0].Reason != recommend.ReasonViewed {
		t.Errorf("cat: got %+v, want mug, viewed", got)
	}
}
