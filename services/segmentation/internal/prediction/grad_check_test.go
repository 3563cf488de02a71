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
	var keys []ggKey
	var counts []float64
	for _, s := range sums {
		if s.X > 0 {
			keys, counts = append(keys, ggKey{s.X, s.Spend}), append(counts, 1)
		}
	}
	gg := newGGLikelihood(keys, counts)
	for _, c := range []struct {
		name string
		f    func(v, g []float64) float64
		at   []float64
	}{
		{"bgnbd", bg.eval, []float64{math.Log(0.3), math.Log(4), math.Log(0.8), math.Log(2.5)}},
		{"gammagamma", gg.eval, []float64{math.Log(6), math.Log(3.7), math.Log(1500)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := make([]float64, len(c.at))
			c.f(c.at, got)
			scratch := make([]float64, len(c.at))
			want := fd.Gradient(nil, func(v []float64) float64 { return c.f(v, scratch) }, c.at, &fd.Settings{Formula: fd.Central})
			for i := range got {
				if math.Abs(got[i]-want[i]) > 1e-5*math.Max(1, math.Abs(want[i])) {
					t.Errorf("d/dv%d: got %g, want %g", i, got[i], want[i])
				}
			}
		})
	}
}

// The grouped likelihoods equal the sums of the per-customer ones.
func TestGroupedLikelihoodsSumCustomers(t *testing.T) {
	sums := []Summary{{X: 0, T: 200}, {X: 2, TX: 30, T: 250, Spend: 1500}, {X: 2, TX: 30, T: 250, Spend: 1500},
		{X: 5, TX: 180, T: 190, Spend: 3300}, {X: 0, T: 200}, {X: 9, TX: 60, T: 61, Spend: 12000}}
	bg := BGNBD{R: 0.3, Alpha: 4, A: 0.8, B: 2.5}
	gm := GammaGamma{P: 6, Q: 3.7, Gamma: 1500}
	var wantBG, wantGG float64
	var keys []ggKey
	var counts []float64
	for _, s := range sums {
		wantBG += bg.LogLikelihood(float64(s.X), weeks(s.TX), weeks(s.T))
		if s.X > 0 {
			wantGG += gm.LogLikelihood(float64(s.X), s.Spend)
			keys, counts = append(keys, ggKey{s.X, s.Spend}), append(counts, 1)
		}
	}
	g := make([]float64, 4)
	gotBG := newBGNBDLikelihood(groupTriples(sums)).eval([]float64{math.Log(bg.R), math.Log(bg.Alpha), math.Log(bg.A), math.Log(bg.B)}, g)
	gotGG := newGGLikelihood(keys, counts).eval([]float64{math.Log(gm.P), math.Log(gm.Q), math.Log(gm.Gamma)}, g)
	if math.Abs(gotBG-wantBG) > 1e-9*math.Abs(wantBG) || math.Abs(gotGG-wantGG) > 1e-9*math.Abs(wantGG) {
		t.Errorf("grouped: BG/NBD %.10g, Gamma-Gamma %.10g; want %.10g, %.10g", gotBG, gotGG, wantBG, wantGG)
	}
}
