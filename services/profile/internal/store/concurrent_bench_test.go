package store_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/tenurehq/tenure/services/profile/internal/profile"
)

// BenchmarkConcurrentWrites runs 24 writers at once, each on its own 10
// customers, alternating a batch of events over its customers and a
// profile update with its system event; it reports writes (transactions)
// and events per second, per engine and batch size (100 events, or 1,000
// as the largest batch the API takes).
func BenchmarkConcurrentWrites(b *testing.B) {
	const (
		parallelism = 12 // goroutines per GOMAXPROCS: 24 on 2 cores
		perWriter   = 10 // customers
	)
	for _, eng := range engines {
		for _, batchSize := range []int{100, 1000} {
			b.Run(fmt.Sprintf("%s/batch%d", eng.name, batchSize), func(b *testing.B) {
				db, _ := eng.open(b)
				s := migrated(b, db)
				ctx := context.Background()
				writers := parallelism * 64 // more than any GOMAXPROCS here
				var seed []profile.Event
				for w := range writers {
					for c := range perWriter {
						seed = append(seed, orderEvent(fmt.Sprintf("seed-%d-%d", w, c), fmt.Sprintf("w%d-c%d", w, c), c))
					}
				}
				if _, err := s.AppendEvents(ctx, seed, fold); err != nil {
					b.Fatal(err)
				}
				// Warm up: one write of each kind before the clock starts.
				for i := range 2 {
					if err := writeOnce(ctx, s, writers-1, i, perWriter, batchSize); err != nil {
						b.Fatal(err)
					}
				}
				var (
					next   atomic.Int64
					events atomic.Int64
				)
				b.SetParallelism(parallelism)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					w := int(next.Add(1)) - 1
					for i := 0; pb.Next(); i++ {
						if err := writeOnce(ctx, s, w, i, perWriter, batchSize); err != nil {
							b.Error(err)
							return
						}
						if i%2 == 0 {
							events.Add(int64(batchSize))
						} else {
							events.Add(1)
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
				b.ReportMetric(float64(events.Load())/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}

// writeOnce is writer w's i-th write: a batch on even i, an update on odd.
func writeOnce(ctx context.Context, s profileWriter, w, i, perWriter, batchSize int) error {
	if i%2 == 0 {
		events := make([]profile.Event, batchSize)
		for j := range events {
			events[j] = orderEvent(fmt.Sprintf("w%d-i%d-e%d", w, i, j), fmt.Sprintf("w%d-c%d", w, j%perWriter), j)
		}
		_, err := s.AppendEvents(ctx, events, fold)
		return err
	}
	_, err := s.UpdateCustomer(ctx, fmt.Sprintf("w%d-c%d", w, i%perWriter), func(c *profile.Customer) error {
		c.FullName = fmt.Sprintf("Writer %d, write %d", w, i)
		return nil
	}, updatedEvent)
	return err
}

// profileWriter is the part of profile.Store the benchmark writes through.
type profileWriter interface {
	AppendEvents(ctx context.Context, events []profile.Event, fold profile.FoldFunc) ([]profile.AppendResult, error)
	UpdateCustomer(ctx context.Context, id string, fn func(c *profile.Customer) error, event profile.CustomerEventFunc) (profile.Customer, error)
}
