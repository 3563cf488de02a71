// Package recommendtest generates synthetic purchase histories for tests
// and benchmarks of the recommendation model.
package recommendtest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/segmentation/internal/recommend"
)

// Config shapes a synthetic history.
type Config struct {
	Customers int // ids c%08d
	Items     int // skus i%06d, in categories of 100 items (cat%04d)
	Seed      uint64
	// End is the time of the latest order; orders spread over the year
	// before it.
	End time.Time
}

// Fill records cfg's history in h and returns how many order lines it
// holds. Baskets are realistic for a general shop: 1 + geometric orders
// per customer (mean 2.5, at most 20), 1 + Poisson(2) lines per order (at
// most 40); each customer has a home category (Zipf over categories)
// that 70 % of its lines come from, Zipf-distributed within it; the other
// lines are drawn from a Zipf over the whole catalogue.
func Fill(h *recommend.History, cfg Config) int {
	r := rand.New(rand.NewPCG(cfg.Seed, 0x7265636f))
	cats := max(cfg.Items/100, 1)
	catZipf := rand.NewZipf(r, 1.2, 4, uint64(cats-1))
	inCat := rand.NewZipf(r, 1.1, 2, uint64(min(100, cfg.Items)-1))
	global := rand.NewZipf(r, 1.05, 10, uint64(cfg.Items-1))
	year := int64(365 * 24 * time.Hour / time.Second)
	lines := 0
	var basket []recommend.Line
	catalogue := make([]recommend.Line, cfg.Items)
	for i := range catalogue {
		catalogue[i] = recommend.Line{SKU: fmt.Sprintf("i%06d", i), Category: fmt.Sprintf("cat%04d", i/100)}
	}
	for c := range cfg.Customers {
		id := fmt.Sprintf("c%08d", c)
		home := int(catZipf.Uint64())
		orders := 1
		for orders < 20 && r.Float64() < 0.6 {
			orders++
		}
		for range orders {
			n := 1 + poisson(r, 2)
			basket = basket[:0]
			for range min(n, 40) {
				item := int(global.Uint64())
				if r.Float64() < 0.7 {
					item = min(home*100+int(inCat.Uint64()), cfg.Items-1)
				}
				basket = append(basket, catalogue[item])
			}
			at := cfg.End.Add(-time.Duration(r.Int64N(year)) * time.Second)
			h.AddOrder(id, at, basket)
			lines += len(basket)
		}
	}
	return lines
}

// poisson draws from a Poisson distribution with a small mean.
func poisson(r *rand.Rand, mean float64) int {
	l, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// Store is a recommend.Store whose stored history is Config's synthetic
// one, generated at each load.
type Store struct{ Config Config }

// HistoryCursor implements recommend.Store.
func (Store) HistoryCursor(context.Context) (int64, error) { return 1, nil }

// LoadHistory implements recommend.Store.
func (s Store) LoadHistory(_ context.Context, h *recommend.History) (int64, error) {
	Fill(h, s.Config)
	return 1, nil
}

// BenchCustomers is how many customers a benchmark's synthetic history
// has: $TENURE_BENCH_RECO_CUSTOMERS, or def.
func BenchCustomers(tb testing.TB, def int) int {
	v := os.Getenv("TENURE_BENCH_RECO_CUSTOMERS")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		tb.Fatalf("TENURE_BENCH_RECO_CUSTOMERS=%q: want a positive number", v)
	}
	return n
}
