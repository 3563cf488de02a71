package prediction

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
)

// The analytic gradients match central differences of the likelihoods.
func TestGradientsMatchFiniteDifferences(t *testing.T) {
	sums := []Summary{{X: 0, T: 200}, {X: 2, TX: 30, T: 250, Spend: 1500}, {X: 5, TX: 180, T: 190, Spend: 3300},
		{X: 1, TX: 7, T: 100, Spend: 900}, {X: 0, T: 12}, {X: 9, TX: 60, T: 61, Spend: 12000}}
	bg := newBGNBDLikelihood(groupTriples(sums))
	var gg []spendGroup
	for _, s := range sums {
		if s.X > 0 {
			gg = append(gg, spendGroup{float64(s.X), s.Spend, 1})
		}
	}
	for _, c := range []struct {
		name string
		f    func(v, g []float64) float64
		at   []float64
	}{
		{"bgnbd", bg.eval, []float64{math.Log(0.3), math.Log(4), math.Log(0.8), math.Log(2.5)}},
		{"gammagamma", func(v, g []float64) float64 { return ggEval(gg, v, g) }, []float64{math.Log(6), math.Log(3.7), math.Log(1500)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := make([]float64, len(c.at))
			c.f(c.at, got)
			want := fd.Gradient(nil, func(v []float64) float64 { return c.f(v, nil) }, c.at, &fd.Settings{Formula: fd.Central})
			for i := range got {
				if math.Abs(got[i]-want[i]) > 1e-5*math.Max(1, math.Abs(want[i])) {
					t.Errorf("d/dv%d: got %g, want %g", i, got[i], want[i])
				}
			}
		})
	}
}
