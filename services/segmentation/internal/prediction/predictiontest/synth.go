// Package predictiontest makes synthetic purchase histories for the
// prediction models' tests and benchmarks.
package predictiontest

import (
	"math"
	"math/rand/v2"

	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// Process is the BG/NBD buying process the histories follow: purchase
// rates per week gamma(R, Alpha) across customers, dropout after each
// repeat purchase with a probability beta(A, B) across customers; spend
// per purchase day lognormal around a customer's own mean.
type Process struct {
	R, Alpha, A, B float64
	// Days is how far back first purchases go, uniformly.
	Days int32
}

// DefaultProcess is about five purchase days a year for an average alive
// customer, first purchases over two years.
var DefaultProcess = Process{R: 0.8, Alpha: 8, A: 0.8, B: 2.5, Days: 730}

// Histories returns n customers' purchase days before endDay (exclusive),
// each starting with a first purchase, deterministic for seed.
func (p Process) Histories(n int, endDay int32, seed uint64) [][]segmentation.PurchaseDay {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([][]segmentation.PurchaseDay, n)
	for i := range out {
		lambda := gamma(rng, p.R) / p.Alpha / 7 // per day
		drop := beta(rng, p.A, p.B)
		mean := math.Exp(8 + 0.6*rng.NormFloat64()) // minor units
		day := endDay - 1 - rng.Int32N(p.Days)
		days := []segmentation.PurchaseDay{{Day: day, Amount: spend(rng, mean)}}
		// As the model has it, a customer may drop out after each repeat
		// purchase, not after the first.
		for t, first := float64(day), true; ; first = false {
			if !first && rng.Float64() < drop {
				break
			}
			t += rng.ExpFloat64() / lambda
			d := int32(math.Floor(t))
			if t >= float64(endDay) {
				break
			}
			if d == days[len(days)-1].Day {
				days[len(days)-1].Amount += spend(rng, mean)
				continue
			}
			days = append(days, segmentation.PurchaseDay{Day: d, Amount: spend(rng, mean)})
		}
		out[i] = days
	}
	return out
}

func spend(rng *rand.Rand, mean float64) int64 {
	return max(1, int64(mean*math.Exp(0.4*rng.NormFloat64()-0.08)))
}

// gamma draws from gamma(shape, 1) (Marsaglia and Tsang; shape < 1 by
// boosting).
func gamma(rng *rand.Rand, shape float64) float64 {
	if shape < 1 {
		return gamma(rng, shape+1) * math.Pow(rng.Float64(), 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		if math.Log(u) < 0.5*x*x+d-d*v+d*math.Log(v) {
			return d * v
		}
	}
}

// beta draws from beta(a, b).
func beta(rng *rand.Rand, a, b float64) float64 {
	x, y := gamma(rng, a), gamma(rng, b)
	return x / (x + y)
}
