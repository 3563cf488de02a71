package prediction

import (
	"errors"
	"math"
	"slices"

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
// g when g is not nil) from x0 in log-parameter space and reports the
// result; converged requires a convergence status. It minimises the
// negated mean over the n customers, so that the convergence thresholds
// do not depend on how many customers there are.
func minimize(ll func(x, g []float64) float64, n float64, x0 []float64) ([]float64, FitResult) {
	p := optimize.Problem{
		Func: func(x []float64) float64 { return -ll(x, nil) / n },
		Grad: func(g, x []float64) {
			ll(x, g)
			for i := range g {
				g[i] /= -n
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
// and the analytic gradient. Customers sharing (x, t_x, T) cost one term.
func FitBGNBD(sums []Summary) (BGNBD, FitResult, error) {
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
	x, res := minimize(newBGNBDLikelihood(g).eval, float64(len(sums)), []float64{0, 0, 0, 0})
	m := BGNBD{R: math.Exp(x[0]), Alpha: math.Exp(x[1]), A: math.Exp(x[2]), B: math.Exp(x[3])}
	res.Customers, res.Groups = len(sums), len(g)
	res.Converged = res.Converged && m.Valid() && !math.IsNaN(res.LogLikelihood)
	return m, res, nil
}

// bgnbdLikelihood evaluates the grouped BG/NBD log-likelihood and its
// gradient, with the terms that depend only on x or only on a day count
// computed once per evaluation.
type bgnbdLikelihood struct {
	g              []triple
	xs             []int32 // distinct x values, ascending
	xi             []int   // g[i].x's index in xs
	maxDay         int32
	lgx, dgx       [][3]float64 // per x: lgamma and digamma of r+x, b+x, a+b+x
	logDay, invDay []float64    // per day count d: log(α + d/7), 1/(α + d/7)
}

func newBGNBDLikelihood(g []triple) *bgnbdLikelihood {
	l := &bgnbdLikelihood{g: g, xi: make([]int, len(g))}
	for i := range g {
		l.xs = append(l.xs, g[i].x)
		l.maxDay = max(l.maxDay, g[i].t, g[i].tx)
	}
	slices.Sort(l.xs)
	l.xs = slices.Compact(l.xs)
	for i := range g {
		l.xi[i], _ = slices.BinarySearch(l.xs, g[i].x)
	}
	l.lgx = make([][3]float64, len(l.xs))
	l.dgx = make([][3]float64, len(l.xs))
	l.logDay = make([]float64, l.maxDay+1)
	l.invDay = make([]float64, l.maxDay+1)
	return l
}

// eval returns the log-likelihood at log-parameters v = (log r, log α,
// log a, log b) and, if grad is not nil, stores its gradient in v there.
func (l *bgnbdLikelihood) eval(v []float64, grad []float64) float64 {
	r, alpha, a, b := math.Exp(v[0]), math.Exp(v[1]), math.Exp(v[2]), math.Exp(v[3])
	if !positive(r) || !positive(alpha) || !positive(a) || !positive(b) {
		if grad != nil {
			clear(grad)
		}
		return math.Inf(-1)
	}
	lgamma := func(v float64) float64 { l, _ := math.Lgamma(v); return l }
	for d := range l.logDay {
		w := alpha + float64(d)/daysPerWeek
		l.logDay[d], l.invDay[d] = math.Log(w), 1/w
	}
	for i, x := range l.xs {
		fx := float64(x)
		l.lgx[i] = [3]float64{lgamma(r + fx), lgamma(b + fx), lgamma(a + b + fx)}
		if grad != nil {
			l.dgx[i] = [3]float64{digamma(r + fx), digamma(b + fx), digamma(a + b + fx)}
		}
	}
	lgR, lgB, lgAB, logA, logAlpha := lgamma(r), lgamma(b), lgamma(a+b), math.Log(a), math.Log(alpha)
	var sum, gr, gAlpha, ga, gb float64
	for i := range l.g {
		t := &l.g[i]
		fx, xi := float64(t.x), l.xi[i]
		lx := &l.lgx[xi]
		base := lx[0] - lgR + r*logAlpha + lgAB + lx[1] - lgB - lx[2]
		a3 := -(r + fx) * l.logDay[t.t]
		var w4, a4, logB1 float64
		term := a3
		if t.x > 0 {
			logB1 = math.Log(b + fx - 1)
			a4 = logA - logB1 - (r+fx)*l.logDay[t.tx]
			term = logAddExp(a3, a4)
			w4 = math.Exp(a4 - term)
		}
		sum += t.n * (base + term)
		if grad == nil {
			continue
		}
		w3 := 1 - w4
		dx := &l.dgx[xi]
		gr += t.n * (dx[0] - w3*l.logDay[t.t] - w4*l.logDay[t.tx])
		gAlpha += t.n * (-(r + fx) * (w3*l.invDay[t.t] + w4*l.invDay[t.tx]))
		ga += t.n * (-dx[2] + w4/a)
		gb += t.n * (dx[1] - dx[2])
		if t.x > 0 {
			gb -= t.n * w4 / (b + fx - 1)
		}
	}
	if grad != nil {
		var n float64
		for i := range l.g {
			n += l.g[i].n
		}
		dgR, dgB, dgAB := digamma(r), digamma(b), digamma(a+b)
		gr += n * (logAlpha - dgR)
		gAlpha += n * r / alpha
		ga += n * dgAB
		gb += n * (dgAB - dgB)
		grad[0], grad[1], grad[2], grad[3] = gr*r, gAlpha*alpha, ga*a, gb*b
	}
	return sum
}
