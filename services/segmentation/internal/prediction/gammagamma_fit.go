package prediction

import (
	"math"

	"gonum.org/v1/gonum/mathext"
)

// digamma is ψ, the derivative of log Γ.
func digamma(v float64) float64 { return mathext.Digamma(v) }

// spendGroup is a distinct (x, mean spend) and how many customers share it.
type spendGroup struct {
	x, mean, n float64
}

// FitGammaGamma fits Gamma-Gamma by maximum likelihood over log p, log q
// and log γ to the customers with repeat purchase days and a positive
// mean spend; customers sharing (x, mean spend) cost one term. Spend is in
// the summaries' unit.
func FitGammaGamma(sums []Summary) (GammaGamma, FitResult, error) {
	type key struct {
		x    int32
		mean float64
	}
	idx := map[key]int{}
	var g []spendGroup
	customers := 0
	var total float64
	for i := range sums {
		s := &sums[i]
		if s.X == 0 || !(s.Spend > 0) || math.IsInf(s.Spend, 0) {
			continue
		}
		customers++
		total += s.Spend
		k := key{s.X, s.Spend}
		if j, ok := idx[k]; ok {
			g[j].n++
			continue
		}
		idx[k] = len(g)
		g = append(g, spendGroup{float64(s.X), s.Spend, 1})
	}
	if len(g) < 2 {
		return GammaGamma{}, FitResult{Customers: customers, Groups: len(g)}, ErrTooFewCustomers
	}
	ll := func(v, grad []float64) float64 { return ggEval(g, v, grad) }
	// Start at p = 1, q = 2, γ at the mean spend's scale, so the fit
	// does not depend on the currency's minor unit.
	x, res := minimize(ll, float64(customers), []float64{0, math.Log(2), math.Log(total / float64(customers))})
	m := GammaGamma{P: math.Exp(x[0]), Q: math.Exp(x[1]), Gamma: math.Exp(x[2])}
	res.Customers, res.Groups = customers, len(g)
	res.Converged = res.Converged && m.Valid() && !math.IsNaN(res.LogLikelihood)
	return m, res, nil
}

// ggEval is the grouped Gamma-Gamma log-likelihood at log-parameters v and,
// if grad is not nil, its gradient in v.
func ggEval(g []spendGroup, v []float64, grad []float64) float64 {
	p, q, gm := math.Exp(v[0]), math.Exp(v[1]), math.Exp(v[2])
	if !positive(p) || !positive(q) || !positive(gm) {
		if grad != nil {
			clear(grad)
		}
		return math.Inf(-1)
	}
	m := GammaGamma{P: p, Q: q, Gamma: gm}
	dgQ := digamma(q)
	logG := math.Log(gm)
	var sum, gp, gq, gg float64
	for i := range g {
		s := &g[i]
		sum += s.n * m.LogLikelihood(s.x, s.mean)
		if grad == nil {
			continue
		}
		px := p * s.x
		dpq := digamma(px + q)
		logGM := math.Log(gm + s.x*s.mean)
		gp += s.n * s.x * (dpq - digamma(px) + math.Log(s.mean) + math.Log(s.x) - logGM)
		gq += s.n * (dpq - dgQ + logG - logGM)
		gg += s.n * (q/gm - (px+q)/(gm+s.x*s.mean))
	}
	if grad != nil {
		grad[0], grad[1], grad[2] = gp*p, gq*q, gg*gm
	}
	return sum
}
