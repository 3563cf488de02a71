package segmentation

import (
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

func TestPredictionSettings(t *testing.T) {
	if got, want := (PredictionSettings{}).Effective(), (PredictionSettings{HorizonDays: 90, CLVMonths: 12, MonthlyDiscountRate: 0.01, Margin: 1}); got != want {
		t.Errorf("Effective() of zero: got %+v, want %+v", got, want)
	}
	if got := (PredictionSettings{MonthlyDiscountRate: -1}).Effective().MonthlyDiscountRate; got != 0 {
		t.Errorf("negative discount rate: got %g, want 0 (none)", got)
	}
	for _, c := range []struct {
		p    PredictionSettings
		path string // "" when valid
	}{
		{PredictionSettings{}, ""},
		{PredictionSettings{HorizonDays: 3650, CLVMonths: 120, MonthlyDiscountRate: 1, Margin: 0.3}, ""},
		{PredictionSettings{HorizonDays: -1}, "prediction.horizon_days"},
		{PredictionSettings{HorizonDays: 3651}, "prediction.horizon_days"},
		{PredictionSettings{CLVMonths: 121}, "prediction.clv_months"},
		{PredictionSettings{MonthlyDiscountRate: 1.5}, "prediction.monthly_discount_rate"},
		{PredictionSettings{MonthlyDiscountRate: math.NaN()}, "prediction.monthly_discount_rate"},
		{PredictionSettings{Margin: 1.01}, "prediction.margin"},
		{PredictionSettings{Margin: -0.1}, "prediction.margin"},
	} {
		s := DefaultSettings()
		s.Prediction = c.p
		err := s.Validate()
		var fe *fielderr.Error
		switch {
		case c.path == "" && err != nil:
			t.Errorf("%+v: got %v, want valid", c.p, err)
		case c.path != "" && (!errors.As(err, &fe) || fe.Path != c.path):
			t.Errorf("%+v: got %v, want a problem at %s", c.p, err, c.path)
		}
	}
	cur, upd := DefaultSettings(), DefaultSettings()
	upd.Prediction.HorizonDays = 30
	merged, err := MergeSettings(cur, upd, []string{"prediction"})
	if err != nil || merged.Prediction.HorizonDays != 30 || merged.Equal(cur) {
		t.Errorf("MergeSettings(prediction): got %+v, %v", merged.Prediction, err)
	}
}

func TestPurchaseDays(t *testing.T) {
	if got := DayOf(time.Date(1997, 10, 1, 23, 59, 0, 0, time.UTC)); got != 10135 {
		t.Errorf("DayOf(1997-10-01T23:59Z): got %d, want 10135", got)
	}
	if got := TimeOfDay(10135); !got.Equal(time.Date(1997, 10, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("TimeOfDay(10135): got %v", got)
	}
	days := []PurchaseDay{{Day: 5, Amount: 100}, {Day: 9, Amount: 1}}
	got := AddPurchases(days, []PurchaseDay{{Day: 9, Amount: 2}, {Day: 1, Amount: 7}, {Day: 6, Amount: 3}})
	if want := []PurchaseDay{{Day: 1, Amount: 7}, {Day: 5, Amount: 100}, {Day: 6, Amount: 3}, {Day: 9, Amount: 3}}; !slices.Equal(got, want) {
		t.Errorf("AddPurchases: got %v, want %v", got, want)
	}
	if days[1].Amount != 1 {
		t.Error("AddPurchases changed its input")
	}
	// Two orders of one customer on one day in one page: one purchase day.
	day := PurchaseDay{Day: 10135, Amount: 500}
	muts := PlanPage([]StreamEvent{
		{Sequence: 1, CustomerID: "ann", Purchase: &day},
		{Sequence: 2, CustomerID: "ann", Purchase: &PurchaseDay{Day: 10135, Amount: 250}},
		{Sequence: 3, CustomerID: "ann", Kind: EventCustomerUpdated, Tags: []string{"x"}},
	})
	if len(muts) != 1 || !slices.Equal(muts[0].Purchases, []PurchaseDay{{Day: 10135, Amount: 750}}) {
		t.Errorf("PlanPage: got %+v, want one upsert with one purchase day of 750", muts)
	}
}
