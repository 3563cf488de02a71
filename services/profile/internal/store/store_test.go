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

// benchEvents returns n batches of size events over a pool of customers:
// mostly views and orders, some refunds.
func benchEvents(n, size, customers int) [][]profile.Event {
	rng := rand.New(rand.NewPCG(7, 11))
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	gbp := func(m int64) profile.Money { return profile.Money{Currency: "GBP", Minor: m} }
	out := make([][]profile.Event, n)
	seq := 0
	for b := range out {
		batch := make([]profile.Event, size)
		for i := range batch {
			seq++
			e := profile.Event{
				ID:         fmt.Sprintf("ev-%09d", seq),
				CustomerID: fmt.Sprintf("cust-%06d", rng.IntN(customers)),
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

// BenchmarkAppendBatch appends batches of 1,000 events over 20,000
// customers and reports events per second.
func BenchmarkAppendBatch(b *testing.B) {
	const batchSize = 1000
	for _, eng := range engines {
		b.Run(eng.name, func(b *testing.B) {
			db, _ := eng.open(b)
			s := migrated(b, db)
			batches := benchEvents(b.N, batchSize, 20_000)
			fold := profile.FoldFunc((*profile.Features).Apply)
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
