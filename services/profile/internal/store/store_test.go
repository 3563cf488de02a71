package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"github.com/tenurehq/tenure/services/profile/internal/profile"
	"github.com/tenurehq/tenure/services/profile/internal/store"
	"github.com/tenurehq/tenure/services/profile/internal/store/storetest"
)

// engines opens a fresh database per engine and returns it with its DSN.
var engines = []struct {
	name string
	open func(testing.TB) (*sqlstore.DB, string)
}{
	{"sqlite", sqlstoretest.SQLiteDSN},
	{"postgres", sqlstoretest.PostgresDSN},
}

func migrated(t testing.TB, db *sqlstore.DB) *store.Store {
	t.Helper()
	s := store.New(db)
	// Migrating twice is a no-op the second time.
	for range 2 {
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
	}
	return s
}

func TestConformance(t *testing.T) {
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) (profile.Store, func() profile.Store) {
				db, dsn := eng.open(t)
				s := migrated(t, db)
				replica := func() profile.Store {
					db, err := sqlstore.Open(context.Background(), dsn)
					if err != nil {
						t.Fatalf("open replica: %v", err)
					}
					t.Cleanup(func() { _ = db.Close() })
					return migrated(t, db)
				}
				return s, replica
			})
		})
	}
}

// workload shapes the batches of BenchmarkAppendBatch.
type workload struct {
	name string
	// customers is the pool events are drawn from; perBatch is how many
	// distinct customers one batch touches (0: each event picks at random).
	customers, perBatch int
}

var workloads = []workload{
	// Browsing sessions: 1,000 events from 200 customers, about five each,
	// out of 100,000 customers.
	{name: "sessions", customers: 100_000, perBatch: 200},
	// Worst case for feature updates: every event from a random customer
	// out of 20,000, so a batch touches almost 1,000 customers.
	{name: "spread", customers: 20_000},
}

// benchEvents returns n batches of size events: half product views, 40 %
// orders, 10 % refunds.
func benchEvents(n, size int, w workload) [][]profile.Event {
	rng := rand.New(rand.NewPCG(7, 11))
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	gbp := func(m int64) profile.Money { return profile.Money{Currency: "GBP", Minor: m} }
	out := make([][]profile.Event, n)
	seq := 0
	for b := range out {
		batch := make([]profile.Event, size)
		var active []int
		for range w.perBatch {
			active = append(active, rng.IntN(w.customers))
		}
		for i := range batch {
			seq++
			c := rng.IntN(w.customers)
			if len(active) > 0 {
				c = active[rng.IntN(len(active))]
			}
			e := profile.Event{
				ID:         fmt.Sprintf("ev-%09d", seq),
				CustomerID: fmt.Sprintf("cust-%06d", c),
				OccurredAt: base.Add(time.Duration(rng.IntN(1<<20)) * time.Second),
			}
			e.RecordTime = e.OccurredAt.Add(time.Second)
			switch k := rng.IntN(10); {
			case k < 5:
				e.Payload = profile.ProductViewed{SKU: fmt.Sprintf("sku-%d", rng.IntN(500)), Category: "cat", Channel: "web"}
			case k < 9:
				qty := int64(1 + rng.IntN(3))
				price := int64(100 + rng.IntN(5000))
				e.Payload = profile.OrderPlaced{
					OrderID: "o-" + e.ID,
					Lines: []profile.OrderLine{{
						SKU: fmt.Sprintf("sku-%d", rng.IntN(500)), Category: fmt.Sprintf("cat-%d", rng.IntN(12)),
						Quantity: qty, UnitPrice: gbp(price),
					}},
					Total:   gbp(qty * price),
					Channel: []string{"web", "app", "store"}[rng.IntN(3)],
				}
			default:
				e.Payload = profile.OrderRefunded{Amount: gbp(int64(50 + rng.IntN(500)))}
			}
			batch[i] = e
		}
		out[b] = batch
	}
	return out
}

// BenchmarkAppendBatch appends batches of 1,000 events and reports events
// per second, per engine and workload.
func BenchmarkAppendBatch(b *testing.B) {
	const batchSize = 1000
	fold := profile.FoldFunc((*profile.Features).Apply)
	for _, eng := range engines {
		for _, w := range workloads {
			b.Run(eng.name+"/"+w.name, func(b *testing.B) {
				db, _ := eng.open(b)
				s := migrated(b, db)
				batches := benchEvents(b.N, batchSize, w)
				ctx := context.Background()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := s.AppendEvents(ctx, batches[i], fold); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*batchSize)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}
