package rules

import (
	"testing"

	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

func TestPredictionVariables(t *testing.T) {
	env := newEnv(t)
	atRisk := &segmentation.Prediction{Predicted: true, PAlive: 0.31, ExpectedPurchases: 0.4, ExpectedOrderValue: 2465, CLV: 3587.5}
	keen := &segmentation.Prediction{Predicted: true, PAlive: 0.97, ExpectedPurchases: 2.5, ExpectedOrderValue: 5000, CLV: 40000}
	vipAtRisk := `tier == "vip" && prediction.predicted && prediction.p_alive < 0.5`
	tests := []struct {
		name    string
		expr    string
		subject *Subject
		want    bool
	}{
		{"at-risk VIP", vipAtRisk, &Subject{Customer: &loyalCustomer, Result: &loyalResult, Prediction: atRisk}, true},
		{"keen VIP", vipAtRisk, &Subject{Customer: &loyalCustomer, Result: &loyalResult, Prediction: keen}, false},
		{"no prediction", `!prediction.predicted && prediction.p_alive == 0.0 && prediction.clv == 0.0`, &Subject{Customer: &prospect, Result: &prospectResult}, true},
		{"fields", `prediction.expected_purchases > 2.0 && prediction.clv >= 40000.0 && prediction.expected_order_value == 5000.0`,
			&Subject{Prediction: keen}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := eval(t, env, tt.expr, tt.subject)
			if errs != 0 || got != tt.want {
				t.Errorf("got %v (%d errors), want %v", got, errs, tt.want)
			}
		})
	}
	if _, err := env.Compile(`prediction.p_alive > "x"`); err == nil {
		t.Error("comparing p_alive with a string compiled; want a type error")
	}
}
