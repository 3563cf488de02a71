package recommend_test

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/segmentation/internal/recommend"
	"github.com/tenurehq/tenure/services/segmentation/internal/recommend/recommendtest"
)

var benchEnd = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// benchHistory is a synthetic history of $TENURE_BENCH_RECO_CUSTOMERS
// customers (default 100,000) over 50,000 items.
func benchHistory(b *testing.B) (*recommend.History, int) {
	n := recommendtest.BenchCustomers(b, 100_000)
	h := recommend.NewHistory()
	lines := recommendtest.Fill(h, recommendtest.Config{Customers: n, Items: 50_000, Seed: 1, End: benchEnd.Add(-time.Hour)})
	b.Logf("%d customers, %d order lines", n, lines)
	return h, n
}

// BenchmarkBuild builds the model over a synthetic history. Besides the
// wall time it reports the process CPU time per build (cpu-s), which
// depends less on what else the machine runs.
func BenchmarkBuild(b *testing.B) {
	h, _ := benchHistory(b)
	runtime.GC()
	cpu0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		recommend.Build(h, benchEnd, recommend.Options{})
	}
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRecommend answers one customer at a time from the model.
func BenchmarkRecommend(b *testing.B) {
	h, n := benchHistory(b)
	m := recommend.Build(h, benchEnd, recommend.Options{})
	b.ResetTimer()
	i := 0
	for b.Loop() {
		m.Recommend(recommend.Query{Customer: fmt.Sprintf("c%08d", i%n), N: 10, Now: benchEnd})
		i += 7919
	}
}
