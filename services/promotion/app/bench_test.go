package app_test

import (
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	"github.com/tenurehq/tenure/services/promotion/app"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// latencies runs call b.N times from clients goroutines and reports p50
// and p99 in milliseconds under prefix.
func latencies(b *testing.B, clients int, prefix string, call func(i int) error) {
	var mu sync.Mutex
	var lat []time.Duration
	next := make(chan int)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for i := range next {
				start := time.Now()
				if err := call(i); err != nil {
					b.Error(err)
				}
				d := time.Since(start)
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
	b.ReportMetric(pct(0.50), prefix+"p50-ms")
	b.ReportMetric(pct(0.99), prefix+"p99-ms")
}

// benchPromotions are 100 automatic promotions in 10 campaigns: percentages
// and amounts off categories, spend tiers, buy 2 get 1, free shipping, of
// which some apply to the benchmark cart and the others report why not.
func benchPromotions(i int) *promotionv1.Promotion {
	p := automatic(percentOff(int32(100 + i)))
	p.Priority = int32(i % 7)
	p.Conditions = &promotionv1.Conditions{IncludeCategories: []string{fmt.Sprintf("cat%d", i%25)}}
	switch i % 5 {
	case 1:
		p.Effect = amountOffOrder(int64(10 + i))
		p.Conditions.MinSubtotal = gbp(int64(1000 * i))
	case 2:
		p.Effect = &promotionv1.Effect{Kind: &promotionv1.Effect_SpendTiers{SpendTiers: &promotionv1.SpendTiers{Tiers: []*promotionv1.SpendTier{
			{Threshold: gbp(5000), Amount: gbp(300)}, {Threshold: gbp(20000), Amount: gbp(1500)}}}}}
	case 3:
		p.Effect = &promotionv1.Effect{Kind: &promotionv1.Effect_BuyXGetY{BuyXGetY: &promotionv1.BuyXGetY{Buy: 2, Get: 1, BasisPoints: 10000}}}
	case 4:
		p.StackGroup = fmt.Sprintf("g%d", i%3)
	}
	return p
}

// BenchmarkEvaluateCart times EvaluateCart over gRPC with 100 active
// promotions and a cart of 20 lines, and an empty gRPC call (the health
// check) on the same server and connection, on SQLite.
func BenchmarkEvaluateCart(b *testing.B) {
	s := stacktest.Start(b, stacktest.Options{NoEtcd: true})
	r := s.Add(app.Component(nil))
	conn := stacktest.Dial(b, r.Addr())
	c := promotionv1.NewPromotionServiceClient(conn)
	f := &fixture{promo: c}
	for k := range 10 {
		promos := map[string]*promotionv1.Promotion{}
		for j := range 10 {
			promos[fmt.Sprintf("p%02d", j)] = benchPromotions(10*k + j)
		}
		f.campaign(b, fmt.Sprintf("c%02d", k), &promotionv1.Campaign{Budget: gbp(1_000_000_000)}, promos)
	}
	crt := cart("bench")
	for i := range 20 {
		crt.Lines = append(crt.Lines, &promotionv1.CartLine{LineId: fmt.Sprint(i), Sku: fmt.Sprintf("sku%d", i), Category: fmt.Sprintf("cat%d", i),
			Quantity: int64(1 + i%3), UnitPrice: gbp(int64(500 + 137*i))})
	}
	ev, err := c.EvaluateCart(ctx, &promotionv1.EvaluateCartRequest{Cart: crt})
	if err != nil || len(ev.GetEvaluation().GetApplied())+len(ev.GetEvaluation().GetNotApplied()) != 100 {
		b.Fatalf("evaluation = %d applied, %v", len(ev.GetEvaluation().GetApplied()), err)
	}
	health := healthpb.NewHealthClient(conn)
	b.Run("evaluate", func(b *testing.B) {
		latencies(b, 1, "", func(int) error {
			_, err := c.EvaluateCart(ctx, &promotionv1.EvaluateCartRequest{Cart: crt})
			return err
		})
	})
	b.Run("empty", func(b *testing.B) {
		latencies(b, 1, "", func(int) error {
			_, err := health.Check(ctx, &healthpb.HealthCheckRequest{})
			return err
		})
	})
}

// BenchmarkRedeemCart times RedeemCart over gRPC on PostgreSQL, one client
// at a time and 32 at once, each order a new one of 32 customers with two
// promotions that apply (a percentage with a budget, an amount with a
// per-customer limit high enough).
func BenchmarkRedeemCart(b *testing.B) {
	s := stacktest.Start(b, stacktest.Options{NoEtcd: true, Engine: stacktest.Postgres})
	r := s.Add(app.Component(nil))
	c := promotionv1.NewPromotionServiceClient(stacktest.Dial(b, r.Addr()))
	ten := automatic(percentOff(1000))
	ten.Budget = gbp(1_000_000_000_000)
	off := automatic(amountOffOrder(100))
	off.UsesPerCustomer = 1_000_000_000
	(&fixture{promo: c}).campaign(b, "bench", &promotionv1.Campaign{Budget: gbp(1_000_000_000_000)},
		map[string]*promotionv1.Promotion{"ten": ten, "off": off})
	run := 0
	for _, clients := range []int{1, 32} {
		run++
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			latencies(b, clients, "", func(i int) error {
				resp, err := c.RedeemCart(ctx, &promotionv1.RedeemCartRequest{OrderId: fmt.Sprintf("r%d-%d", run, i),
					Cart: cart(fmt.Sprintf("c%02d", i%32), line{"a", 2, 3000}, line{"b", 1, 4000})})
				if err == nil && len(resp.GetRedemption().GetEvaluation().GetApplied()) != 2 {
					err = fmt.Errorf("applied %v", resp.GetRedemption().GetEvaluation().GetApplied())
				}
				return err
			})
		})
	}
}

// BenchmarkGenerateCodes times generating TENURE_BENCH_CODES (default
// 1,000,000) codes through the API, from the request to the operation's
// end, on both engines.
func BenchmarkGenerateCodes(b *testing.B) {
	n := int64(1_000_000)
	if v := benchEnvInt("TENURE_BENCH_CODES"); v > 0 {
		n = v
	}
	for _, engine := range []string{stacktest.SQLite, stacktest.Postgres} {
		b.Run(engine, func(b *testing.B) {
			s := stacktest.Start(b, stacktest.Options{NoEtcd: true, Engine: engine})
			r := s.Add(app.Component(nil))
			c := promotionv1.NewPromotionServiceClient(stacktest.Dial(b, r.Addr()))
			promos := map[string]*promotionv1.Promotion{}
			for i := range b.N + 1 {
				p := automatic(percentOff(1000))
				p.Kind = promotionv1.PromotionKind_PROMOTION_KIND_CODE
				promos[fmt.Sprintf("p%d", i)] = p
			}
			(&fixture{promo: c}).campaign(b, "bench", nil, promos)
			i := 0
			for b.Loop() {
				i++
				gen, err := c.GenerateCodes(ctx, &promotionv1.GenerateCodesRequest{Parent: fmt.Sprintf("campaigns/bench/promotions/p%d", i), Count: n})
				if err != nil {
					b.Fatal(err)
				}
				for {
					op, err := c.GetOperation(ctx, &promotionv1.GetOperationRequest{Name: gen.GetOperation().GetName()})
					if err != nil {
						b.Fatal(err)
					}
					if op.GetOperation().GetDone() {
						if op.GetOperation().GetCodesDone() != n {
							b.Fatalf("operation = %v", op)
						}
						break
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/1000, "s/op-total")
		})
	}
}

func benchEnvInt(name string) int64 {
	var v int64
	_, _ = fmt.Sscan(os.Getenv(name), &v)
	return v
}
