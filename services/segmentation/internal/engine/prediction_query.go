package engine

import (
	"context"

	"github.com/tenurehq/tenure/services/segmentation/internal/prediction"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// CustomerPrediction returns customer id's predictions under the model
// op's recompute used, as of op's as-of time, from its purchase days,
// with expected purchases over horizonDays (0: op's settings' horizon),
// and the horizon used. Without a model the prediction is zero and not
// Predicted.
func (e *Engine) CustomerPrediction(ctx context.Context, id string, op segmentation.Operation, horizonDays int64) (segmentation.Prediction, int64, error) {
	sv, err := e.cfg.Store.GetSettings(ctx, op.SettingsVersion)
	if err != nil {
		return segmentation.Prediction{}, 0, err
	}
	ps := sv.Settings.Prediction.Effective()
	if horizonDays == 0 {
		horizonDays = ps.HorizonDays
	}
	if op.Report == nil || op.Report.Prediction == nil || op.Report.Prediction.Model == nil {
		return segmentation.Prediction{}, horizonDays, nil
	}
	ps.HorizonDays = horizonDays
	days, err := e.cfg.Store.GetPurchases(ctx, id)
	if err != nil {
		return segmentation.Prediction{}, 0, err
	}
	return Predict(*op.Report.Prediction.Model, days, op, ps), horizonDays, nil
}

// Predict is one customer's prediction from its purchase days under model,
// as of op's as-of time, with the settings ps (effective values).
func Predict(model segmentation.PredictionModel, days []segmentation.PurchaseDay, op segmentation.Operation, ps segmentation.PredictionSettings) segmentation.Prediction {
	s, ok := prediction.Summarize(days, segmentation.DayOf(op.AsOf))
	if !ok {
		return segmentation.Prediction{}
	}
	v := toModel(model).Predict(s, float64(ps.HorizonDays),
		prediction.CLVTerms{Months: int(ps.CLVMonths), MonthlyDiscount: ps.MonthlyDiscountRate, Margin: ps.Margin})
	return segmentation.Prediction{Predicted: true, PAlive: v.PAlive, ExpectedPurchases: v.ExpectedPurchases,
		ExpectedOrderValue: v.ExpectedSpend, CLV: v.CLV}
}
