package segmentation

import "time"

// PredictionSettings configure the prediction outputs of a recompute. A
// zero field takes its default (Effective), so settings stored before
// predictions existed keep working.
type PredictionSettings struct {
	// HorizonDays is the horizon of the expected purchases, in days
	// (default 90, at most 3,650).
	HorizonDays int64
	// CLVMonths is the lifetime value's horizon in months of 30 days
	// (default 12, at most 120).
	CLVMonths int64
	// MonthlyDiscountRate discounts month m's margin by (1+d)^m (default
	// 0.01, at most 1). Negative means no discount: zero is the default.
	MonthlyDiscountRate float64
	// Margin is the share of spend that is profit, in (0, 1] (default 1:
	// the lifetime value is revenue).
	Margin float64
}

// Prediction setting defaults and limits.
const (
	DefaultHorizonDays         = 90
	DefaultCLVMonths           = 12
	DefaultMonthlyDiscountRate = 0.01
	MaxHorizonDays             = 3650
	MaxCLVMonths               = 120
)

// Effective returns p with the defaults in place of zero fields, and a
// negative discount rate as zero.
func (p PredictionSettings) Effective() PredictionSettings {
	if p.HorizonDays == 0 {
		p.HorizonDays = DefaultHorizonDays
	}
	if p.CLVMonths == 0 {
		p.CLVMonths = DefaultCLVMonths
	}
	switch {
	case p.MonthlyDiscountRate == 0:
		p.MonthlyDiscountRate = DefaultMonthlyDiscountRate
	case p.MonthlyDiscountRate < 0:
		p.MonthlyDiscountRate = 0
	}
	if p.Margin == 0 {
		p.Margin = 1
	}
	return p
}

func (p PredictionSettings) validate(probs *settingsProblems) {
	if p.HorizonDays < 0 || p.HorizonDays > MaxHorizonDays {
		probs.add("prediction.horizon_days", "must be 1 to %d days (0 for the default, %d), got %d", MaxHorizonDays, DefaultHorizonDays, p.HorizonDays)
	}
	if p.CLVMonths < 0 || p.CLVMonths > MaxCLVMonths {
		probs.add("prediction.clv_months", "must be 1 to %d months (0 for the default, %d), got %d", MaxCLVMonths, DefaultCLVMonths, p.CLVMonths)
	}
	if !(p.MonthlyDiscountRate <= 1) { // NaN too
		probs.add("prediction.monthly_discount_rate", "must be at most 1 (a negative rate means none, 0 the default 0.01), got %g", p.MonthlyDiscountRate)
	}
	if !(p.Margin >= 0 && p.Margin <= 1) {
		probs.add("prediction.margin", "must be in (0, 1] (0 for the default, 1), got %g", p.Margin)
	}
}

// Prediction is one customer's predictions at a recompute.
type Prediction struct {
	// Predicted is false for customers without a purchase day before
	// as_of (prospects): the other fields are zero.
	Predicted bool
	// PAlive is the probability that the customer has not dropped out.
	PAlive float64
	// ExpectedPurchases is the expected number of purchase days in the
	// settings' horizon after as_of.
	ExpectedPurchases float64
	// ExpectedOrderValue is the expected spend per purchase day, in minor
	// units of the customer's currency.
	ExpectedOrderValue float64
	// CLV is the lifetime value over the settings' months, in minor units.
	CLV float64
}

// PredictionModel is the fitted BG/NBD (R, Alpha per week, A, B) and
// Gamma-Gamma (P, Q, Gamma in minor units) parameters.
type PredictionModel struct {
	R, Alpha, A, B float64
	P, Q, Gamma    float64
}

// ModelFit is how a maximum-likelihood fit went.
type ModelFit struct {
	// LogLikelihood is the maximised log-likelihood, time in weeks.
	LogLikelihood float64
	// Customers is how many customers the fit used, Groups how many
	// distinct summaries they had.
	Customers, Groups int64
	Converged         bool
	Iterations        int64
	// Status is the optimiser's stop reason, or why there was no fit.
	Status string
}

// BacktestWeek compares, for one week after as_of, the predicted and
// actual repeat purchase days of the modelled customers, cumulated from
// as_of to the end of the week. Week counts weeks from the first purchase
// day in the data (week 1 starts on it).
type BacktestWeek struct {
	Week      int64
	Predicted float64
	Actual    int64
}

// PredictionReport is what a recompute's prediction phase did: the fits,
// the model it used, and the distributions of its outputs.
type PredictionReport struct {
	BGNBD, GammaGamma ModelFit
	// FitDuration is the time both fits took.
	FitDuration time.Duration
	// Model is the model the predictions used: this recompute's fit, or
	// when it did not converge the previous good one (from ModelOperation);
	// nil when there is none (then no customer has predictions).
	Model *PredictionModel
	// ModelOperation is the id of the recompute whose fit gave Model.
	ModelOperation string
	// Customers is how many customers have predictions.
	Customers int64
	// PAlive counts customers per tenth of pAlive: [0, 0.1), …, [0.9, 1].
	PAlive [10]int64
	// CLV quantiles (minor units) over the customers with predictions.
	CLVQuantiles []Quantile
	// CLVTotal sums the lifetime values; ExpectedPurchasesTotal the
	// expected purchase days in the horizon.
	CLVTotal, ExpectedPurchasesTotal float64
	// HorizonDays is the expected purchases' horizon.
	HorizonDays int64
	// Backtest is set when purchase days after as_of are known: week by
	// week, up to the last such day (at most MaxBacktestWeeks).
	Backtest []BacktestWeek
}

// Quantile is the value below which a share of the values fall.
type Quantile struct {
	Share, Value float64
}

// MaxBacktestWeeks bounds a backtest.
const MaxBacktestWeeks = 156
