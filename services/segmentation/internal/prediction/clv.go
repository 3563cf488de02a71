package prediction

import "math"

// DaysPerMonth is the length of a month in the lifetime value's sum.
const DaysPerMonth = 30

// Model is the two fitted models together.
type Model struct {
	BGNBD      BGNBD
	GammaGamma GammaGamma
}

// Value is one customer's predictions.
type Value struct {
	// PAlive is the probability the customer is alive at the end of the
	// calibration period.
	PAlive float64
	// ExpectedPurchases is the expected number of purchase days in the
	// horizon after as_of.
	ExpectedPurchases float64
	// ExpectedSpend is the expected spend per purchase day (minor units).
	ExpectedSpend float64
	// CLV is the discounted margin over the lifetime value's months
	// (minor units); see DiscountedPurchases.
	CLV float64
}

// CLVTerms are the settings of the lifetime value.
type CLVTerms struct {
	// Months is the horizon in months of DaysPerMonth days.
	Months int
	// MonthlyDiscount is the discount rate per month (0.01 is 1 %).
	MonthlyDiscount float64
	// Margin is the share of spend that is profit (1: revenue).
	Margin float64
}

// DiscountedPurchases is Σ_{m=1..M} (E[Y(30m)] − E[Y(30(m−1))]) / (1+d)^m:
// the expected purchase days of each month after the calibration period,
// discounted to its end. The lifetime value is this times the expected
// spend per purchase day times the margin.
func (m BGNBD) DiscountedPurchases(s Summary, terms CLVTerms) float64 {
	return m.DiscountedIfAlive(s.X, s.T, terms) * m.PAlive(s)
}

// DiscountedIfAlive is DiscountedPurchases given that the customer is
// alive at the end of its calibration period (see ExpectedIfAlive).
func (m BGNBD) DiscountedIfAlive(x, t int32, terms CLVTerms) float64 {
	var sum, prev float64
	for k := 1; k <= terms.Months; k++ {
		e := m.ExpectedIfAlive(x, t, float64(k*DaysPerMonth))
		sum += (e - prev) / math.Pow(1+terms.MonthlyDiscount, float64(k))
		prev = e
	}
	return sum
}

// Predict returns the predictions for a customer with summary s over a
// horizon of horizonDays days, with the lifetime value under terms.
func (m Model) Predict(s Summary, horizonDays float64, terms CLVTerms) Value {
	v := Value{
		PAlive:            m.BGNBD.PAlive(s),
		ExpectedPurchases: m.BGNBD.ExpectedPurchases(s, horizonDays),
		ExpectedSpend:     m.GammaGamma.ExpectedSpend(s.X, s.Spend),
	}
	v.CLV = m.BGNBD.DiscountedPurchases(s, terms) * v.ExpectedSpend * terms.Margin
	return v
}
