package prediction

import (
	"syscall"
	"testing"
	"time"

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
	var ru0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	runs := 0
	for b.Loop() {
		runs++
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
	// CPU time: on a shared machine wall time also counts waiting for a CPU.
	var ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	b.ReportMetric(cpu.Seconds()/float64(runs), "cpu-s/op")
	// A refit from the last model, as a recompute after the first does, on
	// the same customers a day later.
	bg, _, _ := FitBGNBD(sums)
	gg, _, _ := FitGammaGamma(sums)
	later := make([]Summary, len(sums))
	for i, s := range sums {
		s.T++
		later[i] = s
	}
	start := time.Now()
	_, wres, _ := FitBGNBDFrom(later, bg)
	_, gres, _ := FitGammaGammaFrom(later, gg)
	b.ReportMetric(time.Since(start).Seconds(), "warm-refit-s")
	b.Logf("warm refit a day later: BG/NBD %d iterations, Gamma-Gamma %d", wres.Iterations, gres.Iterations)
}

// benchCustomers is BenchmarkFit1M's population.
const benchCustomers = 1_000_000
