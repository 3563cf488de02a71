package prediction

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/mathext"
)

// digamma is ψ, the derivative of log Γ.
func digamma(v float64) float64 { return mathext.Digamma(v) }

// spendGroup is a distinct (x, mean spend) and how many customers share
// it: x as an index into the distinct x values, the mean's log kept.
type spendGroup struct {
	xi            int32
	mean, logMean float64
	n             float64
}

// ggLikelihood evaluates the grouped Gamma-Gamma log-likelihood and its
// gradient: the gamma functions depend only on x, once per distinct x per
// evaluation; each group costs one log.
type ggLikelihood struct {
	g      []spendGroup
	xs     []float64
	nx     []float64 // customers per distinct x
	perX   [][5]float64
	logXs  []float64
	sumLog []float64 // per distinct x: Σ n·log(mean) over its groups
}

func newGGLikelihood(groups []ggKey, counts []float64) *ggLikelihood {
	l := &ggLikelihood{g: make([]spendGroup, len(groups))}
	var xs []int32
	for _, k := range groups {
		xs = append(xs, k.x)
	}
	slices.Sort(xs)
	xs = slices.Compact(xs)
	for _, x := range xs {
		l.xs = append(l.xs, float64(x))
		l.logXs = append(l.logXs, math.Log(float64(x)))
	}
	l.nx = make([]float64, len(xs))
	l.sumLog = make([]float64, len(xs))
	l.perX = make([][5]float64, len(xs))
	for i, k := range groups {
		xi, _ := slices.BinarySearch(xs, k.x)
		lm := math.Log(k.mean)
		l.g[i] = spendGroup{xi: int32(xi), mean: k.mean, logMean: lm, n: counts[i]}
		l.nx[xi] += counts[i]
		l.sumLog[xi] += counts[i] * lm
	}
	return l
}

// eval is the log-likelihood at log-parameters v = (log p, log q, log γ),
// with its gradient in v stored in grad.
func (l *ggLikelihood) eval(v []float64, grad []float64) float64 {
	p, q, gm := math.Exp(v[0]), math.Exp(v[1]), math.Exp(v[2])
	if !positive(p) || !positive(q) || !positive(gm) {
		clear(grad)
		return math.Inf(-1)
	}
	logG, lgQ, dgQ := math.Log(gm), lgamma(q), digamma(q)
	var sum, gp, gq, gg float64
	for i, x := range l.xs {
		px := p * x
		l.perX[i] = [5]float64{lgamma(px + q), lgamma(px), digamma(px + q), digamma(px), px}
		k, n := &l.perX[i], l.nx[i]
		// Every term but −(px+q)·log(γ + x·mean), which needs the group.
		sum += n*(k[0]-k[1]-lgQ+q*logG+px*l.logXs[i]) + (px-1)*l.sumLog[i]
		gp += x * (n*(k[2]-k[3]+l.logXs[i]) + l.sumLog[i])
		gq += n * (k[2] - dgQ + logG)
		gg += n * q / gm
	}
	parts := sumParallel(len(l.g), func(lo, hi int) [5]float64 {
		var sum, gp, gq, gg float64
		for j := lo; j < hi; j++ {
			s := &l.g[j]
			x, k := l.xs[s.xi], &l.perX[s.xi]
			den := gm + x*s.mean
			logGM := math.Log(den)
			sum -= s.n * (k[4] + q) * logGM
			gp -= s.n * x * logGM
			gq -= s.n * logGM
			gg -= s.n * (k[4] + q) / den
		}
		return [5]float64{sum, gp, gq, gg}
	})
	grad[0], grad[1], grad[2] = (gp+parts[1])*p, (gq+parts[2])*q, (gg+parts[3])*gm
	return sum + parts[0]
}

// ggKey is a distinct (x, mean spend).
type ggKey struct {
	x    int32
	mean float64
}

// FitGammaGamma fits Gamma-Gamma by maximum likelihood over log p, log q
// and log γ to the customers with repeat purchase days and a positive
// mean spend; customers sharing (x, mean spend) cost one term. Spend is in
// the summaries' unit.
func FitGammaGamma(sums []Summary) (GammaGamma, FitResult, error) {
	return FitGammaGammaFrom(sums, GammaGamma{})
}

// FitGammaGammaFrom is FitGammaGamma starting from start (a previous fit);
// an invalid start is replaced by FitGammaGamma's: p = 1, q = 2 and γ the
// mean spend, so that the fit does not depend on the currency's minor
// unit.
func FitGammaGammaFrom(sums []Summary, start GammaGamma) (GammaGamma, FitResult, error) {
	idx := map[ggKey]int{}
	var keys []ggKey
	var counts []float64
	customers := 0
	var total float64
	for i := range sums {
		s := &sums[i]
		if s.X == 0 || !(s.Spend > 0) || math.IsInf(s.Spend, 0) {
			continue
		}
		customers++
		total += s.Spend
		k := ggKey{s.X, s.Spend}
		if j, ok := idx[k]; ok {
			counts[j]++
			continue
		}
		idx[k] = len(keys)
		keys = append(keys, k)
		counts = append(counts, 1)
	}
	if len(keys) < 2 {
		return GammaGamma{}, FitResult{Customers: customers, Groups: len(keys)}, ErrTooFewCustomers
	}
	ll := newGGLikelihood(keys, counts).eval
	if !start.Valid() {
		start = GammaGamma{P: 1, Q: 2, Gamma: total / float64(customers)}
	}
	x, res := minimize(ll, float64(customers), []float64{math.Log(start.P), math.Log(start.Q), math.Log(start.Gamma)})
	m := GammaGamma{P: math.Exp(x[0]), Q: math.Exp(x[1]), Gamma: math.Exp(x[2])}
	res.Customers, res.Groups = customers, len(keys)
	res.Converged = res.Converged && m.Valid() && !math.IsNaN(res.LogLikelihood)
	return m, res, nil
}
