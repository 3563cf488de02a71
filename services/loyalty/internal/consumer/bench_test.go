package consumer_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/loyalty/internal/consumer"
	"github.com/tenurehq/tenure/services/loyalty/internal/loyalty"
	"github.com/tenurehq/tenure/services/loyalty/internal/store"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// benchLog is a log of n events over n/10 customers: 80 % orders with a
// total, 10 % partial refunds of an earlier order of the same customer, 10 %
// shares and check-ins, in time order.
func benchLog(n int) []*profilev1.StreamEventsResponse {
	rng := rand.New(rand.NewPCG(7, 8))
	customers := max(n/10, 1)
	orders := make([][]string, customers)
	out := make([]*profilev1.StreamEventsResponse, n)
	for i := range n {
		c := rng.IntN(customers)
		ev := &profilev1.Event{Sequence: int64(i + 1), EventId: "e" + strconv.Itoa(i), CustomerId: fmt.Sprintf("c%07d", c),
			OccurredAt: timestamppb.New(t0.Add(time.Duration(i) * time.Second))}
		switch k := rng.IntN(10); {
		case k == 8 && len(orders[c]) > 0:
			ev.Payload = &profilev1.Event_OrderRefunded{OrderRefunded: &profilev1.OrderRefunded{
				OrderId: orders[c][rng.IntN(len(orders[c]))], Amount: gbp(500)}}
		case k == 9:
			ev.Payload = &profilev1.Event_ContentShared{ContentShared: &profilev1.ContentShared{ContentId: "x"}}
		default:
			id := "o" + strconv.Itoa(i)
			orders[c] = append(orders[c], id)
			ev.Payload = &profilev1.Event_OrderPlaced{OrderPlaced: &profilev1.OrderPlaced{OrderId: id, Total: gbp(1000 + rng.Int64N(50000))}}
		}
		out[i] = &profilev1.StreamEventsResponse{Event: ev}
	}
	return out
}

// BenchmarkCatchUp applies a log of TENURE_BENCH_EVENTS events (default
// 100,000) to a fresh database in pages of the size the service asks the
// platform's consumer for, through the consumer's handler, and reports
// events per second. The gRPC stream from profile is not part of it.
func BenchmarkCatchUp(b *testing.B) {
	n, _ := strconv.Atoi(cmp.Or(os.Getenv("TENURE_BENCH_EVENTS"), "100000"))
	log := benchLog(n)
	sqlstoretest.BenchEngines(b, func(b *testing.B, open func() *sqlstore.DB) {
		for b.Loop() {
			b.StopTimer()
			st := store.New(open())
			if err := st.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			p := loyalty.DefaultProgramme()
			p.SharePoints, p.ShareDailyLimit = 5, 3
			svc := loyalty.NewService(st, func() time.Time { return t0 })
			if _, err := svc.UpdateProgramme(ctx, p, nil, 0); err != nil {
				b.Fatal(err)
			}
			h := consumer.New(svc, st)
			b.StartTimer()
			start := time.Now()
			for i := 0; i < len(log); i += consumer.PageSize {
				if err := h.Apply(ctx, log[i:min(i+consumer.PageSize, len(log))]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(log))/time.Since(start).Seconds(), "events/s")
		}
	})
}
