package recommend_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/segmentation/internal/recommend"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// fakeStore is a stored history: changes applied up to cursor.
type fakeStore struct {
	mu      sync.Mutex
	changes []recommend.Change
	cursor  int64
	loads   int
}

func (f *fakeStore) HistoryCursor(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cursor, nil
}

func (f *fakeStore) LoadHistory(_ context.Context, h *recommend.History) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loads++
	h.Apply(f.changes)
	return f.cursor, nil
}

func (f *fakeStore) store(c recommend.Change) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.changes = append(f.changes, c)
	f.cursor = c.Sequence
}

func TestServiceFollowsTheStore(t *testing.T) {
	ctx := context.Background()
	st := &fakeStore{}
	svc := recommend.NewService(st, recommend.Options{}, func() time.Time { return day(10) })
	if _, _, err := svc.ForCustomer("ann", 3); !errors.Is(err, segmentation.ErrNoRecompute) {
		t.Fatalf("before a build: got %v, want ErrNoRecompute", err)
	}
	order := func(seq int64, customer string, skus ...string) recommend.Change {
		return recommend.Change{Sequence: seq, Kind: recommend.ChangeOrder, Customer: customer, At: day(1), Lines: lines(skus...)}
	}
	// Pages this replica's consumer stored, in order, after a first load.
	if err := svc.Warm(ctx); err != nil {
		t.Fatal(err)
	}
	for i, c := range []recommend.Change{order(1, "ann", "m1", "k1"), order(2, "bob", "m1", "k1")} {
		st.store(c)
		svc.Applied([]recommend.Change{c}, int64(i), c.Sequence, true)
	}
	if _, err := svc.Rebuild(ctx, "op", day(10), false); err != nil {
		t.Fatal(err)
	}
	if st.loads != 1 {
		t.Errorf("loads: got %d, want 1 (pages followed in memory)", st.loads)
	}
	// Another replica stored page 3: this one never saw it, so the next
	// build reloads.
	st.store(order(3, "cat", "m1"))
	m, err := svc.Rebuild(ctx, "op", day(10), false)
	if err != nil {
		t.Fatal(err)
	}
	if st.loads != 2 {
		t.Errorf("loads: got %d, want 2 (a page applied elsewhere)", st.loads)
	}
	got, _, err := svc.ForCustomer("cat", 1)
	if err != nil || len(got.Items) != 1 || got.Items[0].SKU != "k1" || m.AsOf() != day(10) {
		t.Errorf("cat: got %+v, %v; want k1", got, err)
	}
	// A page the store applied only in part (another replica was first)
	// is not trusted either.
	c := order(4, "dan", "k1")
	st.store(c)
	svc.Applied(nil, 3, 4, false)
	if _, err := svc.Rebuild(ctx, "op", day(10), false); err != nil || st.loads != 3 {
		t.Errorf("loads: got %d (%v), want 3", st.loads, err)
	}
	rel, _, err := svc.Related("nothing", 1)
	if err != nil || !rel.Fallback || len(rel.Items) != 1 {
		t.Errorf("related to an unknown sku: got %+v, %v; want one popular item, fallback", rel, err)
	}
}

// TestHistoryConcurrent builds and answers while orders arrive; run with
// -race.
func TestHistoryConcurrent(t *testing.T) {
	h := shop()
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 500 {
			h.AddOrder("new", day(i%9), lines("m1", "g1"))
			h.AddView("c1", day(9), recommend.Line{SKU: "g2", Category: "garden"})
			if i%100 == 0 {
				h.Rekey("new", "anon")
				h.Delete("anon")
			}
		}
	})
	for range 20 {
		m := recommend.Build(h, day(10), recommend.Options{})
		m.Recommend(recommend.Query{Customer: "c1", N: 5, Now: day(10)})
		m.Related("m1", 5)
		m.TopCategory("c1")
	}
	wg.Wait()
}
