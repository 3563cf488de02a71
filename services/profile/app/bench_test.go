package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	typev1 "github.com/tenurehq/tenure/gen/tenure/type/v1"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	"github.com/tenurehq/tenure/services/platform/telemetry"
	"github.com/tenurehq/tenure/services/profile/app"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// ingestWorkload shapes the batches of BenchmarkBatchRecordEvents.
type ingestWorkload struct {
	name string
	// population is the pool of customer ids; a batch picks between
	// minActive and maxActive of them. With maxActive 0 every event of
	// every batch is from a customer no other event names.
	population, minActive, maxActive int
}

var ingestWorkloads = []ingestWorkload{
	// Shopping sessions: each batch carries the events of 100–200
	// customers out of a million.
	{name: "sessions", population: 1_000_000, minActive: 100, maxActive: 200},
	// Worst case: every event is from a different (new) customer, so each
	// event also creates a provisional customer and writes its features.
	{name: "distinct", population: 0},
}

// ingestBatches returns n batches of size protobuf events of an e-commerce
// mix: 55 % product views, 25 % cart updates, 16 % orders of 1–5 lines,
// 2 % refunds, 2 % reviews. Event ids are unique across batches.
func ingestBatches(n, size int, w ingestWorkload) [][]*profilev1.Event {
	rng := rand.New(rand.NewPCG(3, 5))
	now := time.Now().UTC()
	gbp := func(m int64) *typev1.Money { return &typev1.Money{CurrencyCode: "GBP", AmountMinor: m} }
	channels := []string{"web", "app", "store"}
	out := make([][]*profilev1.Event, n)
	seq := 0
	for b := range out {
		active := make([]int, 0, w.maxActive)
		if w.maxActive > 0 {
			for range w.minActive + rng.IntN(w.maxActive-w.minActive+1) {
				active = append(active, rng.IntN(w.population))
			}
		}
		batch := make([]*profilev1.Event, size)
		for i := range batch {
			seq++
			var cust string
			if len(active) > 0 {
				cust = fmt.Sprintf("cust-%07d", active[rng.IntN(len(active))])
			} else {
				cust = fmt.Sprintf("new-%09d", seq)
			}
			e := &profilev1.Event{
				EventId:    fmt.Sprintf("ev-%09d", seq),
				CustomerId: cust,
				OccurredAt: timestamppb.New(now.Add(-time.Duration(rng.IntN(30*24*3600)) * time.Second)),
			}
			sku := func() (string, string) {
				s := rng.IntN(2000)
				return fmt.Sprintf("sku-%04d", s), fmt.Sprintf("category-%02d", s%24)
			}
			ch := channels[rng.IntN(len(channels))]
			switch k := rng.IntN(100); {
			case k < 55:
				s, c := sku()
				e.Payload = &profilev1.Event_ProductViewed{ProductViewed: &profilev1.ProductViewed{Sku: s, Category: c, Channel: ch}}
			case k < 80:
				var lines []*profilev1.OrderLine
				var value int64
				for range 1 + rng.IntN(3) {
					s, c := sku()
					q, p := int64(1+rng.IntN(3)), int64(199+rng.IntN(9800))
					value += q * p
					lines = append(lines, &profilev1.OrderLine{Sku: s, Category: c, Quantity: q, UnitPrice: gbp(p)})
				}
				e.Payload = &profilev1.Event_CartUpdated{CartUpdated: &profilev1.CartUpdated{Lines: lines, Value: gbp(value), Channel: ch}}
			case k < 96:
				var lines []*profilev1.OrderLine
				var total int64
				for range 1 + rng.IntN(5) {
					s, c := sku()
					q, p := int64(1+rng.IntN(3)), int64(199+rng.IntN(9800))
					line := &profilev1.OrderLine{Sku: s, Category: c, Quantity: q, UnitPrice: gbp(p)}
					total += q * p
					if rng.IntN(4) == 0 {
						d := q * p / 10
						line.Discount = gbp(d)
						total -= d
					}
					lines = append(lines, line)
				}
				e.Payload = &profilev1.Event_OrderPlaced{OrderPlaced: &profilev1.OrderPlaced{
					OrderId: "o-" + e.EventId, Lines: lines, Total: gbp(total), Channel: ch,
				}}
			case k < 98:
				e.Payload = &profilev1.Event_OrderRefunded{OrderRefunded: &profilev1.OrderRefunded{
					OrderId: fmt.Sprintf("o-ev-%09d", 1+rng.IntN(seq)), Amount: gbp(int64(199 + rng.IntN(5000))),
				}}
			default:
				s, _ := sku()
				e.Payload = &profilev1.Event_ReviewPosted{ReviewPosted: &profilev1.ReviewPosted{
					Sku: s, Rating: int32(1 + rng.IntN(5)), Length: int32(rng.IntN(800)), HasPhoto: rng.IntN(5) == 0,
				}}
			}
			batch[i] = e
		}
		out[b] = batch
	}
	return out
}

// BenchmarkBatchRecordEvents sends 1,000-event BatchRecordEvents calls over
// real gRPC on 127.0.0.1 to a profile service built by app.New (info-level
// JSON logging, the idempotency interceptor, no request_id) and reports
// events per second, per engine and workload. One client sends one batch
// at a time; each batch is one transaction.
func BenchmarkBatchRecordEvents(b *testing.B) {
	const batchSize = 1000
	engines := []struct {
		name string
		open func(testing.TB) (*sqlstore.DB, string)
	}{
		{"sqlite", sqlstoretest.SQLiteDSN},
		{"postgres", sqlstoretest.PostgresDSN},
	}
	for _, eng := range engines {
		for _, w := range ingestWorkloads {
			b.Run(eng.name+"/"+w.name, func(b *testing.B) {
				_, dsn := eng.open(b)
				client := startProfile(b, dsn)
				batches := ingestBatches(b.N, batchSize, w)
				ctx := context.Background()
				b.ResetTimer()
				for i := range b.N {
					resp, err := client.BatchRecordEvents(ctx, &profilev1.BatchRecordEventsRequest{Events: batches[i]})
					if err != nil {
						b.Fatal(err)
					}
					if resp.GetAcceptedCount() != batchSize {
						b.Fatalf("accepted %d of %d: %v", resp.GetAcceptedCount(), batchSize, firstRejected(resp))
					}
				}
				b.ReportMetric(float64(b.N*batchSize)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}

func firstRejected(resp *profilev1.BatchRecordEventsResponse) *profilev1.EventResult {
	for _, r := range resp.GetResults() {
		if r.GetOutcome() != profilev1.EventOutcome_EVENT_OUTCOME_ACCEPTED {
			return r
		}
	}
	return nil
}

// startProfile runs the profile service on dsn as cmd/profile would (JSON
// logs at info level, discarded; no etcd) and returns a client connected to
// it.
func startProfile(b *testing.B, dsn string) profilev1.ProfileServiceClient {
	b.Helper()
	s := stacktest.Start(b, stacktest.Options{NoEtcd: true, Telemetry: telemetry.NewProviders(nil),
		Logger: func(name string) *slog.Logger { return telemetry.NewLogger(io.Discard, name, slog.LevelInfo) }})
	c := app.Component(nil)
	c.DSN = dsn
	return profilev1.NewProfileServiceClient(stacktest.Dial(b, s.Add(c).Addr()))
}
