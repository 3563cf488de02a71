package prediction

import (
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"

	"bufio"
	"cmp"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/testenv"
)

// cdnowSample is the CDNOW 1/10th sample: the absolute path in
// TENURE_CDNOW_SAMPLE_FILE, else the copy development and CI machines keep
// beside the repository (never inside it).
var cdnowSample = cmp.Or(os.Getenv("TENURE_CDNOW_SAMPLE_FILE"), "../../../../../shared/datasets/cdnow/CDNOW_sample.txt")

// readCDNOW returns each customer's purchase days from the sample, several
// records on one day added up, amounts in cents.
func readCDNOW(t *testing.T) [][]PurchaseDay {
	t.Helper()
	f, err := os.Open(cdnowSample)
	if err != nil {
		testenv.Missing(t, "data set absent: %v", err)
	}
	defer f.Close()
	byID := map[string][]PurchaseDay{}
	var ids []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Fields(sc.Text())
		if len(cols) != 5 {
			continue
		}
		d, err := time.Parse("20060102", cols[2])
		if err != nil {
			t.Fatal(err)
		}
		amount, err := strconv.ParseFloat(cols[4], 64)
		if err != nil {
			t.Fatal(err)
		}
		days, ok := byID[cols[1]]
		if !ok {
			ids = append(ids, cols[1])
		}
		day, cents := segmentation.DayOf(d), int64(math.Round(amount*100))
		if n := len(days); n > 0 && days[n-1].Day == day {
			days[n-1].Amount += cents
		} else {
			days = append(days, PurchaseDay{Day: day, Amount: cents})
		}
		byID[cols[1]] = days
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	out := make([][]PurchaseDay, 0, len(ids))
	for _, id := range ids {
		days := byID[id]
		slices.SortFunc(days, func(a, b PurchaseDay) int { return cmp.Compare(a.Day, b.Day) })
		out = append(out, days)
	}
	return out
}

// sig3 rounds v to three significant digits.
func sig3(v float64) float64 {
	if v == 0 {
		return 0
	}
	e := math.Pow(10, 2-math.Floor(math.Log10(math.Abs(v))))
	return math.Round(v*e) / e
}

func TestFitCDNOWMatchesPublished(t *testing.T) {
	customers := readCDNOW(t)
	asOf := segmentation.DayOf(time.Date(1997, 10, 1, 0, 0, 0, 0, time.UTC))
	var sums []Summary
	for _, days := range customers {
		if s, ok := Summarize(days, asOf); ok {
			sums = append(sums, s)
		}
	}
	if len(sums) != 2357 {
		t.Fatalf("got %d customers, want 2357", len(sums))
	}
	m, res, err := FitBGNBD(sums)
	if err != nil || !res.Converged {
		t.Fatalf("BG/NBD fit: %v, %+v", err, res)
	}
	t.Logf("BG/NBD %+v, %+v", m, res)
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"r", m.R, 0.243}, {"alpha", m.Alpha, 4.414}, {"a", m.A, 0.793}, {"b", m.B, 2.426}, {"log-likelihood", res.LogLikelihood, -9582.4}} {
		if sig3(c.got) != sig3(c.want) {
			t.Errorf("%s: got %.4f, want %.4f to three significant digits", c.name, c.got, c.want)
		}
	}
	// From a previous fit (here the same data) the fit converges at once
	// to the same model.
	warm, wres, err := FitBGNBDFrom(sums, m)
	if err != nil || !wres.Converged || wres.Iterations >= res.Iterations ||
		math.Abs(warm.R/m.R-1) > 1e-4 || math.Abs(warm.Alpha/m.Alpha-1) > 1e-4 || math.Abs(warm.A/m.A-1) > 1e-4 || math.Abs(warm.B/m.B-1) > 1e-4 {
		t.Errorf("warm start: %+v, %+v, %v; want %+v in fewer than %d iterations", warm, wres, err, m, res.Iterations)
	}
	gg, gres, err := FitGammaGamma(sums)
	if err != nil || !gres.Converged {
		t.Fatalf("Gamma-Gamma fit: %v, %+v", err, gres)
	}
	t.Logf("Gamma-Gamma %+v, %+v", gg, gres)
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"p", gg.P, 6.25}, {"q", gg.Q, 3.74}, {"gamma (dollars)", gg.Gamma / 100, 15.44}} {
		if math.Abs(c.got-c.want) > 0.01*c.want {
			t.Errorf("%s: got %.4f, want %.2f within 1%%", c.name, c.got, c.want)
		}
	}
}
