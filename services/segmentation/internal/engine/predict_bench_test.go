package engine_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"github.com/tenurehq/tenure/services/segmentation/internal/engine"
	"github.com/tenurehq/tenure/services/segmentation/internal/prediction/predictiontest"
	"github.com/tenurehq/tenure/services/segmentation/internal/rules"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
	"github.com/tenurehq/tenure/services/segmentation/internal/store"
)

// cpuTime is the process's user plus system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRecomputePrediction compares, in one run on SQLite, the
// recompute of a synthetic population (TENURE_BENCH_PREDICT_CUSTOMERS,
// default 1,000,000, whose histories follow predictiontest.DefaultProcess)
// without purchase days — the prediction phase has nothing to fit — and
// the same recompute once every customer's purchase days are applied (as
// the event consumer applies them): BG/NBD and Gamma-Gamma fitted, every
// customer predicted, a backtest when orders after as_of exist (none
// here). Both compared recomputes run on the inputs in memory and rewrite
// every result row (each is a day after the previous one). It reports
// wall and CPU seconds of each (the process's CPU time over the
// recompute: on a shared machine wall time also counts waiting for a
// CPU), and the fit's wall time the operation recorded.
func BenchmarkRecomputePrediction(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("TENURE_BENCH_PREDICT_CUSTOMERS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	st := store.New(sqlstoretest.SQLite(b))
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	env, err := rules.NewEnv()
	if err != nil {
		b.Fatal(err)
	}
	endDay := segmentation.DayOf(benchAsOf)
	hist := predictiontest.DefaultProcess.Histories(n, endDay, 1)
	id := func(i int) string { return fmt.Sprintf("c%08d", i) }
	cursor := int64(0)
	apply := func(muts []segmentation.Mutation) {
		if err := st.ApplyPage(ctx, muts, cursor+1, nil); err != nil {
			b.Fatal(err)
		}
		cursor++
	}
	loadStart := time.Now()
	var muts []segmentation.Mutation
	for i, days := range hist {
		first, last := segmentation.TimeOfDay(days[0].Day).Add(12*time.Hour), segmentation.TimeOfDay(days[len(days)-1].Day).Add(12*time.Hour)
		var spend int64
		for _, d := range days {
			spend += d.Amount
		}
		muts = append(muts, segmentation.Mutation{Kind: segmentation.MutationUpsert, ID: id(i), Features: &segmentation.Features{
			FirstOrderTime: first, LastOrderTime: last, LastActivityTime: last, OrderCount: int64(len(days)), Currency: "EUR",
			GrossMinor: spend, NetMinor: spend, AverageOrderValueMinor: spend / int64(len(days)), PreferredChannel: "web",
		}})
		if len(muts) == 5000 || i == n-1 {
			apply(muts)
			muts = muts[:0]
		}
	}
	b.Logf("loaded %d customers in %s", n, time.Since(loadStart).Round(time.Millisecond))

	var logOut io.Writer = io.Discard
	if os.Getenv("TENURE_BENCH_LOG") != "" {
		logOut = os.Stderr
	}
	eg := engine.New(engine.Config{Store: st, Settings: segmentation.SettingsSource{Store: st}, Rules: env,
		Logger: slog.New(slog.NewTextHandler(logOut, nil))})
	defer eg.Close()
	recompute := func(asOf time.Time, label string) (time.Duration, time.Duration, segmentation.Operation) {
		cpu0 := cpuTime()
		m := timedRecompute(b, eg, st, asOf, label)
		cpu := cpuTime() - cpu0
		_, op := eg.Snapshot()
		return m.d, cpu, op
	}
	b.StopTimer()
	recompute(benchAsOf, "cold recompute without purchase days (loads the inputs)")
	without, withoutCPU, _ := recompute(benchAsOf.Add(24*time.Hour), "recompute without purchase days")

	applyStart := time.Now()
	var days int
	for i, h := range hist {
		muts = append(muts, segmentation.Mutation{Kind: segmentation.MutationUpsert, ID: id(i), Purchases: h})
		days += len(h)
		if len(muts) == 5000 || i == n-1 {
			apply(muts)
			eg.Applied(muts, cursor-1, cursor)
			muts = muts[:0]
		}
	}
	b.Logf("applied %d purchase days in %s", days, time.Since(applyStart).Round(time.Millisecond))
	// The first recompute after the pages also merges a million changed
	// customers into the input table: not what is compared.
	recompute(benchAsOf.Add(48*time.Hour), "first recompute with prediction (merges the changed inputs)")
	with, withCPU, op := recompute(benchAsOf.Add(72*time.Hour), "recompute with prediction")
	p := op.Report.Prediction
	if p == nil || p.Model == nil || !p.BGNBD.Converged || !p.GammaGamma.Converged {
		b.Fatalf("prediction: %+v", p)
	}
	b.Logf("fit %s: BG/NBD %d customers in %d groups, Gamma-Gamma %d in %d; model %+v", p.FitDuration.Round(time.Millisecond),
		p.BGNBD.Customers, p.BGNBD.Groups, p.GammaGamma.Customers, p.GammaGamma.Groups, *p.Model)
	b.ReportMetric(float64(n), "customers")
	b.ReportMetric(without.Seconds(), "without-s")
	b.ReportMetric(withoutCPU.Seconds(), "without-cpu-s")
	b.ReportMetric(with.Seconds(), "with-s")
	b.ReportMetric(withCPU.Seconds(), "with-cpu-s")
	b.ReportMetric(p.FitDuration.Seconds(), "fit-s")
}
