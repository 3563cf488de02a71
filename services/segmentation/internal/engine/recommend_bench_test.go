package engine_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"github.com/tenurehq/tenure/services/segmentation/internal/engine"
	"github.com/tenurehq/tenure/services/segmentation/internal/recommend"
	"github.com/tenurehq/tenure/services/segmentation/internal/recommend/recommendtest"
	"github.com/tenurehq/tenure/services/segmentation/internal/rules"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
	"github.com/tenurehq/tenure/services/segmentation/internal/store"
)

// switchable is a Recommender that rebuilds the model only when on, and
// times each build.
type switchable struct {
	svc   *recommend.Service
	on    atomic.Bool
	build time.Duration
}

func (s *switchable) Rebuild(ctx context.Context, op string, asOf time.Time, repurchases bool) (rules.Recommendations, error) {
	if !s.on.Load() {
		return nil, nil
	}
	start := time.Now()
	m, err := s.svc.Rebuild(ctx, op, asOf, repurchases)
	s.build = time.Since(start)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// BenchmarkRecomputeRecommendations compares, in one run on one engine
// and SQLite store, recomputes with and without the recommendation model
// build: $TENURE_BENCH_RECO_CUSTOMERS customers (default 100,000; the
// target is stated at 1,000,000) with inputs and a synthetic purchase
// history over 50,000 items (recommendtest.Fill), the 20 rule segments of
// BenchmarkRecompute, each recompute after a page of new orders from 1 %
// of the customers. Rounds alternate without and with the model.
func BenchmarkRecomputeRecommendations(b *testing.B) {
	n := recommendtest.BenchCustomers(b, 100_000)
	ctx := context.Background()
	st := store.New(sqlstoretest.SQLite(b))
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	env, err := rules.NewEnv()
	if err != nil {
		b.Fatal(err)
	}
	svc := segmentation.NewService(st, engine.RuleChecker(env))
	for i, r := range benchRules {
		if _, err := svc.CreateSegment(ctx, segmentation.SegmentDef{ID: fmt.Sprintf("rule-%02d", i+1),
			Kind: segmentation.SegmentKindRule, Rule: r}); err != nil {
			b.Fatal(err)
		}
	}
	cursor := int64(0)
	for lo := 0; lo < n; lo += 5000 {
		var muts []segmentation.Mutation
		for i := lo; i < min(lo+5000, n); i++ {
			muts = append(muts, segmentation.Mutation{Kind: segmentation.MutationUpsert, ID: fmt.Sprintf("c%08d", i),
				Features: &segmentation.Features{FirstOrderTime: benchAsOf.AddDate(-1, 0, 0), LastOrderTime: benchAsOf.AddDate(0, 0, -(i % 300)),
					OrderCount: int64(1 + i%7), Currency: "EUR", GrossMinor: int64(1000 + i%50000), NetMinor: int64(1000 + i%50000),
					PreferredChannel: "web", TopCategories: []string{"home"}}})
		}
		cursor++
		if err := st.ApplyPage(ctx, muts, cursor, nil); err != nil {
			b.Fatal(err)
		}
	}
	hcfg := recommendtest.Config{Customers: n, Items: 50_000, Seed: 1, End: benchAsOf.Add(-time.Hour)}
	rec := &switchable{svc: recommend.NewService(recommendtest.Store{Config: hcfg}, recommend.Options{}, nil)}
	start := time.Now()
	if err := rec.svc.Warm(ctx); err != nil { // the history is in memory before any recompute, as in the service
		b.Fatal(err)
	}
	b.Logf("%d customers: synthetic history generated in %s", n, time.Since(start).Round(time.Millisecond))
	var logOut io.Writer = io.Discard
	if os.Getenv("TENURE_BENCH_LOG") != "" {
		logOut = os.Stderr
	}
	eg := engine.New(engine.Config{Store: st, Settings: segmentation.SettingsSource{Store: st}, Rules: env, Recommender: rec,
		Logger: slog.New(slog.NewTextHandler(logOut, nil))})
	defer eg.Close()
	timedRecompute(b, eg, st, benchAsOf, "warm-up recompute (inputs loaded from the store)")

	var with, without, build time.Duration
	rounds := 0
	b.StopTimer() // timedRecompute times each recompute
	b.ResetTimer()
	for range b.N {
		for _, on := range []bool{false, true, false, true} {
			muts := touchPage(2*rounds+boolInt(on), n)
			if err := st.ApplyPage(ctx, muts, cursor+1, nil); err != nil {
				b.Fatal(err)
			}
			eg.Applied(muts, cursor, cursor+1)
			cursor++
			rec.on.Store(on)
			m := timedRecompute(b, eg, st, benchAsOf, fmt.Sprintf("recompute after 1%% ordered, model %v", on))
			if on {
				with += m.d
				build += rec.build
				b.Logf("model build %s", rec.build.Round(time.Millisecond))
				rounds++
			} else {
				without += m.d
			}
		}
	}
	b.ReportMetric(without.Seconds()/float64(rounds), "without-s")
	b.ReportMetric(with.Seconds()/float64(rounds), "with-s")
	b.ReportMetric(build.Seconds()/float64(rounds), "build-s")
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
