package grpcapi

import (
	"testing"

	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	"github.com/tenurehq/tenure/services/promotion/internal/pricing"
)

// TestNotAppliedReasons checks every reason of the engine has its value in
// the API's NotAppliedReason, and the API has no value the engine never
// gives.
func TestNotAppliedReasons(t *testing.T) {
	engine := map[string]bool{}
	for _, r := range pricing.Reasons() {
		engine[string(r)] = true
		n := fromResult(pricing.Result{NotApplied: []pricing.NotApplied{{Reason: r}}}).GetNotApplied()[0]
		if n.GetReason().String() != string(r) {
			t.Errorf("reason %s converts to %v", r, n.GetReason())
		}
	}
	for name, v := range promotionv1.NotAppliedReason_value {
		if v != 0 && !engine[name] {
			t.Errorf("NotAppliedReason %s is never given", name)
		}
	}
}
