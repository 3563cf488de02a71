package prediction

import (
	"math"

	"gonum.org/v1/gonum/mathext"
)

// daysPerWeek converts the summaries' days to the models' weeks.
const daysPerWeek = 7

// BGNBD is a fitted BG/NBD model: purchase rates are gamma(r, α)
// distributed across customers (α per week) and the dropout probability
// after each purchase is beta(a, b) distributed.
type BGNBD struct {
	R, Alpha, A, B float64
}

// Valid reports whether every parameter is finite and positive.
func (m BGNBD) Valid() bool {
	return positive(m.R) && positive(m.Alpha) && positive(m.A) && positive(m.B)
}

func positive(v float64) bool { return v > 0 && !math.IsInf(v, 0) && !math.IsNaN(v) }

// LogLikelihood is the log-likelihood of one customer's (x, t_x, T), time
// in weeks (Fader, Hardie and Lee 2005, equation 6, in log space).
func (m BGNBD) LogLikelihood(x, tx, t float64) float64 {
	r, alpha, a, b := m.R, m.Alpha, m.A, m.B
	lg := func(v float64) float64 { l, _ := math.Lgamma(v); return l }
	a1 := lg(r+x) - lg(r) + r*math.Log(alpha)
	a2 := lg(a+b) + lg(b+x) - lg(b) - lg(a+b+x)
	a3 := -(r + x) * math.Log(alpha+t)
	if x == 0 {
		return a1 + a2 + a3
	}
	a4 := math.Log(a) - math.Log(b+x-1) - (r+x)*math.Log(alpha+tx)
	return a1 + a2 + logAddExp(a3, a4)
}

// logAddExp is log(e^u + e^v) without overflow.
func logAddExp(u, v float64) float64 {
	if u < v {
		u, v = v, u
	}
	return u + math.Log1p(math.Exp(v-u))
}

// PAlive is the probability that a customer with summary s is still
// alive at the end of its calibration period (equation 11).
func (m BGNBD) PAlive(s Summary) float64 {
	if s.X == 0 {
		return 1
	}
	x := float64(s.X)
	tx, t := weeks(s.TX), weeks(s.T)
	// a/(b+x−1) · ((α+T)/(α+t_x))^(r+x), in log space.
	l := math.Log(m.A) - math.Log(m.B+x-1) + (m.R+x)*(math.Log(m.Alpha+t)-math.Log(m.Alpha+tx))
	return 1 / (1 + math.Exp(l))
}

// ExpectedPurchases is the expected number of purchase days of a customer
// with summary s in the horizon days after its calibration period
// (equation 10): ExpectedIfAlive times PAlive.
func (m BGNBD) ExpectedPurchases(s Summary, horizonDays float64) float64 {
	return m.ExpectedIfAlive(s.X, s.T, horizonDays) * m.PAlive(s)
}

// ExpectedIfAlive is the expected number of purchase days in the horizon
// days after the calibration period of a customer with x repeat days and
// calibration length T days, given that it is alive at T: equation 10
// without its denominator, which is 1/PAlive. It does not depend on t_x,
// so customers can share it by (x, T).
//
// The factor ((α+T)/(α+T+t))^(r+x) · ₂F₁(r+x, b+x; a+b+x−1; z),
// z = t/(α+T+t), is computed through Euler's transformation as
// (1−z)^(a−1) · ₂F₁(a+b−1−r, a−1; a+b+x−1; z): the parameters no longer
// grow with x, so the series stays short for frequent buyers, and the
// power is taken in log space.
func (m BGNBD) ExpectedIfAlive(x, t int32, horizonDays float64) float64 {
	if horizonDays <= 0 {
		return 0
	}
	a, b, r := m.A, m.B, m.R
	c := a + b + float64(x) - 1
	h := horizonDays / daysPerWeek
	z := h / (m.Alpha + weeks(t) + h)
	f := math.Exp((a-1)*math.Log1p(-z)) * mathext.Hypergeo(a+b-1-r, a-1, c, z)
	return c / (a - 1) * (1 - f)
}

// weeks converts whole days to weeks.
func weeks(days int32) float64 { return float64(days) / daysPerWeek }
