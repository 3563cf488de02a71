package prediction

import (
	"testing"

	"github.com/tenurehq/tenure/services/segmentation/internal/prediction/predictiontest"
)

// BenchmarkFit1M fits BG/NBD and Gamma-Gamma to a million synthetic
// customers (predictiontest.DefaultProcess, two years of first purchases):
// the recompute's fit phase without the summaries.
func BenchmarkFit1M(b *testing.B) {
	const end = 20454 // 2026-01-01
	hist := predictiontest.DefaultProcess.Histories(benchCustomers, end, 1)
	sums := make([]Summary, 0, len(hist))
	for _, h := range hist {
		if s, ok := Summarize(h, end); ok {
			sums = append(sums, s)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		m, res, err := FitBGNBD(sums)
		if err != nil || !res.Converged {
			b.Fatalf("BG/NBD: %v %+v", err, res)
		}
		gg, gres, err := FitGammaGamma(sums)
		if err != nil || !gres.Converged {
			b.Fatalf("Gamma-Gamma: %v %+v", err, gres)
		}
		b.ReportMetric(float64(res.Groups), "bgnbd-groups")
		b.ReportMetric(float64(gres.Groups), "gg-groups")
		b.Logf("BG/NBD %+v (%d iterations, %d groups); Gamma-Gamma %+v (%d iterations, %d groups)", m, res.Iterations, res.Groups, gg, gres.Iterations, gres.Groups)
	}
}

// benchCustomers is BenchmarkFit1M's population.
const benchCustomers = 1_000_000
