package prediction

import "math"

// GammaGamma is a fitted Gamma-Gamma model of the spend per purchase day:
// a customer's spends are gamma(p, ν) with ν gamma(q, γ) distributed
// across customers. γ is in the spend's units (minor units).
type GammaGamma struct {
	P, Q, Gamma float64
}

// Valid reports whether every parameter is finite and positive and q > 1
// (the population mean spend, pγ/(q−1), exists).
func (m GammaGamma) Valid() bool {
	return positive(m.P) && positive(m.Q) && positive(m.Gamma) && m.Q > 1
}

// LogLikelihood is the log-likelihood of a customer's mean spend over x
// repeat purchase days.
func (m GammaGamma) LogLikelihood(x, mean float64) float64 {
	p, q, g := m.P, m.Q, m.Gamma
	lg := func(v float64) float64 { l, _ := math.Lgamma(v); return l }
	px := p * x
	return lg(px+q) - lg(px) - lg(q) + q*math.Log(g) + (px-1)*math.Log(mean) + px*math.Log(x) - (px+q)*math.Log(g+x*mean)
}

// ExpectedSpend is the expected spend per purchase day of a customer with
// x repeat purchase days of mean spend mean: (γ + x·mean)·p / (p·x + q − 1),
// a weighted average of the population mean pγ/(q−1) and the customer's
// own mean. With x = 0 it is the population mean.
func (m GammaGamma) ExpectedSpend(x int32, mean float64) float64 {
	fx := float64(x)
	if x == 0 {
		mean = 0
	}
	return (m.Gamma + fx*mean) * m.P / (m.P*fx + m.Q - 1)
}
