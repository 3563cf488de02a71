package prediction

import (
	"errors"
	"math"
	"runtime"
	"slices"
	"sync"

	"gonum.org/v1/gonum/optimize"
)

// ErrTooFewCustomers is returned by the fits when there is not enough data
// to estimate a model.
var ErrTooFewCustomers = errors.New("prediction: too few customers to fit")

// FitResult is the outcome of a maximum-likelihood fit.
type FitResult struct {
	// LogLikelihood is the maximised log-likelihood (time in weeks).
	LogLikelihood float64
	// Customers is how many customers the fit used; Groups how many
	// distinct summaries they had (the likelihood's cost).
	Customers, Groups int
	// Converged is false when the optimiser stopped before it met its
	// convergence test or ended on parameters that are not valid; the
	// parameters are then not to be used.
	Converged bool
	// Iterations is the optimiser's major iteration count.
	Iterations int
	// Status is the optimiser's stop reason.
	Status string
}

// maxIterations bounds each fit.
const maxIterations = 500

// minimize maximises the log-likelihood ll (which stores its gradient in
// g) from x0 in log-parameter space and reports the
// result; converged requires a convergence status. It minimises the
// negated mean over the n customers, so that the convergence thresholds
// do not depend on how many customers there are.
//
// ll always computes the gradient with the value (they share most of the
// work), and the optimiser asks for the value and the gradient at the
// same point one after the other: the last point's are kept for the
// second call.
func minimize(ll func(x, g []float64) float64, n float64, x0 []float64) ([]float64, FitResult) {
	var (
		lastX []float64
		lastF float64
		lastG = make([]float64, len(x0))
	)
	at := func(x []float64) {
		if lastX == nil || !slices.Equal(x, lastX) {
			lastF = ll(x, lastG)
			lastX = append(lastX[:0], x...)
		}
	}
	p := optimize.Problem{
		Func: func(x []float64) float64 { at(x); return -lastF / n },
		Grad: func(g, x []float64) {
			at(x)
			for i := range g {
				g[i] = -lastG[i] / n
			}
		},
	}
	settings := &optimize.Settings{
		GradientThreshold: 1e-7,
		MajorIterations:   maxIterations,
		Converger:         &optimize.FunctionConverge{Absolute: 1e-10, Relative: 1e-12, Iterations: 20},
	}
	res, err := optimize.Minimize(p, x0, settings, &optimize.BFGS{})
	if res == nil {
		return x0, FitResult{Status: err.Error()}
	}
	out := FitResult{LogLikelihood: -res.F * n, Iterations: res.Stats.MajorIterations, Status: res.Status.String()}
	out.Converged = err == nil && (res.Status == optimize.GradientThreshold || res.Status == optimize.FunctionConvergence)
	if err != nil {
		out.Status = err.Error()
	}
	return res.X, out
}

// triple is a distinct (x, t_x, T) and how many customers share it.
type triple struct {
	x, tx, t int32
	n        float64
}

// groupTriples groups the summaries by (x, t_x, T).
func groupTriples(sums []Summary) []triple {
	type key struct{ x, tx, t int32 }
	idx := make(map[key]int, 1024)
	var out []triple
	for i := range sums {
		s := &sums[i]
		k := key{s.X, s.TX, s.T}
		if j, ok := idx[k]; ok {
			out[j].n++
			continue
		}
		idx[k] = len(out)
		out = append(out, triple{s.X, s.TX, s.T, 1})
	}
	return out
}

// FitBGNBD fits BG/NBD to the summaries by maximum likelihood over log r,
// log α, log a and log b (so every parameter stays positive), with BFGS
// and the analytic gradient, from r = α = a = b = 1. Customers sharing
// (x, t_x, T) cost one term.
func FitBGNBD(sums []Summary) (BGNBD, FitResult, error) {
	return FitBGNBDFrom(sums, BGNBD{R: 1, Alpha: 1, A: 1, B: 1})
}

// FitBGNBDFrom is FitBGNBD starting from start (a previous fit: on data
// that changed little it needs a few iterations); an invalid start is
// replaced by FitBGNBD's.
func FitBGNBDFrom(sums []Summary, start BGNBD) (BGNBD, FitResult, error) {
	if !start.Valid() {
		start = BGNBD{R: 1, Alpha: 1, A: 1, B: 1}
	}
	g := groupTriples(sums)
	repeaters := 0
	for i := range g {
		if g[i].x > 0 {
			repeaters++
		}
	}
	if len(sums) < 2 || repeaters == 0 {
		return BGNBD{}, FitResult{Customers: len(sums), Groups: len(g)}, ErrTooFewCustomers
	}
	x, res := minimize(newBGNBDLikelihood(g).eval, float64(len(sums)),
		[]float64{math.Log(start.R), math.Log(start.Alpha), math.Log(start.A), math.Log(start.B)})
	m := BGNBD{R: math.Exp(x[0]), Alpha: math.Exp(x[1]), A: math.Exp(x[2]), B: math.Exp(x[3])}
	res.Customers, res.Groups = len(sums), len(g)
	res.Converged = res.Converged && m.Valid() && !math.IsNaN(res.LogLikelihood)
	return m, res, nil
}

// bgnbdLikelihood evaluates the grouped BG/NBD log-likelihood and its
// gradient. The terms that depend only on x are summed once per distinct
// x (with its customer count); those that depend on a day count come from
// tables filled once per evaluation; the rest costs one exp and one log1p
// per group with repeat purchases, spread over the CPUs.
type bgnbdLikelihood struct {
	g      []bgGroup
	xs     []float64 // distinct x values, ascending
	nx     []float64 // customers per distinct x
	maxDay int32
	// Per distinct x and evaluation: lgamma and digamma of r+x, b+x,
	// a+b+x; log and inverse of b+x−1.
	lgx, dgx       [][3]float64
	logB1, invB1   []float64
	logDay, invDay []float64 // per day count d: log(α + d/7), 1/(α + d/7)
}

// bgGroup is a distinct (x, t_x, T): x as an index into xs.
type bgGroup struct {
	xi, tx, t int32
	n         float64
}

func newBGNBDLikelihood(g []triple) *bgnbdLikelihood {
	l := &bgnbdLikelihood{g: make([]bgGroup, len(g))}
	var xs []int32
	for i := range g {
		xs = append(xs, g[i].x)
		l.maxDay = max(l.maxDay, g[i].t, g[i].tx)
	}
	slices.Sort(xs)
	xs = slices.Compact(xs)
	l.nx = make([]float64, len(xs))
	for i := range g {
		xi, _ := slices.BinarySearch(xs, g[i].x)
		l.g[i] = bgGroup{xi: int32(xi), tx: g[i].tx, t: g[i].t, n: g[i].n}
		l.nx[xi] += g[i].n
	}
	for _, x := range xs {
		l.xs = append(l.xs, float64(x))
	}
	l.lgx = make([][3]float64, len(xs))
	l.dgx = make([][3]float64, len(xs))
	l.logB1 = make([]float64, len(xs))
	l.invB1 = make([]float64, len(xs))
	l.logDay = make([]float64, l.maxDay+1)
	l.invDay = make([]float64, l.maxDay+1)
	return l
}

// eval returns the log-likelihood at log-parameters v = (log r, log α,
// log a, log b) and stores its gradient in v in grad.
func (l *bgnbdLikelihood) eval(v []float64, grad []float64) float64 {
	r, alpha, a, b := math.Exp(v[0]), math.Exp(v[1]), math.Exp(v[2]), math.Exp(v[3])
	if !positive(r) || !positive(alpha) || !positive(a) || !positive(b) {
		clear(grad)
		return math.Inf(-1)
	}
	for d := range l.logDay {
		w := alpha + float64(d)/daysPerWeek
		l.logDay[d], l.invDay[d] = math.Log(w), 1/w
	}
	lgR, lgB, lgAB, logAlpha := lgamma(r), lgamma(b), lgamma(a+b), math.Log(alpha)
	dgR, dgB, dgAB := digamma(r), digamma(b), digamma(a+b)
	var sum, gr, gAlpha, ga, gb float64
	for i, fx := range l.xs {
		l.lgx[i] = [3]float64{lgamma(r + fx), lgamma(b + fx), lgamma(a + b + fx)}
		l.dgx[i] = [3]float64{digamma(r + fx), digamma(b + fx), digamma(a + b + fx)}
		l.logB1[i], l.invB1[i] = math.Log(b+fx-1), 1/(b+fx-1)
		lx, dx, n := &l.lgx[i], &l.dgx[i], l.nx[i]
		sum += n * (lx[0] - lgR + r*logAlpha + lgAB + lx[1] - lgB - lx[2])
		gr += n * (dx[0] - dgR + logAlpha)
		gAlpha += n * r / alpha
		ga += n * (dgAB - dx[2])
		gb += n * (dgAB + dx[1] - dgB - dx[2])
	}
	parts := sumParallel(len(l.g), func(lo, hi int) [5]float64 { return l.groups(lo, hi, r, a) })
	sum += parts[0]
	grad[0], grad[1], grad[2], grad[3] = (gr+parts[1])*r, (gAlpha+parts[2])*alpha, (ga+parts[3])*a, (gb+parts[4])*b
	return sum
}

// groups sums the per-group terms of groups lo to hi: the likelihood's
// log(e^A3 + e^A4) and its derivatives in r, α, a and b.
func (l *bgnbdLikelihood) groups(lo, hi int, r, a float64) [5]float64 {
	logA := math.Log(a)
	var sum, gr, gAlpha, ga, gb float64
	for i := lo; i < hi; i++ {
		t := &l.g[i]
		rx := r + l.xs[t.xi]
		logT := l.logDay[t.t]
		a3 := -rx * logT
		if l.xs[t.xi] == 0 {
			sum += t.n * a3
			gr -= t.n * logT
			gAlpha -= t.n * rx * l.invDay[t.t]
			continue
		}
		logTx := l.logDay[t.tx]
		a4 := logA - l.logB1[t.xi] - rx*logTx
		// term = log(e^a3 + e^a4) and w4 = e^a4 / (e^a3 + e^a4), from one exp.
		var term, w4 float64
		if d := a4 - a3; d < 0 {
			e := math.Exp(d)
			term, w4 = a3+math.Log1p(e), e/(1+e)
		} else {
			e := math.Exp(-d)
			term, w4 = a4+math.Log1p(e), 1/(1+e)
		}
		w3 := 1 - w4
		sum += t.n * term
		gr -= t.n * (w3*logT + w4*logTx)
		gAlpha -= t.n * rx * (w3*l.invDay[t.t] + w4*l.invDay[t.tx])
		ga += t.n * w4 / a
		gb -= t.n * w4 * l.invB1[t.xi]
	}
	return [5]float64{sum, gr, gAlpha, ga, gb}
}

func lgamma(v float64) float64 {
	l, _ := math.Lgamma(v)
	return l
}

// parallelMin is the number of groups below which a likelihood is summed
// on one goroutine.
const parallelMin = 16384

// sumParallel sums fn over [0, n) split across GOMAXPROCS goroutines
// (one when n is small).
func sumParallel(n int, fn func(lo, hi int) [5]float64) [5]float64 {
	w := 1
	if n >= parallelMin {
		w = runtime.GOMAXPROCS(0)
	}
	parts := make([][5]float64, w)
	var wg sync.WaitGroup
	for k := range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			parts[k] = fn(n*k/w, n*(k+1)/w)
		}()
	}
	wg.Wait()
	var out [5]float64
	for _, p := range parts {
		for i := range out {
			out[i] += p[i]
		}
	}
	return out
}
