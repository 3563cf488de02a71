package engine_test

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"github.com/tenurehq/tenure/services/segmentation/internal/engine"
	"github.com/tenurehq/tenure/services/segmentation/internal/rules"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
	"github.com/tenurehq/tenure/services/segmentation/internal/store"
)

// benchRules are the twenty rule segments of BenchmarkRecompute, written
// against the synthetic population of tools/internal/synth (history ending
// 2026-01-01, channels web/app/store, its tag and category vocabularies).
var benchRules = []string{
	`rfm.r_score >= 4 && features.order_count >= 3 && "newsletter" in tags`,
	`rfm.segment == "champions"`,
	`rfm.segment in ["at_risk", "cant_lose"]`,
	`tier == "vip" && features.net_spend > 20000`,
	`lifecycle == "dormant" && features.order_count > 1`,
	`features.last_order_time > timestamp("2025-10-01T00:00:00Z")`,
	`features.first_order_time < timestamp("2024-06-01T00:00:00Z") && rfm.f_score >= 3`,
	`features.discount_share > 0.15`,
	`features.refund_count * 2 > features.order_count`,
	`"electronics" in features.top_categories`,
	`features.top_categories.exists(c, c.startsWith("home"))`,
	`features.preferred_channel == "app" && rfm.m_score >= 4`,
	`features.average_order_value >= 10000 && features.currency == "EUR"`,
	`rfm.recency_days <= 30 && rfm.frequency >= 2`,
	`tags.exists(t, t.startsWith("vip_"))`,
	`size(tags) == 0 && lifecycle == "prospect"`,
	`rfm.r_score + rfm.f_score + rfm.m_score >= 12`,
	`features.last_activity_time - features.last_order_time > duration("720h")`,
	`lifecycle in ["new", "active"] && !("student" in tags)`,
	`rfm.monetary > 50000 || (rfm.f_score == 5 && tier != "at_risk")`,
}

// benchAsOf is the as_of of every benchmark recompute: the end of the
// synthetic history.
var benchAsOf = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// readSynth reads the inputs file `tenure-bench synth` writes (format:
// tools/internal/synth.FileHeader) and calls fn with pages of upserts.
func readSynth(path string, page int, fn func([]segmentation.Mutation) error) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(bufio.NewReaderSize(f, 1<<20))
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	n := 0
	var muts []segmentation.Mutation
	for line := 0; sc.Scan(); line++ {
		if line == 0 {
			continue // header
		}
		col := strings.Split(sc.Text(), "\t")
		if len(col) != 14 {
			return n, fmt.Errorf("%s:%d: %d columns, want 14", path, line+1, len(col))
		}
		var ints [8]int64
		for i, c := range []int{1, 2, 3, 4, 5, 7, 8, 9} {
			if ints[i], err = strconv.ParseInt(col[c], 10, 64); err != nil {
				return n, fmt.Errorf("%s:%d: column %d: %w", path, line+1, c+1, err)
			}
		}
		share, err := strconv.ParseFloat(col[10], 64)
		if err != nil {
			return n, fmt.Errorf("%s:%d: discount share: %w", path, line+1, err)
		}
		fromNanos := func(v int64) time.Time {
			if v == 0 {
				return time.Time{}
			}
			return time.Unix(0, v).UTC()
		}
		list := func(s string) []string {
			if s == "" {
				return nil
			}
			return strings.Split(s, ",")
		}
		muts = append(muts, segmentation.Mutation{
			Kind: segmentation.MutationUpsert, ID: col[0], SetTags: true, Tags: list(col[13]),
			Features: &segmentation.Features{
				FirstOrderTime: fromNanos(ints[0]), LastOrderTime: fromNanos(ints[1]), LastActivityTime: fromNanos(ints[2]),
				OrderCount: ints[3], RefundCount: ints[4], Currency: col[6],
				GrossMinor: ints[5], NetMinor: ints[6], AverageOrderValueMinor: ints[7],
				DiscountShare: share, PreferredChannel: col[11], TopCategories: list(col[12]),
			},
		})
		n++
		if len(muts) == page {
			if err := fn(muts); err != nil {
				return n, err
			}
			muts = muts[:0]
		}
	}
	if err := sc.Err(); err != nil {
		return n, err
	}
	if len(muts) > 0 {
		return n, fn(muts)
	}
	return n, nil
}

// procStatus returns a field of /proc/self/status in bytes (kB fields).
func procStatus(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return -1
}

// sampleAnon records the largest RssAnon (the process's own memory,
// without file pages SQLite maps) seen every 10 ms until stop is closed.
func sampleAnon(stop <-chan struct{}, peak *int64, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		*peak = max(*peak, procStatus("RssAnon"))
		select {
		case <-stop:
			*peak = max(*peak, procStatus("RssAnon"))
			return
		case <-t.C:
		}
	}
}

// resetPeakRSS makes VmHWM restart from the current RSS (Linux ≥ 4.0).
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// BenchmarkRecompute runs the real recompute (engine.Start: take the
// inputs, score, evaluate 20 CEL rule segments on GOMAXPROCS workers,
// store the results and the size history in one transaction, build and
// swap the membership index) over the synthetic population in
// $TENURE_BENCH_SYNTH (written by `go run ./tools/cmd/tenure-bench synth`).
// Loading the inputs into the store through Store.ApplyPage is setup and
// not timed. It times, in order:
//
//   - the first recompute after a start (metric first-s): it loads the
//     inputs from the store into the engine's input table, evaluates every
//     rule for every customer and writes every result row;
//   - then, if $TENURE_BENCH_DUCKDB names the tools/duckpeer binary, the
//     DuckDB peer over the same file, whose scored count and score sums
//     must equal the results just stored (duckdb-*-s);
//   - the timed recomputes (s/recompute), each after a page of new orders
//     from one customer in a hundred applied as the event consumer does
//     (the store, then the engine's input table): only customers whose
//     inputs or result changed are evaluated again, only changed rows are
//     written;
//   - on PostgreSQL, the same scores computed with window functions over
//     the same customers table, and the customers whose scores differ;
//   - a recompute a day later (next-day-s): every recency changes, so every
//     customer is evaluated and every row written again;
//   - like for like with that query (which computes and stores the RFM
//     columns only), with the rule segments deleted, as many RFM-only
//     recomputes, each after a page as above, each followed on PostgreSQL
//     by the window-function query and the mismatch count against the
//     results just stored, so both run under the same load (rfm-only-s,
//     pg-window-same-rounds-s, rfm-only-mismatches).
//
// Per recompute it reports the wall time, the process's peak RSS (VmHWM,
// reset before each recompute after a forced GC; it includes the SQLite
// file pages the store maps with mmap_size), the peak anonymous RSS (the
// process's own memory, sampled every 10 ms) and the Go heap live after
// it (held-heap-MiB: the input table, the previous evaluation, the
// snapshot). Run with -v to see every round's log line.
func BenchmarkRecompute(b *testing.B) {
	path := os.Getenv("TENURE_BENCH_SYNTH")
	if path == "" {
		b.Skip("TENURE_BENCH_SYNTH is not set: generate inputs with `go run ./tools/cmd/tenure-bench synth --out FILE`")
	}
	engines := []struct {
		name string
		open func(testing.TB) *sqlstore.DB
	}{
		{"sqlite", sqlstoretest.SQLite},
		{"postgres", sqlstoretest.Postgres},
	}
	only := os.Getenv("TENURE_BENCH_ENGINE")
	for _, eng := range engines {
		if only != "" && only != eng.name {
			continue
		}
		b.Run(eng.name, func(b *testing.B) {
			ctx := context.Background()
			db := eng.open(b)
			st := store.New(db)
			if err := st.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			env, err := rules.NewEnv()
			if err != nil {
				b.Fatal(err)
			}
			svc := segmentation.NewService(st, engine.RuleChecker(env))
			for i, r := range benchRules {
				_, err := svc.CreateSegment(ctx, segmentation.SegmentDef{
					ID: fmt.Sprintf("rule-%02d", i+1), DisplayName: fmt.Sprintf("Rule %d", i+1),
					Kind: segmentation.SegmentKindRule, Rule: r,
				})
				if err != nil {
					b.Fatalf("rule %d: %v", i+1, err)
				}
			}
			loadStart := time.Now()
			cursor := int64(0)
			n, err := readSynth(path, 5000, func(muts []segmentation.Mutation) error {
				cursor += int64(len(muts))
				return st.ApplyPage(ctx, muts, cursor, nil)
			})
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("%s: loaded %d customers through ApplyPage in %s (%.0f/s)", eng.name, n, time.Since(loadStart).Round(time.Millisecond),
				float64(n)/time.Since(loadStart).Seconds())

			var logOut io.Writer = io.Discard
			if os.Getenv("TENURE_BENCH_LOG") != "" { // the engine's log, with each recompute's phases
				logOut = os.Stderr
			}
			eg := engine.New(engine.Config{Store: st, Settings: segmentation.SettingsSource{Store: st}, Rules: env,
				Logger: slog.New(slog.NewTextHandler(logOut, nil))})
			defer eg.Close()

			// The first recompute after a start loads the inputs from the
			// store and evaluates and writes every customer.
			cold := timedRecompute(b, eg, st, benchAsOf, fmt.Sprintf("%s: first recompute after start (%d rules)", eng.name, len(benchRules)))
			b.ReportMetric(cold.d.Seconds(), "first-s")
			b.ReportMetric(float64(cold.anon>>20), "first-peak-anon-MiB")
			b.ReportMetric(float64(cold.held>>20), "held-heap-MiB")
			if peer := os.Getenv("TENURE_BENCH_DUCKDB"); peer != "" {
				duckdbPeer(b, db, peer, path)
			}

			// Then each timed recompute follows a page of new orders from
			// one customer in a hundred, applied as the event consumer does.
			feed := func(round int) {
				muts := touchPage(round, n)
				if err := st.ApplyPage(ctx, muts, cursor+1, nil); err != nil {
					b.Fatal(err)
				}
				eg.Applied(muts, cursor, cursor+1)
				cursor++
			}
			var peak, peakAnon, worst int64
			var total time.Duration
			runs := 0
			b.StartTimer() // timedRecompute stopped it; b.Loop restarts the count
			for b.Loop() {
				b.StopTimer()
				feed(runs)
				m := timedRecompute(b, eg, st, benchAsOf, fmt.Sprintf("%s: recompute %d after 1%% of customers ordered (%d rules)", eng.name, runs+1, len(benchRules)))
				peak = max(peak, m.hwm)
				peakAnon = max(peakAnon, m.anon)
				worst = max(worst, int64(m.d))
				total += m.d
				runs++
				b.StartTimer()
			}
			b.StopTimer()
			// Where the time goes: the two phases that can be timed from
			// outside the engine, once more after the timed runs.
			runtime.GC()
			t0 := time.Now()
			customers, err := st.LoadCustomers(ctx)
			if err != nil {
				b.Fatal(err)
			}
			loadDur := time.Since(t0)
			inputs := make([]segmentation.Input, len(customers))
			for i := range customers {
				inputs[i] = customers[i].Input()
			}
			t0 = time.Now()
			if _, err := segmentation.Score(benchAsOf, inputs, segmentation.DefaultSettings()); err != nil {
				b.Fatal(err)
			}
			scoreDur := time.Since(t0)
			customers, inputs = nil, nil
			b.Logf("%s: phases: Store.LoadCustomers %s, segmentation.Score %s", eng.name, loadDur.Round(time.Millisecond), scoreDur.Round(time.Millisecond))
			b.ReportMetric(loadDur.Seconds(), "load-s")
			b.ReportMetric(scoreDur.Seconds(), "score-s")
			b.ReportMetric(float64(n), "customers")
			b.ReportMetric(total.Seconds()/float64(runs), "s/recompute")
			b.ReportMetric(time.Duration(worst).Seconds(), "max-s")
			b.ReportMetric(float64(peak>>20), "peak-RSS-MiB")
			b.ReportMetric(float64(peakAnon>>20), "peak-anon-MiB")
			if db.Dialect == sqlstore.Postgres {
				pgSeconds, mismatches := postgresRFM(b, db)
				b.ReportMetric(pgSeconds, "pg-window-s")
				b.ReportMetric(float64(mismatches), "mismatches")
			}
			// A day later every scored customer's recency changes: every
			// row is evaluated and written again, from the inputs in memory.
			nextDay := timedRecompute(b, eg, st, benchAsOf.Add(24*time.Hour), fmt.Sprintf("%s: recompute a day later (%d rules)", eng.name, len(benchRules)))
			b.ReportMetric(nextDay.d.Seconds(), "next-day-s")
			b.ReportMetric(float64(nextDay.anon>>20), "next-day-peak-anon-MiB")

			// Like for like: the same recompute with no rule segments (load
			// the same inputs, score, write the same per-customer result
			// columns, build and swap the index), alternating on PostgreSQL
			// with the window-function query, which computes and stores the
			// same columns, so both see the same load.
			for i := range benchRules {
				if err := svc.DeleteSegment(ctx, fmt.Sprintf("rule-%02d", i+1), ""); err != nil {
					b.Fatal(err)
				}
			}
			var rfmTotal, pgTotal time.Duration
			var rfmWorst, rfmPeak, rfmAnon, rfmMismatches int64
			for i := range runs {
				if i > 0 {
					feed(runs + i)
				}
				m := timedRecompute(b, eg, st, benchAsOf, fmt.Sprintf("%s: RFM-only recompute %d (0 rules)", eng.name, i+1))
				rfmTotal += m.d
				rfmWorst = max(rfmWorst, int64(m.d))
				rfmPeak = max(rfmPeak, m.hwm)
				rfmAnon = max(rfmAnon, m.anon)
				if db.Dialect == sqlstore.Postgres {
					pgSeconds, mismatches := postgresRFM(b, db)
					pgTotal += time.Duration(pgSeconds * float64(time.Second))
					rfmMismatches += mismatches
					b.Logf("%s: like for like %d: Tenure RFM-only %s, PostgreSQL window functions %.3fs",
						eng.name, i+1, m.d.Round(time.Millisecond), pgSeconds)
				}
			}
			b.ReportMetric(rfmTotal.Seconds()/float64(runs), "rfm-only-s")
			b.ReportMetric(time.Duration(rfmWorst).Seconds(), "rfm-only-max-s")
			b.ReportMetric(float64(rfmPeak>>20), "rfm-only-peak-RSS-MiB")
			b.ReportMetric(float64(rfmAnon>>20), "rfm-only-peak-anon-MiB")
			if db.Dialect == sqlstore.Postgres {
				b.ReportMetric(pgTotal.Seconds()/float64(runs), "pg-window-same-rounds-s")
				b.ReportMetric(float64(rfmMismatches), "rfm-only-mismatches")
			}
		})
	}
}

// recomputeMeasure is one timed recompute: wall time, peak RSS (VmHWM, -1
// when it cannot be reset), peak anonymous RSS and the Go heap still live
// after it (what the engine holds between recomputes: the inputs, the
// previous evaluation, the snapshot).
type recomputeMeasure struct {
	d               time.Duration
	hwm, anon, held int64
}

// timedRecompute runs one recompute (engine.Start until its snapshot is
// installed) after a forced GC and a VmHWM reset, and logs it as label.
// The caller has stopped the benchmark timer; it is started around the
// recompute only.
func timedRecompute(b *testing.B, eg *engine.Engine, st *store.Store, asOf time.Time, label string) recomputeMeasure {
	b.Helper()
	ctx := context.Background()
	runtime.GC()
	debug.FreeOSMemory()
	base := procStatus("VmRSS")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if dump := os.Getenv("TENURE_BENCH_HEAPDUMP"); dump != "" {
		name := strings.NewReplacer(" ", "_", ":", "", "(", "", ")", "").Replace(label)
		if f, err := os.Create(dump + "." + name); err == nil {
			_ = pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	hasPeak := resetPeakRSS()
	var anon int64
	stop, sampled := make(chan struct{}), make(chan struct{})
	go sampleAnon(stop, &anon, sampled)
	b.StartTimer()
	start := time.Now()
	op, err := eg.Start(ctx, asOf, segmentation.TriggerAPI)
	if err != nil {
		b.Fatal(err)
	}
	waitInstalled(b, eg, st, op.ID)
	d := time.Since(start)
	b.StopTimer()
	close(stop)
	<-sampled
	hwm := procStatus("VmHWM")
	if !hasPeak {
		hwm = -1
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	b.Logf("%s: %s, RSS before %d MiB, peak RSS %d MiB (VmHWM), peak anonymous RSS %d MiB (sampled every 10 ms), live Go heap before %d MiB, after %d MiB",
		label, d.Round(time.Millisecond), base>>20, hwm>>20, anon>>20, ms.HeapAlloc>>20, after.HeapAlloc>>20)
	return recomputeMeasure{d: d, hwm: hwm, anon: anon, held: int64(after.HeapAlloc)}
}

// waitInstalled waits until op's snapshot is the engine's current one, or
// fails if op failed.
func waitInstalled(b *testing.B, eg *engine.Engine, st *store.Store, id string) {
	b.Helper()
	for i := 0; ; i++ {
		if _, op := eg.Snapshot(); op.ID == id {
			return
		}
		if i%100 == 99 {
			op, err := st.GetOperation(context.Background(), id)
			if err != nil {
				b.Fatal(err)
			}
			if op.State == segmentation.OperationFailed {
				b.Fatalf("recompute failed: %s", op.Error)
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// postgresRFM computes R, F, M, their scores, the RFM segment, the value
// tier (default map) and the lifecycle stage (default thresholds) of every
// customer with window functions, into a new table, and returns the time
// that took and the number of customers whose stored Tenure result differs.
//
// score = 1 + floor(5 × W / N) with W the number of scored customers with
// a strictly worse value: W is rank() − 1 over the values ordered from
// worst to best (R: most days first; F, M: smallest first), since rank()
// gives tied rows the position of the first of them.
func postgresRFM(b *testing.B, db *sqlstore.DB) (float64, int64) {
	ctx := context.Background()
	asOf := benchAsOf.UnixNano()
	const dayNs = int64(24 * time.Hour)
	query := fmt.Sprintf(`CREATE TABLE pg_rfm AS
WITH v AS (
  SELECT customer_id, first_order_time, order_count AS f, net_minor AS m,
         GREATEST(0, (%[1]d - last_order_time) / %[2]d) AS r,
         GREATEST(0, (%[1]d - first_order_time) / %[2]d) AS since_first
  FROM customers WHERE order_count > 0
), s AS (
  SELECT customer_id, r, f, m, since_first,
    1 + (5 * (rank() OVER (ORDER BY r DESC) - 1)) / count(*) OVER () AS r_score,
    1 + (5 * (rank() OVER (ORDER BY f ASC) - 1)) / count(*) OVER () AS f_score,
    1 + (5 * (rank() OVER (ORDER BY m ASC) - 1)) / count(*) OVER () AS m_score
  FROM v
), g AS (
  SELECT *, CASE
    WHEN r_score = 5 AND f_score >= 4 THEN 'champions'
    WHEN r_score IN (3, 4) AND f_score >= 4 THEN 'loyal'
    WHEN r_score >= 4 AND f_score IN (2, 3) THEN 'potential_loyalist'
    WHEN r_score = 5 AND f_score = 1 THEN 'new_customer'
    WHEN r_score = 4 AND f_score = 1 THEN 'promising'
    WHEN r_score = 3 AND f_score = 3 THEN 'need_attention'
    WHEN r_score = 3 AND f_score <= 2 THEN 'about_to_sleep'
    WHEN r_score <= 2 AND f_score IN (3, 4) THEN 'at_risk'
    WHEN r_score <= 2 AND f_score = 5 THEN 'cant_lose'
    WHEN r_score = 2 THEN 'hibernating'
    ELSE 'lost' END AS segment
  FROM s
)
SELECT customer_id, r, f, m, r_score, f_score, m_score, segment,
  CASE WHEN segment IN ('champions', 'loyal') THEN 'vip'
       WHEN segment IN ('potential_loyalist', 'new_customer', 'promising') THEN 'potential'
       WHEN segment = 'need_attention' THEN 'regular'
       ELSE 'at_risk' END AS tier,
  CASE WHEN since_first <= 30 THEN 'new' WHEN r <= 90 THEN 'active' WHEN r <= 180 THEN 'dormant'
       ELSE 'churned' END AS stage
FROM g`, asOf, dayNs)
	if _, err := db.ExecContext(ctx, `DROP TABLE IF EXISTS pg_rfm`); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if _, err := db.ExecContext(ctx, query); err != nil {
		b.Fatal(err)
	}
	d := time.Since(start)

	// Compare with Tenure's stored results, names through the domain types.
	var segCase, tierCase, stageCase strings.Builder
	for _, s := range segmentation.Segments() {
		fmt.Fprintf(&segCase, " WHEN %d THEN '%s'", int(s), s)
	}
	for _, t := range []segmentation.Tier{segmentation.TierVIP, segmentation.TierPotential, segmentation.TierRegular, segmentation.TierAtRisk} {
		fmt.Fprintf(&tierCase, " WHEN %d THEN '%s'", int(t), t)
	}
	for _, s := range []segmentation.Stage{segmentation.StageNew, segmentation.StageActive, segmentation.StageDormant, segmentation.StageChurned} {
		fmt.Fprintf(&stageCase, " WHEN %d THEN '%s'", int(s), s)
	}
	var scored, mismatches, missing int64
	err := db.QueryRowContext(ctx, `SELECT
  (SELECT count(*) FROM pg_rfm),
  (SELECT count(*) FROM pg_rfm p JOIN results t USING (customer_id)
   WHERE t.scored <> 1 OR p.r <> t.recency_days OR p.f <> t.frequency OR p.m <> t.monetary
      OR p.r_score <> t.r_score OR p.f_score <> t.f_score OR p.m_score <> t.m_score
      OR p.segment <> (CASE t.rfm_segment`+segCase.String()+` END)
      OR p.tier <> (CASE t.tier`+tierCase.String()+` END)
      OR p.stage <> (CASE t.stage`+stageCase.String()+` END)),
  (SELECT count(*) FROM results t WHERE t.scored = 1 AND NOT EXISTS (SELECT 1 FROM pg_rfm p WHERE p.customer_id = t.customer_id))
    + (SELECT count(*) FROM pg_rfm p WHERE NOT EXISTS (SELECT 1 FROM results t WHERE t.customer_id = p.customer_id))`).
		Scan(&scored, &mismatches, &missing)
	if err != nil && err != sql.ErrNoRows {
		b.Fatal(err)
	}
	b.Logf("postgres window functions: %d scored customers in %s; %d differ from Tenure, %d only on one side",
		scored, d.Round(time.Millisecond), mismatches, missing)
	return d.Seconds(), mismatches + missing
}

// touchPage is round's page of new orders: customer i of the synthetic
// population (n customers, ids c%08d) for every i ≡ round (mod 100)
// placed a third order a day before the as-of time.
func touchPage(round, n int) []segmentation.Mutation {
	var muts []segmentation.Mutation
	last := benchAsOf.Add(-24 * time.Hour)
	for i := round % 100; i < n; i += 100 {
		muts = append(muts, segmentation.Mutation{Kind: segmentation.MutationUpsert, ID: fmt.Sprintf("c%08d", i),
			Features: &segmentation.Features{
				FirstOrderTime: benchAsOf.AddDate(-1, 0, 0), LastOrderTime: last, LastActivityTime: last,
				OrderCount: 3, Currency: "EUR", GrossMinor: 15000 + int64(round), NetMinor: 15000 + int64(round),
				AverageOrderValueMinor: 5000, PreferredChannel: "web", TopCategories: []string{"home"},
			}})
	}
	return muts
}

// duckdbPeer runs the DuckDB peer (tools/duckpeer, built to peer) over the
// same inputs file, right after Tenure's first recompute over them, logs
// and reports its times, and fails unless its scored-customer count and
// R, F and M score sums equal those of the results Tenure stored.
func duckdbPeer(b *testing.B, db *sqlstore.DB, peer, synth string) {
	var tenure [4]int64
	err := db.QueryRowContext(context.Background(), `SELECT count(*), coalesce(sum(r_score), 0), coalesce(sum(f_score), 0),
		coalesce(sum(m_score), 0) FROM results WHERE scored = 1`).Scan(&tenure[0], &tenure[1], &tenure[2], &tenure[3])
	if err != nil {
		b.Fatal(err)
	}
	out, err := exec.Command(peer, "--synth", synth, "--as-of", benchAsOf.Format(time.RFC3339), "--threads", "2").Output()
	if err != nil {
		b.Fatalf("duckdb peer: %v", err)
	}
	var r struct {
		LoadS  float64 `json:"load_s"`
		ScoreS float64 `json:"score_s"`
		Scored int64   `json:"scored"`
		SumR   int64   `json:"sum_r_score"`
		SumF   int64   `json:"sum_f_score"`
		SumM   int64   `json:"sum_m_score"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		b.Fatalf("duckdb peer output %q: %v", out, err)
	}
	duck := [4]int64{r.Scored, r.SumR, r.SumF, r.SumM}
	b.Logf("duckdb peer (2 threads): load %.3fs, scores %.3fs, total %.3fs; scored/R/F/M sums %v, Tenure %v",
		r.LoadS, r.ScoreS, r.LoadS+r.ScoreS, duck, tenure)
	b.ReportMetric(r.LoadS, "duckdb-load-s")
	b.ReportMetric(r.ScoreS, "duckdb-score-s")
	b.ReportMetric(r.LoadS+r.ScoreS, "duckdb-total-s")
	if duck != tenure {
		b.Errorf("DuckDB's scored count and score sums %v differ from Tenure's %v", duck, tenure)
	}
}
