package engine

import (
	"context"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/tenurehq/tenure/services/segmentation/internal/prediction"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// predictions is the prediction phase's outcome: one value per customer
// (in the order of the recompute's customers) and the report.
type predictions struct {
	values []segmentation.Prediction
	report *segmentation.PredictionReport
}

// predict fits BG/NBD and Gamma-Gamma on the customers' purchase days as
// of op's as-of day and predicts every customer with the fitted model, or
// with the previous good one when the fit does not converge.
func (e *Engine) predict(ctx context.Context, op *segmentation.Operation, customers []*segmentation.Customer, ps segmentation.PredictionSettings) (predictions, error) {
	ps = ps.Effective()
	asOfDay := segmentation.DayOf(op.AsOf)
	sums := make([]prediction.Summary, len(customers))
	modelled := make([]bool, len(customers))
	var fitSums []prediction.Summary
	for i, c := range customers {
		sums[i], modelled[i] = prediction.Summarize(c.Purchases, asOfDay)
		if modelled[i] {
			fitSums = append(fitSums, sums[i])
		}
	}
	rep := &segmentation.PredictionReport{HorizonDays: ps.HorizonDays}
	prev, prevOp, err := e.previousModel(ctx)
	if err != nil {
		return predictions{}, err
	}
	start := time.Now()
	model, fresh := fitModels(fitSums, prev, rep)
	rep.FitDuration = time.Since(start)
	if fresh {
		rep.Model, rep.ModelOperation = &model, op.ID
	} else {
		rep.Model, rep.ModelOperation = prev, prevOp
		level := slog.LevelWarn
		if len(fitSums) == 0 {
			level = slog.LevelDebug // no orders before as_of: nothing to fit
		}
		e.cfg.Logger.Log(ctx, level, "segmentation: prediction fit did not converge; keeping the previous model", "operation", op.Name(),
			"bgnbd", rep.BGNBD.Status, "gamma_gamma", rep.GammaGamma.Status, "previous", prevOp)
	}
	out := predictions{values: make([]segmentation.Prediction, len(customers)), report: rep}
	if rep.Model == nil {
		return out, nil
	}
	m := toModel(*rep.Model)
	terms := prediction.CLVTerms{Months: int(ps.CLVMonths), MonthlyDiscount: ps.MonthlyDiscountRate, Margin: ps.Margin}
	groups := e.byXT(sums, modelled, func(x, t int32) [2]float64 {
		return [2]float64{m.BGNBD.ExpectedIfAlive(x, t, float64(ps.HorizonDays)), m.BGNBD.DiscountedIfAlive(x, t, terms)}
	})
	for i := range customers {
		if !modelled[i] {
			continue
		}
		g := groups.values[groups.of[i]]
		alive := m.BGNBD.PAlive(sums[i])
		groups.alive[groups.of[i]] += alive
		eov := m.GammaGamma.ExpectedSpend(sums[i].X, sums[i].Spend)
		out.values[i] = segmentation.Prediction{Predicted: true, PAlive: alive, ExpectedPurchases: g[0] * alive,
			ExpectedOrderValue: eov, CLV: g[1] * alive * eov * ps.Margin}
	}
	summarizePredictions(out.values, rep)
	rep.Backtest = e.backtest(customers, modelled, groups, m.BGNBD, asOfDay)
	return out, nil
}

// fitModels fits both models to sums, starting from prev when there is
// one (the data changed little since: a few iterations suffice) and again
// from the default start if that does not converge, records the fits in
// rep and reports whether both converged.
func fitModels(sums []prediction.Summary, prev *segmentation.PredictionModel, rep *segmentation.PredictionReport) (segmentation.PredictionModel, bool) {
	var from prediction.Model
	if prev != nil {
		from = toModel(*prev)
	}
	bg, bres, berr := prediction.FitBGNBDFrom(sums, from.BGNBD)
	if berr == nil && !bres.Converged && prev != nil {
		bg, bres, berr = prediction.FitBGNBD(sums)
	}
	gg, gres, gerr := prediction.FitGammaGammaFrom(sums, from.GammaGamma)
	if gerr == nil && !gres.Converged && prev != nil {
		gg, gres, gerr = prediction.FitGammaGamma(sums)
	}
	rep.BGNBD, rep.GammaGamma = toFit(bres, berr), toFit(gres, gerr)
	return segmentation.PredictionModel{R: bg.R, Alpha: bg.Alpha, A: bg.A, B: bg.B, P: gg.P, Q: gg.Q, Gamma: gg.Gamma},
		berr == nil && gerr == nil && bres.Converged && gres.Converged
}

func toFit(r prediction.FitResult, err error) segmentation.ModelFit {
	f := segmentation.ModelFit{LogLikelihood: r.LogLikelihood, Customers: int64(r.Customers), Groups: int64(r.Groups),
		Converged: r.Converged && err == nil, Iterations: int64(r.Iterations), Status: r.Status}
	if err != nil {
		f.Status = err.Error()
	}
	if math.IsNaN(f.LogLikelihood) || math.IsInf(f.LogLikelihood, 0) {
		f.LogLikelihood = 0 // not representable in the stored report
	}
	return f
}

func toModel(p segmentation.PredictionModel) prediction.Model {
	return prediction.Model{
		BGNBD:      prediction.BGNBD{R: p.R, Alpha: p.Alpha, A: p.A, B: p.B},
		GammaGamma: prediction.GammaGamma{P: p.P, Q: p.Q, Gamma: p.Gamma},
	}
}

// previousModel returns the model of the latest succeeded recompute that
// had one, and the recompute whose fit gave it; nil if none.
func (e *Engine) previousModel(ctx context.Context) (*segmentation.PredictionModel, string, error) {
	before := ""
	for {
		ops, err := e.cfg.Store.ListOperations(ctx, before, 100)
		if err != nil || len(ops) == 0 {
			return nil, "", err
		}
		for _, o := range ops {
			if o.State == segmentation.OperationSucceeded && o.Report != nil && o.Report.Prediction != nil && o.Report.Prediction.Model != nil {
				return o.Report.Prediction.Model, o.Report.Prediction.ModelOperation, nil
			}
		}
		before = ops[len(ops)-1].ID
	}
}

// xtGroups maps customers to their distinct (x, T), on which the
// expected purchases of an alive customer depend (not on t_x): of[i] is
// customer i's group, keys[g] group g's (x, T), values[g] what was
// computed for it and alive[g] the sum of its customers' pAlive.
type xtGroups struct {
	of     []int32
	keys   [][2]int32
	values [][2]float64
	alive  []float64
}

// byXT groups the modelled customers by (x, T) and computes fn once per
// group, on the engine's workers.
func (e *Engine) byXT(sums []prediction.Summary, modelled []bool, fn func(x, t int32) [2]float64) xtGroups {
	idx := map[[2]int32]int32{}
	g := xtGroups{of: make([]int32, len(sums))}
	for i := range sums {
		if !modelled[i] {
			continue
		}
		k := [2]int32{sums[i].X, sums[i].T}
		j, ok := idx[k]
		if !ok {
			j = int32(len(g.keys))
			idx[k] = j
			g.keys = append(g.keys, k)
		}
		g.of[i] = j
	}
	g.values = make([][2]float64, len(g.keys))
	g.alive = make([]float64, len(g.keys))
	e.parallel(len(g.keys), func(lo, hi int) {
		for j := lo; j < hi; j++ {
			g.values[j] = fn(g.keys[j][0], g.keys[j][1])
		}
	})
	return g
}

// parallel calls fn over [0, n) in chunks on cfg.Workers goroutines.
func (e *Engine) parallel(n int, fn func(lo, hi int)) {
	w := max(1, min(e.cfg.Workers, n))
	var wg sync.WaitGroup
	for k := range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(n*k/w, n*(k+1)/w)
		}()
	}
	wg.Wait()
}

// clvShares are the CLV quantiles the report gives.
var clvShares = []float64{0.1, 0.25, 0.5, 0.75, 0.9, 0.99}

// summarizePredictions fills rep's counts, pAlive histogram, CLV
// quantiles and totals.
func summarizePredictions(values []segmentation.Prediction, rep *segmentation.PredictionReport) {
	var clv []float64
	for i := range values {
		v := &values[i]
		if !v.Predicted {
			continue
		}
		rep.Customers++
		rep.PAlive[min(9, max(0, int(v.PAlive*10)))]++
		rep.CLVTotal += v.CLV
		rep.ExpectedPurchasesTotal += v.ExpectedPurchases
		clv = append(clv, v.CLV)
	}
	if len(clv) == 0 {
		return
	}
	slices.Sort(clv)
	for _, q := range clvShares {
		i := min(len(clv)-1, max(0, int(math.Ceil(q*float64(len(clv))))-1)) // nearest rank
		rep.CLVQuantiles = append(rep.CLVQuantiles, segmentation.Quantile{Share: q, Value: clv[i]})
	}
}

// backtest compares, week by week after as_of, the modelled customers'
// cumulative expected repeat purchase days with the purchase days they
// actually had, when any are known after as_of. Weeks are counted from
// the first purchase day in the data, as in the literature's tracking
// plots (CDNOW: week 1 starts on 1997-01-01, a 39-week calibration ends
// with week 39 and the backtest runs from week 40 to week 78); the first
// row is the week as_of falls in, and each row's values run from as_of to
// the end of its week.
func (e *Engine) backtest(customers []*segmentation.Customer, modelled []bool, groups xtGroups, m prediction.BGNBD, asOfDay int32) []segmentation.BacktestWeek {
	first, last := int32(math.MaxInt32), int32(math.MinInt32)
	for i, c := range customers {
		if modelled[i] && len(c.Purchases) > 0 {
			first, last = min(first, c.Purchases[0].Day), max(last, c.Purchases[len(c.Purchases)-1].Day)
		}
	}
	if last < asOfDay {
		return nil
	}
	// Rows are the weeks w0+1 … w0+weeks, week w ending before day first+7w.
	w0 := int(asOfDay-first) / 7
	weeks := min(int(last-first)/7+1-w0, segmentation.MaxBacktestWeeks)
	actual := make([]int64, weeks+1) // actual[k]: days in row k's week (1-based)
	for i, c := range customers {
		if !modelled[i] {
			continue
		}
		for _, p := range c.Purchases {
			if k := int(p.Day-first)/7 + 1 - w0; p.Day >= asOfDay && k <= weeks {
				actual[k]++
			}
		}
	}
	horizon := func(k int) float64 { return float64(int(first) + 7*(w0+k) - int(asOfDay)) }
	predicted := make([]float64, weeks+1)
	e.parallel(weeks, func(lo, hi int) {
		for k := lo + 1; k <= hi; k++ {
			var sum float64
			for j, xt := range groups.keys {
				sum += groups.alive[j] * m.ExpectedIfAlive(xt[0], xt[1], horizon(k))
			}
			predicted[k] = sum
		}
	})
	out := make([]segmentation.BacktestWeek, weeks)
	var cum int64
	for k := 1; k <= weeks; k++ {
		cum += actual[k]
		out[k-1] = segmentation.BacktestWeek{Week: int64(w0 + k), Predicted: predicted[k], Actual: cum}
	}
	return out
}
