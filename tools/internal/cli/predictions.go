package cli

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
)

// predictionRows are the prediction lines of `customers show`.
func predictionRows(s *segmentationv1.CustomerScores) [][2]string {
	if !s.GetPredicted() {
		return [][2]string{{"prediction", "none (no order before as of, or no model fitted yet)"}}
	}
	return [][2]string{
		{"pAlive", fmt.Sprintf("%.3f", s.GetPAlive())},
		{"expected purchases", fmt.Sprintf("%.2f days with an order in the next %d days", s.GetExpectedPurchases(), s.GetPredictionHorizonDays())},
		{"expected order value", formatMoney(s.GetExpectedOrderValue().GetCurrencyCode(), s.GetExpectedOrderValue().GetAmountMinor())},
		{"predicted CLV", formatMoney(s.GetPredictedClv().GetCurrencyCode(), s.GetPredictedClv().GetAmountMinor())},
	}
}

// printPredictionReport prints the prediction section of `segments
// report`: the fits, the model, the distribution of pAlive and CLV, and
// the backtest when there is one.
func printPredictionReport(w io.Writer, p *segmentationv1.PredictionReport) error {
	fmt.Fprintln(w, "\nPredictions")
	if p == nil {
		fmt.Fprintln(w, "  none: this recompute did not predict")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(k, format string, a ...any) { fmt.Fprintf(tw, "  %s\t"+format+"\n", append([]any{k}, a...)...) }
	for _, f := range []struct {
		name string
		fit  *segmentationv1.ModelFit
	}{{"BG/NBD fit", p.GetBgnbd()}, {"Gamma-Gamma fit", p.GetGammaGamma()}} {
		state := "converged"
		if !f.fit.GetConverged() {
			state = "NOT converged (" + f.fit.GetStatus() + ")"
		}
		line(f.name, "%s; log-likelihood %.1f; %s customers (%s distinct); %d iterations", state, f.fit.GetLogLikelihood(),
			grouped(int(f.fit.GetCustomers())), grouped(int(f.fit.GetGroups())), f.fit.GetIterations())
	}
	line("fit time", "%s", p.GetFitDuration().AsDuration().Round(time.Millisecond))
	if m := p.GetModel(); m != nil {
		line("BG/NBD", "r %.3f, alpha %.3f per week, a %.3f, b %.3f", m.GetR(), m.GetAlpha(), m.GetA(), m.GetB())
		line("Gamma-Gamma", "p %.2f, q %.2f, gamma %.2f (minor units)", m.GetP(), m.GetQ(), m.GetGamma())
		line("model from", "%s", p.GetModelOperation())
	} else {
		line("model", "none yet: no fit has converged")
	}
	line("customers predicted", "%s", grouped(int(p.GetCustomers())))
	line("expected purchases", "%.1f days with an order in the next %d days", p.GetExpectedPurchasesTotal(), p.GetHorizonDays())
	line("CLV total", "%.0f (minor units)", p.GetClvTotal())
	if err := tw.Flush(); err != nil {
		return err
	}
	if p.GetModel() == nil {
		return nil
	}
	fmt.Fprintln(w, "\n  pAlive     customers")
	for _, b := range p.GetPAlive() {
		fmt.Fprintf(w, "  %.1f–%.1f  %9s\n", b.GetLower(), b.GetUpper(), grouped(int(b.GetCustomers())))
	}
	fmt.Fprintln(w, "\n  CLV quantile  value (minor units)")
	for _, q := range p.GetClvQuantiles() {
		fmt.Fprintf(w, "  %11.0f%%  %.0f\n", 100*q.GetShare(), q.GetValueMinor())
	}
	if bt := p.GetBacktest(); len(bt) > 0 {
		fmt.Fprintln(w, "\n  Backtest: cumulative repeat purchase days after as of")
		fmt.Fprintln(w, "  week  predicted  actual")
		for _, wk := range bt {
			if wk.GetWeek()%13 == 0 || wk.GetWeek() == int64(len(bt)) {
				fmt.Fprintf(w, "  %4d  %9.1f  %6d\n", wk.GetWeek(), wk.GetPredicted(), wk.GetActual())
			}
		}
	}
	return nil
}
