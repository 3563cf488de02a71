package app_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	loyaltyv1 "github.com/tenurehq/tenure/gen/tenure/loyalty/v1"
	"github.com/tenurehq/tenure/services/loyalty/app"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
)

// BenchmarkRedeemPoints times RedeemPoints over gRPC against the real
// service on PostgreSQL, one client at a time and 32 at once, each call on
// one of 32 members, and reports p50 and p99 latencies.
func BenchmarkRedeemPoints(b *testing.B) {
	s := stacktest.Start(b, stacktest.Options{NoEtcd: true, Engine: stacktest.Postgres})
	r := s.Add(app.Component(func(c *app.Config, _ *app.Deps) { c.JobInterval = 0 }))
	c := loyaltyv1.NewLoyaltyServiceClient(stacktest.Dial(b, r.Addr()))
	const members = 32
	for i := range members {
		id := fmt.Sprintf("m%02d", i)
		if _, err := c.CreateMember(ctx, &loyaltyv1.CreateMemberRequest{MemberId: id}); err != nil {
			b.Fatal(err)
		}
		if _, err := c.AdjustPoints(ctx, &loyaltyv1.AdjustPointsRequest{Member: "members/" + id, Points: 1_000_000_000,
			Reason: "benchmark", Operator: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
	redeem := func(i int) time.Duration {
		start := time.Now()
		_, err := c.RedeemPoints(ctx, &loyaltyv1.RedeemPointsRequest{Member: fmt.Sprintf("members/m%02d", i%members),
			Points: 1, OrderId: "o"})
		if err != nil {
			b.Error(err)
		}
		return time.Since(start)
	}
	for _, clients := range []int{1, 32} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			var mu sync.Mutex
			var lat []time.Duration
			next := make(chan int)
			var wg sync.WaitGroup
			for w := range clients {
				wg.Go(func() {
					for i := range next {
						d := redeem(w + i)
						mu.Lock()
						lat = append(lat, d)
						mu.Unlock()
					}
				})
			}
			for i := 0; b.Loop(); i++ {
				next <- i
			}
			close(next)
			wg.Wait()
			slices.Sort(lat)
			pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
		})
	}
}
