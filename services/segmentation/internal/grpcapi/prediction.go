package grpcapi

import (
	"math"

	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
	"google.golang.org/protobuf/types/known/durationpb"
)

func fromPredictionSettings(p segmentation.PredictionSettings) *segmentationv1.PredictionSettings {
	return &segmentationv1.PredictionSettings{HorizonDays: p.HorizonDays, ClvMonths: p.CLVMonths,
		MonthlyDiscountRate: p.MonthlyDiscountRate, Margin: p.Margin}
}

func toPredictionSettings(p *segmentationv1.PredictionSettings) segmentation.PredictionSettings {
	return segmentation.PredictionSettings{HorizonDays: p.GetHorizonDays(), CLVMonths: p.GetClvMonths(),
		MonthlyDiscountRate: p.GetMonthlyDiscountRate(), Margin: p.GetMargin()}
}

func fromModelFit(f segmentation.ModelFit) *segmentationv1.ModelFit {
	return &segmentationv1.ModelFit{LogLikelihood: f.LogLikelihood, Customers: f.Customers, Groups: f.Groups,
		Converged: f.Converged, Iterations: f.Iterations, Status: f.Status}
}

// fromPredictionReport converts a recompute's prediction report; nil for
// none (a recompute from before predictions existed).
func fromPredictionReport(r *segmentation.PredictionReport) *segmentationv1.PredictionReport {
	if r == nil {
		return nil
	}
	out := &segmentationv1.PredictionReport{
		Bgnbd: fromModelFit(r.BGNBD), GammaGamma: fromModelFit(r.GammaGamma), FitDuration: durationpb.New(r.FitDuration),
		ModelOperation: operationName(r.ModelOperation), Customers: r.Customers, ClvTotal: r.CLVTotal,
		ExpectedPurchasesTotal: r.ExpectedPurchasesTotal, HorizonDays: r.HorizonDays,
	}
	if m := r.Model; m != nil {
		out.Model = &segmentationv1.PredictionModel{R: m.R, Alpha: m.Alpha, A: m.A, B: m.B, P: m.P, Q: m.Q, Gamma: m.Gamma}
	}
	for i, n := range r.PAlive {
		out.PAlive = append(out.PAlive, &segmentationv1.PAliveBucket{Lower: float64(i) / 10, Upper: float64(i+1) / 10, Customers: n})
	}
	for _, q := range r.CLVQuantiles {
		out.ClvQuantiles = append(out.ClvQuantiles, &segmentationv1.ClvQuantile{Share: q.Share, ValueMinor: q.Value})
	}
	for _, w := range r.Backtest {
		out.Backtest = append(out.Backtest, &segmentationv1.BacktestWeek{Week: w.Week, Predicted: w.Predicted, Actual: w.Actual})
	}
	return out
}

// operationName is the resource name of operation id, "" for none.
func operationName(id string) string {
	if id == "" {
		return ""
	}
	return segmentation.Operation{ID: id}.Name()
}

// reportPrediction is the prediction report of op, nil if none.
func reportPrediction(op segmentation.Operation) *segmentationv1.PredictionReport {
	if op.Report == nil {
		return nil
	}
	return fromPredictionReport(op.Report.Prediction)
}

// setPrediction fills the prediction fields of scores (none for a
// customer without a prediction); money is rounded
// to whole minor units of currency.
func setPrediction(out *segmentationv1.CustomerScores, p segmentation.Prediction, horizon int64, currency string) {
	if !p.Predicted {
		return
	}
	out.PredictionHorizonDays = int32(horizon)
	out.Predicted, out.PAlive, out.ExpectedPurchases = true, p.PAlive, p.ExpectedPurchases
	out.ExpectedOrderValue = money(currency, roundMinor(p.ExpectedOrderValue))
	out.PredictedClv = money(currency, roundMinor(p.CLV))
}

// roundMinor rounds v to an int64 number of minor units, held at the
// int64 limits.
func roundMinor(v float64) int64 {
	switch {
	case math.IsNaN(v):
		return 0
	case v >= math.MaxInt64:
		return math.MaxInt64
	case v <= math.MinInt64:
		return math.MinInt64
	}
	return int64(math.Round(v))
}
