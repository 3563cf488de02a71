package prediction

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/integrate/quad"
)

// integrated derives P(alive) and E[Y(t)] for a BG/NBD customer by
// integrating over the purchase rate λ ~ gamma(r, α) and the dropout
// probability p ~ beta(a, b) numerically, from the model's definition
// rather than its closed forms: given λ and p, the customer is alive after
// (x, t_x, T) with likelihood (1−p)^x λ^x e^(−λT), dropped out after the
// last purchase with p(1−p)^(x−1) λ^x e^(−λ t_x), and an alive customer
// makes (1 − e^(−λpt))/p purchases in t on average.
func integrated(m BGNBD, s Summary, horizonDays float64) (pAlive, expected float64) {
	x, tx, T, t := float64(s.X), weeks(s.TX), weeks(s.T), horizonDays/daysPerWeek
	// p = w^(1/ca) and λ = v^(1/cr), ca = min(a, 1) and cr = min(r, 1),
	// take the priors' singularities at zero into the measure:
	// p^(a−1) dp = p^(a−ca) dw/ca, λ^(r−1) dλ = λ^(r−cr) dv/cr.
	ca, cr := min(m.A, 1), min(m.R, 1)
	k := m.R + x
	lambdaMax := (k + 12*math.Sqrt(k) + 12) / (m.Alpha + tx)
	vMax := math.Pow(lambdaMax, cr)
	const n = 400
	var alive, dead, purchases float64
	inner := func(w float64, part int) float64 {
		p := math.Pow(w, 1/ca)
		return quad.Fixed(func(v float64) float64 {
			l := math.Pow(v, 1/cr)
			prior := math.Pow(l, m.R-cr) * math.Exp(-m.Alpha*l) * math.Pow(p, m.A-ca) * math.Pow(1-p, m.B-1)
			switch part {
			case 0:
				return prior * math.Pow(1-p, x) * math.Pow(l, x) * math.Exp(-l*T)
			case 1:
				if s.X == 0 {
					return 0
				}
				return prior * p * math.Pow(1-p, x-1) * math.Pow(l, x) * math.Exp(-l*tx)
			}
			return prior * math.Pow(1-p, x) * math.Pow(l, x) * math.Exp(-l*T) * -math.Expm1(-l*p*t) / p
		}, 0, vMax, n, nil, 0)
	}
	alive = quad.Fixed(func(w float64) float64 { return inner(w, 0) }, 0, 1, n, nil, 0)
	dead = quad.Fixed(func(w float64) float64 { return inner(w, 1) }, 0, 1, n, nil, 0)
	purchases = quad.Fixed(func(w float64) float64 { return inner(w, 2) }, 0, 1, n, nil, 0)
	return alive / (alive + dead), purchases / (alive + dead)
}

func TestBGNBDClosedFormsMatchIntegration(t *testing.T) {
	cdnow := BGNBD{R: 0.243, Alpha: 4.414, A: 0.793, B: 2.426}
	other := BGNBD{R: 2.5, Alpha: 12, A: 1.7, B: 5.5}
	for _, c := range []struct {
		name    string
		m       BGNBD
		s       Summary
		horizon float64
	}{
		{"new customer, unconditional", cdnow, Summary{}, 90},
		{"one-off buyer", cdnow, Summary{X: 0, T: 250}, 90},
		{"regular buyer", cdnow, Summary{X: 4, TX: 200, T: 260}, 365},
		{"lapsed frequent buyer", cdnow, Summary{X: 7, TX: 60, T: 270}, 90},
		{"long horizon", cdnow, Summary{X: 2, TX: 100, T: 150}, 3650},
		{"a above one", other, Summary{X: 3, TX: 40, T: 120}, 180},
		{"a above one, no repeat", other, Summary{X: 0, T: 30}, 30},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantAlive, wantE := integrated(c.m, c.s, c.horizon)
			if got := c.m.PAlive(c.s); math.Abs(got-wantAlive) > 1e-4 {
				t.Errorf("PAlive: got %.6f, want %.6f", got, wantAlive)
			}
			if got := c.m.ExpectedPurchases(c.s, c.horizon); math.Abs(got-wantE) > 1e-4*math.Max(1, wantE) {
				t.Errorf("ExpectedPurchases: got %.6f, want %.6f", got, wantE)
			}
		})
	}
}

// The published CDNOW example: a customer with x = 2, t_x = 30.43 weeks,
// T = 38.86 weeks expects 1.226 transactions in the next 39 weeks (Fader,
// Hardie and Lee 2005, section 4).
func TestExpectedPurchasesPublishedExample(t *testing.T) {
	m := BGNBD{R: 0.243, Alpha: 4.414, A: 0.793, B: 2.426}
	got := m.ExpectedPurchases(Summary{X: 2, TX: 213, T: 272}, 39*7)
	if math.Abs(got-1.226) > 0.002 {
		t.Errorf("got %.4f, want 1.226", got)
	}
}

func TestGammaGammaExpectedSpendMatchesIntegration(t *testing.T) {
	m := GammaGamma{P: 6.25, Q: 3.74, Gamma: 15.44}
	for _, c := range []struct {
		x    int32
		mean float64
	}{{1, 20}, {3, 35.5}, {10, 8}, {0, 0}} {
		// Given the scale ν, a spend has mean p/ν; ν's prior is gamma(q, γ)
		// and x spends of mean m have likelihood ∝ ν^(px) e^(−ν x m).
		x := float64(c.x)
		f := func(nu float64, k float64) float64 {
			return math.Pow(nu, m.P*x+m.Q-1-k) * math.Exp(-nu*(m.Gamma+x*c.mean))
		}
		scale := 1 / (m.Gamma + x*c.mean)
		hi := 200 * scale * (m.P*x + m.Q)
		num := quad.Fixed(func(nu float64) float64 { return m.P * f(nu, 1) }, 0, hi, 4000, nil, 0)
		den := quad.Fixed(func(nu float64) float64 { return f(nu, 0) }, 0, hi, 4000, nil, 0)
		if got, want := m.ExpectedSpend(c.x, c.mean), num/den; math.Abs(got-want) > 1e-6*want {
			t.Errorf("x=%d mean=%g: got %.8f, want %.8f", c.x, c.mean, got, want)
		}
	}
}

func TestDiscountedPurchasesSumsMonths(t *testing.T) {
	m := BGNBD{R: 0.243, Alpha: 4.414, A: 0.793, B: 2.426}
	s := Summary{X: 3, TX: 150, T: 200}
	undiscounted := m.DiscountedPurchases(s, CLVTerms{Months: 12, MonthlyDiscount: 0})
	if want := m.ExpectedPurchases(s, 360); math.Abs(undiscounted-want) > 1e-12 {
		t.Errorf("without discount: got %g, want E[Y(360 days)] = %g", undiscounted, want)
	}
	// By hand: month k's purchases over 1.01^k.
	var want, prev float64
	for k := 1; k <= 3; k++ {
		e := m.ExpectedPurchases(s, float64(30*k))
		want += (e - prev) / math.Pow(1.01, float64(k))
		prev = e
	}
	if got := m.DiscountedPurchases(s, CLVTerms{Months: 3, MonthlyDiscount: 0.01}); math.Abs(got-want) > 1e-12 {
		t.Errorf("three months at 1%%: got %g, want %g", got, want)
	}
	v := Model{BGNBD: m, GammaGamma: GammaGamma{P: 6.25, Q: 3.74, Gamma: 1544}}.Predict(s, 90, CLVTerms{Months: 3, MonthlyDiscount: 0.01, Margin: 0.3})
	if wantCLV := want * v.ExpectedSpend * 0.3; math.Abs(v.CLV-wantCLV) > 1e-9*wantCLV {
		t.Errorf("CLV: got %g, want %g", v.CLV, wantCLV)
	}
}
