package prediction

import (
	"math"
	"testing"

	"github.com/tenurehq/tenure/services/segmentation/internal/prediction/predictiontest"
)

// The fit recovers the parameters of the process that made the data, up
// to sampling error and whole-day rounding.
func TestFitRecoversSimulatedProcess(t *testing.T) {
	const end = 20454 // 2026-01-01
	p := predictiontest.DefaultProcess
	var sums []Summary
	for _, h := range p.Histories(100_000, end, 3) {
		if s, ok := Summarize(h, end); ok {
			sums = append(sums, s)
		}
	}
	m, res, err := FitBGNBD(sums)
	if err != nil || !res.Converged {
		t.Fatalf("fit: %v %+v", err, res)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"r", m.R, p.R}, {"alpha", m.Alpha, p.Alpha}, {"a", m.A, p.A}, {"b", m.B, p.B}} {
		if math.Abs(c.got/c.want-1) > 0.1 {
			t.Errorf("%s: got %.3f, want %.3f within 10%%", c.name, c.got, c.want)
		}
	}
}
