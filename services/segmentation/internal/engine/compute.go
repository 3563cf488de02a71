package engine

import (
	"context"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tenurehq/tenure/services/segmentation/internal/membership"
	"github.com/tenurehq/tenure/services/segmentation/internal/rules"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// phases are how long a recompute's steps took, for its log line, on the
// wall clock.
type phases struct {
	load, score, rules, build, store time.Duration
	recommend                        time.Duration
	predict                          time.Duration
	// changed is how many result rows changed since the previous
	// recompute, or -1 when every row was written.
	changed int
	// audienceChanges is how many audience entries and departures the
	// recompute recorded.
	audienceChanges int
}

// stopwatch times a recompute's phases one after the other.
type stopwatch struct{ t time.Time }

// lap stores in d the time since the previous lap (or the start) and
// starts the next one.
func (s *stopwatch) lap(d *time.Duration) {
	now := time.Now()
	*d, s.t = now.Sub(s.t), now
}

// ruleSet is the rule segments a recompute evaluates: ids[j] is the
// segment whose rule is compiled[j].
type ruleSet struct {
	ids      []string
	compiled []*rules.Rule
	// recs is the recompute's recommendation model (nil without one);
	// modelStamp tells it apart from other recomputes' models.
	recs       rules.Recommendations
	modelStamp string
}

// compute runs a recompute's phases in turn: load the inputs, score them,
// evaluate the rule segments, build the snapshot and the report, and write
// the results. It returns the new base snapshot, the finished operation
// and the results generation read before the inputs were loaded.
func (e *Engine) compute(ctx context.Context, op *segmentation.Operation, ph *phases) (*membership.Snapshot, segmentation.Operation, int64, error) {
	st := e.cfg.Store
	sv, err := st.GetSettings(ctx, op.SettingsVersion)
	if err != nil {
		return nil, *op, 0, err
	}
	gen, err := st.ResultsGeneration(ctx)
	if err != nil {
		return nil, *op, 0, err
	}
	sw := stopwatch{t: time.Now()}
	customers, err := e.view(ctx)
	sw.lap(&ph.load)
	if err != nil {
		return nil, *op, 0, err
	}
	results, err := e.score(ctx, op, customers, sv.Settings)
	sw.lap(&ph.score)
	if err != nil {
		return nil, *op, 0, err
	}
	pr, err := e.predict(ctx, op, customers, sv.Settings.Prediction)
	sw.lap(&ph.predict)
	if err != nil {
		return nil, *op, 0, err
	}

	recs, err := e.recommendations(ctx, op, sv.Settings)
	sw.lap(&ph.recommend)
	if err != nil {
		return nil, *op, 0, err
	}
	rs, err := e.compileRules(ctx)
	if err != nil {
		return nil, *op, 0, err
	}
	rs.recs, rs.modelStamp = recs, op.ID
	ev, errCounts, err := e.evaluateRules(ctx, op, customers, results, pr.values, rs)
	if err != nil {
		return nil, *op, 0, err
	}
	in := ev.in
	sw.lap(&ph.rules)

	rows, report, b := tally(customers, results, in, rs)
	report.Prediction = pr.report
	set := segmentation.ResultSet{Rows: rows, Generation: gen, Report: report}
	diff(e.last.Load(), ev, &set)
	ph.changed = -1
	if set.Base != "" {
		ph.changed = len(set.Changed) + len(set.Removed)
	}
	if set.Sizes, err = e.sizes(ctx, report); err != nil {
		return nil, *op, 0, err
	}
	base, err := b.Build()
	if err != nil {
		return nil, *op, 0, err
	}
	if err := e.changes(ctx, base, &set); err != nil {
		return nil, *op, 0, err
	}
	ph.audienceChanges = len(set.Changes)
	sw.lap(&ph.build)

	final, err := e.finish(ctx, *op, set, errCounts)
	if err != nil {
		return nil, *op, 0, err
	}
	sw.lap(&ph.store)
	if ev.rules == nil { // a rule was stopped: its values are not the rule's
		ev = nil
	} else {
		ev.op, ev.gen = final.ID, gen
	}
	e.last.Store(ev)
	return base, final, gen, nil
}

// recommendations rebuilds the recommendation model as of the
// operation's as-of time, if the engine has a Recommender.
func (e *Engine) recommendations(ctx context.Context, op *segmentation.Operation, settings segmentation.Settings) (rules.Recommendations, error) {
	if e.cfg.Recommender == nil {
		return nil, nil
	}
	return e.cfg.Recommender.Rebuild(ctx, op.ID, op.AsOf, settings.IncludeRepurchases)
}

// score records the recompute's customer total as its progress and scores
// every customer as of the operation's as-of time.
func (e *Engine) score(ctx context.Context, op *segmentation.Operation, customers []*segmentation.Customer, settings segmentation.Settings) ([]segmentation.Result, error) {
	n := len(customers)
	if err := e.cfg.Store.UpdateProgress(ctx, op.ID, 0, int64(n)); err != nil {
		return nil, err
	}
	inputs := make([]segmentation.Input, n)
	for i := range customers {
		inputs[i] = customers[i].Input()
	}
	return segmentation.Score(op.AsOf, inputs, settings)
}

// compileRules compiles every rule segment's rule. A rule that no longer
// compiles is skipped with a warning rather than failing the recompute
// (rules are validated when written).
func (e *Engine) compileRules(ctx context.Context) (ruleSet, error) {
	segs, err := e.allSegments(ctx)
	if err != nil {
		return ruleSet{}, err
	}
	var rs ruleSet
	for _, g := range segs {
		if g.Kind != segmentation.SegmentKindRule {
			continue
		}
		r, err := e.cfg.Rules.Compile(g.Rule)
		if err != nil {
			e.cfg.Logger.Warn("segmentation: rule does not compile", "segment", g.ID, "error", err)
			continue
		}
		rs.ids = append(rs.ids, g.ID)
		rs.compiled = append(rs.compiled, r)
	}
	return rs, nil
}

// evaluateRules evaluates the rules for every customer: in[i*k+j] of the
// evaluation says whether customer i is in rule segment j (k rules). Rows
// of customers whose inputs and result are those of the previous
// recompute, under the same rules, are reused from it. It also returns
// how many evaluations of each rule failed, by segment id (nil when none
// did), and logs each rule that failed. The evaluation's rules are nil
// if a rule was stopped at the cost limit (its later values are not the
// rule's, so they must not be reused).
func (e *Engine) evaluateRules(ctx context.Context, op *segmentation.Operation, customers []*segmentation.Customer,
	results []segmentation.Result, preds []segmentation.Prediction, rs ruleSet) (*evaluation, map[string]int64, error) {
	k := len(rs.compiled)
	ev := &evaluation{rules: ruleKeys(rs), recs: rs.recs, customers: customers, results: results, preds: preds,
		in: make([]bool, len(customers)*k), failed: make([]bool, len(customers))}
	var done atomic.Int64
	ruleErrs := make([]atomic.Int64, k)
	stopped, err := e.evaluate(ctx, op, ev, rs.compiled, reusable(e.last.Load(), ev.rules, customers), &done, ruleErrs)
	if err != nil {
		return nil, nil, err
	}
	var errCounts map[string]int64
	for j := range ruleErrs {
		if ne := ruleErrs[j].Load(); ne > 0 {
			if errCounts == nil {
				errCounts = map[string]int64{}
			}
			errCounts[rs.ids[j]] = ne
			e.cfg.Logger.Warn("segmentation: rule evaluations failed and counted as false", "operation", op.Name(),
				"segment", rs.ids[j], "failures", ne, "stopped", ne >= MaxRuleErrors)
		}
	}
	if stopped {
		ev.rules = nil // never matches: the next recompute evaluates every rule
	}
	return ev, errCounts, nil
}

// tally goes over the results once: it makes the rows the store writes
// (produced from results, currencies and in as the store writes them, not
// copied), the report (distribution, rule segment sizes, monetary total
// per currency) and a snapshot builder holding every customer.
func tally(customers []*segmentation.Customer, results []segmentation.Result, in []bool, rs ruleSet) (*resultRows, segmentation.Report, *membership.Builder) {
	n, k := len(results), len(rs.ids)
	order := make([]int, k) // rule indices by segment id: rows list ids sorted
	for j := range order {
		order[j] = j
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(rs.ids[a], rs.ids[b]) })
	rows := &resultRows{results: results, currency: make([]string, n), in: in, k: k, ruleIDs: rs.ids, order: order}
	counts := make([]int64, k)
	monetary := map[string]int64{}
	b := membership.NewBuilder(rs.ids)
	b.Grow(n)
	for i := range results {
		r := &results[i]
		cur := customers[i].Features.Currency
		rows.currency[i] = cur
		row := in[i*k : (i+1)*k]
		for j, ok := range row {
			if ok {
				counts[j]++
			}
		}
		if r.Scored {
			monetary[cur] = addSaturating(monetary[cur], r.Monetary)
		}
		b.Add(r.CustomerID, r, row)
	}
	segCounts := make(map[string]int64, k)
	for j, id := range rs.ids {
		segCounts[id] = counts[j]
	}
	report := segmentation.Report{Distribution: segmentation.Distribute(results), Segments: segCounts, MonetaryTotal: monetary}
	return rows, report, b
}

// sizes gives every audience's size: the tiers, stages and segments from
// the report, and each static segment's member count.
func (e *Engine) sizes(ctx context.Context, report segmentation.Report) (map[string]int64, error) {
	static, err := e.cfg.Store.StaticMembers(ctx)
	if err != nil {
		return nil, err
	}
	sizeSegs := make(map[string]int64, len(report.Segments)+len(static))
	for id, c := range report.Segments {
		sizeSegs[id] = c
	}
	for id, m := range static {
		sizeSegs[id] = int64(len(m))
	}
	return segmentation.Sizes(report.Distribution, sizeSegs), nil
}

// finish records op as succeeded, with set as its results, and returns
// the finished operation.
func (e *Engine) finish(ctx context.Context, op segmentation.Operation, set segmentation.ResultSet, ruleErrors map[string]int64) (segmentation.Operation, error) {
	n := int64(set.Rows.Len())
	op.State = segmentation.OperationSucceeded
	op.CustomersDone, op.CustomersTotal = n, n
	op.EndTime = e.cfg.Clock().UTC()
	report := set.Report // not &set.Report: the operation outlives set's rows
	op.Report = &report
	op.RuleErrors = ruleErrors
	if err := e.cfg.Store.FinishOperation(ctx, op, set); err != nil {
		return segmentation.Operation{}, err
	}
	return op, nil
}

// resultRows gives a recompute's results to the store row by row.
type resultRows struct {
	results  []segmentation.Result
	currency []string
	in       []bool // in[i*k+j]: customer i is in rule segment j
	k        int
	ruleIDs  []string
	order    []int // indices into ruleIDs in id order
}

func (r *resultRows) Len() int { return len(r.results) }

func (r *resultRows) Row(i int, out *segmentation.CustomerResult) {
	out.Result, out.Currency = r.results[i], r.currency[i]
	out.Segments = out.Segments[:0]
	row := r.in[i*r.k : (i+1)*r.k]
	for _, j := range r.order {
		if row[j] {
			out.Segments = append(out.Segments, r.ruleIDs[j])
		}
	}
}

// chunk is how many customers a worker evaluates per claim.
const chunk = 2048

// MaxRuleErrors is how many evaluations of one rule may hit the CEL cost
// limit in a recompute before the rule is no longer evaluated (it is false
// for the remaining customers), so one runaway rule cannot stall a
// recompute. Other run-time errors (a division by zero, a timestamp out of
// range for a customer without orders) are cheap: the rule is false for that
// customer, the failure is counted and evaluation goes on.
const MaxRuleErrors = 100

// evaluate runs the rules over every customer on cfg.Workers goroutines,
// writing ev.in[i*k+j] for customer i and rule j (or copying the row from
// the previous evaluation through reuse), marks the customers for whom a
// rule failed in ev.failed, counts rule j's failures in ruleErrs[j], and
// records progress. It reports whether a rule was stopped at the cost
// limit.
func (e *Engine) evaluate(ctx context.Context, op *segmentation.Operation, ev *evaluation, compiled []*rules.Rule,
	reuse *reuse, done *atomic.Int64, ruleErrs []atomic.Int64) (bool, error) {
	n, k := len(ev.customers), len(compiled)
	costErrs := make([]atomic.Int64, k) // failures at the cost limit, per rule
	var next atomic.Int64
	var wg sync.WaitGroup
	pctx, stop := context.WithCancel(ctx)
	progressDone := make(chan struct{})
	go func() { // progress reporter
		defer close(progressDone)
		every(pctx, e.cfg.ProgressInterval, func() {
			if err := e.cfg.Store.UpdateProgress(ctx, op.ID, done.Load(), int64(n)); err != nil && ctx.Err() == nil {
				e.cfg.Logger.Warn("segmentation: record progress", "error", err)
			}
		})
	}()
	for range e.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var w *rules.Evaluator
			if k > 0 {
				w = e.cfg.Rules.NewEvaluator(compiled)
			}
			for ctx.Err() == nil {
				lo := int(next.Add(chunk)) - chunk
				if lo >= n {
					return
				}
				hi := min(lo+chunk, n)
				if w != nil {
					evaluateChunk(w, ev, lo, hi, reuse, ruleErrs, costErrs)
				}
				done.Add(int64(hi - lo))
			}
		}()
	}
	wg.Wait()
	stop()
	<-progressDone
	stopped := false
	for j := range costErrs {
		stopped = stopped || costErrs[j].Load() >= MaxRuleErrors
	}
	return stopped, ctx.Err()
}

// evaluateChunk evaluates customers lo to hi (see evaluate) with w.
func evaluateChunk(w *rules.Evaluator, ev *evaluation, lo, hi int, reuse *reuse, ruleErrs, costErrs []atomic.Int64) {
	k := len(ruleErrs)
	for j := range costErrs {
		if costErrs[j].Load() >= MaxRuleErrors {
			w.Disable(j)
		}
	}
	var subj rules.Subject
	for i := lo; i < hi; i++ {
		row := ev.in[i*k : (i+1)*k]
		if reuse.row(i, &ev.results[i], &ev.preds[i], row) {
			continue
		}
		subj.Customer = ev.customers[i]
		subj.Recommendations = ev.recs
		subj.Prediction = &ev.preds[i]
		subj.Result = nil
		if ev.results[i].Scored {
			subj.Result = &ev.results[i]
		}
		if w.Eval(&subj, row) == 0 {
			continue
		}
		ev.failed[i] = true
		for j := range ruleErrs {
			if !w.Failed(j) {
				continue
			}
			ruleErrs[j].Add(1)
			if w.OverCost(j) && costErrs[j].Add(1) >= MaxRuleErrors {
				w.Disable(j)
			}
		}
	}
}

// addSaturating is a + b held at the int64 limits: a total over many
// customers' spends must not wrap to a negative number.
func addSaturating(a, b int64) int64 {
	s := a + b
	switch {
	case b > 0 && s < a:
		return math.MaxInt64
	case b < 0 && s > a:
		return math.MinInt64
	}
	return s
}
