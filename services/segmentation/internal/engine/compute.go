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

// compute scores every customer, evaluates the rule segments and stores
// the results; it returns the new base snapshot and the finished operation.
// phases are how long a recompute's steps took, for its log line.
type phases struct {
	load, score, rules, build, store time.Duration
}

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
	t := time.Now()
	lap := func(d *time.Duration) {
		now := time.Now()
		*d, t = now.Sub(t), now
	}
	customers, err := st.LoadCustomers(ctx)
	lap(&ph.load)
	if err != nil {
		return nil, *op, 0, err
	}
	n := len(customers)
	if err := st.UpdateProgress(ctx, op.ID, 0, int64(n)); err != nil {
		return nil, *op, 0, err
	}
	inputs := make([]segmentation.Input, n)
	for i := range customers {
		inputs[i] = customers[i].Input()
	}
	results, err := segmentation.Score(op.AsOf, inputs, sv.Settings)
	lap(&ph.score)
	inputs = nil
	if err != nil {
		return nil, *op, 0, err
	}

	segs, err := e.allSegments(ctx)
	if err != nil {
		return nil, *op, 0, err
	}
	var ruleIDs []string
	var compiled []*rules.Rule
	for _, g := range segs {
		if g.Kind != segmentation.SegmentKindRule {
			continue
		}
		r, err := e.cfg.Rules.Compile(g.Rule)
		if err != nil { // validated on write; skip rather than fail everything
			e.cfg.Logger.Warn("segmentation: rule does not compile", "segment", g.ID, "error", err)
			continue
		}
		ruleIDs = append(ruleIDs, g.ID)
		compiled = append(compiled, r)
	}
	k := len(compiled)
	in := make([]bool, n*k)
	var done atomic.Int64
	ruleErrs := make([]atomic.Int64, k)
	if err := e.evaluate(ctx, op, customers, results, compiled, in, &done, ruleErrs); err != nil {
		return nil, *op, 0, err
	}
	lap(&ph.rules)
	var errCounts map[string]int64
	for j := range ruleErrs {
		if ne := ruleErrs[j].Load(); ne > 0 {
			if errCounts == nil {
				errCounts = map[string]int64{}
			}
			errCounts[ruleIDs[j]] = ne
			e.cfg.Logger.Warn("segmentation: rule evaluations failed and counted as false", "operation", op.Name(),
				"segment", ruleIDs[j], "failures", ne, "stopped", ne >= MaxRuleErrors)
		}
	}

	// Results, sizes and the report. The rows are produced from results,
	// currencies and in as the store writes them, not copied.
	order := make([]int, k) // rule indices by segment id: rows list ids sorted
	for j := range order {
		order[j] = j
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(ruleIDs[a], ruleIDs[b]) })
	rows := &resultRows{results: results, currency: make([]string, n), in: in, k: k, ruleIDs: ruleIDs, order: order}
	rs := segmentation.ResultSet{Rows: rows, Generation: gen}
	counts := make([]int64, k)
	monetary := map[string]int64{}
	b := membership.NewBuilder(ruleIDs)
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
	customers = nil
	segCounts := make(map[string]int64, k)
	for j, id := range ruleIDs {
		segCounts[id] = counts[j]
	}
	rs.Report = segmentation.Report{Distribution: segmentation.Distribute(results), Segments: segCounts, MonetaryTotal: monetary}
	static, err := st.StaticMembers(ctx)
	if err != nil {
		return nil, *op, 0, err
	}
	sizeSegs := make(map[string]int64, len(segCounts)+len(static))
	for id, c := range segCounts {
		sizeSegs[id] = c
	}
	for id, m := range static {
		sizeSegs[id] = int64(len(m))
	}
	rs.Sizes = segmentation.Sizes(rs.Report.Distribution, sizeSegs)
	base, err := b.Build()
	if err != nil {
		return nil, *op, 0, err
	}
	lap(&ph.build)
	final := *op
	final.State = segmentation.OperationSucceeded
	final.CustomersDone, final.CustomersTotal = int64(n), int64(n)
	final.EndTime = e.cfg.Clock().UTC()
	report := rs.Report // not &rs.Report: the operation outlives rs's rows
	final.Report = &report
	final.RuleErrors = errCounts
	if err := st.FinishOperation(ctx, final, rs); err != nil {
		return nil, *op, 0, err
	}
	lap(&ph.store)
	return base, final, gen, nil
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
// writing in[i*k+j] for customer i and rule j, counts rule j's failures in
// ruleErrs[j], and records progress.
func (e *Engine) evaluate(ctx context.Context, op *segmentation.Operation, customers []segmentation.Customer,
	results []segmentation.Result, compiled []*rules.Rule, in []bool, done *atomic.Int64, ruleErrs []atomic.Int64) error {
	n, k := len(customers), len(compiled)
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
			var ev *rules.Evaluator
			if k > 0 {
				ev = e.cfg.Rules.NewEvaluator(compiled)
			}
			var subj rules.Subject
			for ctx.Err() == nil {
				lo := int(next.Add(chunk)) - chunk
				if lo >= n {
					return
				}
				hi := min(lo+chunk, n)
				if ev != nil {
					for j := range costErrs {
						if costErrs[j].Load() >= MaxRuleErrors {
							ev.Disable(j)
						}
					}
					for i := lo; i < hi; i++ {
						subj.Customer = &customers[i]
						subj.Result = nil
						if results[i].Scored {
							subj.Result = &results[i]
						}
						if ev.Eval(&subj, in[i*k:(i+1)*k]) == 0 {
							continue
						}
						for j := range ruleErrs {
							if !ev.Failed(j) {
								continue
							}
							ruleErrs[j].Add(1)
							if ev.OverCost(j) && costErrs[j].Add(1) >= MaxRuleErrors {
								ev.Disable(j)
							}
						}
					}
				}
				done.Add(int64(hi - lo))
			}
		}()
	}
	wg.Wait()
	stop()
	<-progressDone
	return ctx.Err()
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
