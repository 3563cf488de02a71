package attribution

import (
	"fmt"
	"math"
	"testing"
)

// The buckets were computed independently (Python's hashlib).
func TestBucket(t *testing.T) {
	tests := []struct {
		campaign, customer string
		want               uint64
	}{
		{"spring-sale", "customer-1", 7617},
		{"spring-sale", "customer-2", 776},
		{"winback", "customer-1", 3211},
		{"", "", 3192},
	}
	for _, tt := range tests {
		if got := Bucket(tt.campaign, tt.customer); got != tt.want {
			t.Errorf("Bucket(%q, %q) = %d, want %d", tt.campaign, tt.customer, got, tt.want)
		}
	}
}

func TestInHoldout(t *testing.T) {
	tests := []struct {
		campaign, customer string
		percent            int
		want               bool
	}{
		{"spring-sale", "customer-2", 8, true},   // 776 < 800
		{"spring-sale", "customer-2", 7, false},  // 776 ≥ 700
		{"spring-sale", "customer-1", 50, false}, // 7617
		{"winback", "customer-1", 33, true},      // 3211 < 3300
		{"winback", "customer-1", 32, false},     // 3211 ≥ 3200
		{"winback", "customer-1", 0, false},
		{"winback", "customer-1", -5, false},
		{"spring-sale", "customer-2", 90, true}, // clamped to 50
		{"spring-sale", "customer-1", 90, false},
	}
	for _, tt := range tests {
		if got := InHoldout(tt.campaign, tt.customer, tt.percent); got != tt.want {
			t.Errorf("InHoldout(%q, %q, %d) = %v, want %v", tt.campaign, tt.customer, tt.percent, got, tt.want)
		}
	}
	// The share is close to the percent over many customers.
	in := 0
	for i := range 20000 {
		if InHoldout("campaign", fmt.Sprint("customer-", i), 10) {
			in++
		}
	}
	if in < 1800 || in > 2200 { // 2000 ± 5 standard deviations (42)
		t.Fatalf("%d of 20000 in a 10 %% holdout", in)
	}
}

func TestCompute(t *testing.T) {
	const eps = 1e-12
	near := func(a, b float64) bool { return math.Abs(a-b) < eps }
	tests := []struct {
		name               string
		treatment, control Group
		margin             int64
		want               Report
	}{
		{
			// pT 0.12, pC 0.08; SE = √(0.12·0.88/1000 + 0.08·0.92/250) = √0.0004 = 0.02;
			// incremental 1,500,000 − 250,000 × 1000/250 = 500,000; ROI (150,000 − 50,000)/50,000 = 2.
			name:      "holdout with a lift",
			treatment: Group{Members: 1000, Converters: 120, Orders: 150, Revenue: 1_500_000, DiscountCost: 50_000},
			control:   Group{Members: 250, Converters: 20, Orders: 25, Revenue: 250_000},
			margin:    3000,
			want: Report{
				TreatmentRate: 0.12, ControlRate: 0.08, Lift: 0.04, RelativeLift: 0.5, RelativeLiftDefined: true,
				LiftLow: 0.04 - 1.959964*0.02, LiftHigh: 0.04 + 1.959964*0.02, LiftDefined: true,
				IncrementalRevenue: 500_000, ROI: 2, ROIDefined: true,
			},
		},
		{
			// control scaled 1001 × 2/3 = 667.33 → 667; ROI (333 × 0.5 − 100)/100 = 0.665;
			// SE = √(0.5·0.5/2 + (1/3)(2/3)/3) = √(1/8 + 2/27).
			name:      "scaled control revenue rounds half up",
			treatment: Group{Members: 2, Converters: 1, Revenue: 1000, DiscountCost: 100},
			control:   Group{Members: 3, Converters: 1, Revenue: 1001},
			margin:    5000,
			want: Report{
				TreatmentRate: 0.5, ControlRate: 1.0 / 3, Lift: 0.5 - 1.0/3, RelativeLift: (0.5 - 1.0/3) * 3, RelativeLiftDefined: true,
				LiftLow: 0.5 - 1.0/3 - 1.959964*math.Sqrt(1.0/8+2.0/27), LiftHigh: 0.5 - 1.0/3 + 1.959964*math.Sqrt(1.0/8+2.0/27),
				LiftDefined: true, IncrementalRevenue: 333, ROI: 0.665, ROIDefined: true,
			},
		},
		{
			// 3 × 1/2 = 1.5 → 2; negative (refunds) −3 × 1/2 = −1.5 → −2.
			name:      "exact half",
			treatment: Group{Members: 1, Revenue: 10},
			control:   Group{Members: 2, Revenue: 3},
			want:      Report{LiftDefined: true, IncrementalRevenue: 8},
		},
		{
			name:      "negative control revenue rounds away from zero",
			treatment: Group{Members: 1, Revenue: 10},
			control:   Group{Members: 2, Revenue: -3},
			want:      Report{LiftDefined: true, IncrementalRevenue: 12},
		},
		{
			// SE = √(0.1·0.9/100 + 0) = 0.03.
			name:      "no control converter",
			treatment: Group{Members: 100, Converters: 10, Revenue: 5000, DiscountCost: 1000},
			control:   Group{Members: 100},
			margin:    2000,
			want: Report{
				TreatmentRate: 0.1, Lift: 0.1, LiftLow: 0.1 - 1.959964*0.03, LiftHigh: 0.1 + 1.959964*0.03, LiftDefined: true,
				IncrementalRevenue: 5000, ROI: 0, ROIDefined: true,
			},
		},
		{
			name:      "no holdout: no interval, all revenue incremental, no ROI without cost",
			treatment: Group{Members: 10, Converters: 5, Revenue: 700},
			want:      Report{TreatmentRate: 0.5, Lift: 0.5, IncrementalRevenue: 700},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compute(tt.treatment, tt.control, tt.margin)
			w := tt.want
			if got.Treatment != tt.treatment || got.Control != tt.control {
				t.Fatalf("groups %+v %+v not passed through", got.Treatment, got.Control)
			}
			if !near(got.TreatmentRate, w.TreatmentRate) || !near(got.ControlRate, w.ControlRate) || !near(got.Lift, w.Lift) ||
				!near(got.RelativeLift, w.RelativeLift) || got.RelativeLiftDefined != w.RelativeLiftDefined ||
				!near(got.LiftLow, w.LiftLow) || !near(got.LiftHigh, w.LiftHigh) || got.LiftDefined != w.LiftDefined ||
				got.IncrementalRevenue != w.IncrementalRevenue || !near(got.ROI, w.ROI) || got.ROIDefined != w.ROIDefined {
				t.Fatalf("got %+v\nwant %+v", got, w)
			}
		})
	}
}

func TestScaleHalfUpHuge(t *testing.T) {
	if got := scaleHalfUp(math.MaxInt64, math.MaxInt64, 1); got != math.MaxInt64 {
		t.Fatalf("got %d, want the largest int64", got)
	}
	if got := scaleHalfUp(math.MinInt64, 2, 1); got != math.MinInt64 {
		t.Fatalf("got %d, want the smallest int64", got)
	}
	if got := scaleHalfUp(math.MaxInt64, 3, 3); got != math.MaxInt64 {
		t.Fatalf("got %d, want the largest int64 exactly", got)
	}
}
