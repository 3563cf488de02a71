package loyalty

import (
	"math"
	"testing"
	"time"
)

func TestEarnPoints(t *testing.T) {
	tests := []struct {
		name                string
		total               int64
		currency            string
		perUnit, multiplier int64
		want                int64
	}{
		{"123.45 GBP, 1 pt per GBP, gold at 150 %", 12345, "GBP", 1, 150, 185},
		{"123.45 GBP at 100 % rounds down", 12345, "GBP", 1, 100, 123},
		{"0.99 GBP earns nothing", 99, "GBP", 1, 100, 0},
		{"10 points per EUR", 1999, "EUR", 10, 100, 199},
		{"JPY has no minor unit", 1500, "JPY", 1, 100, 1500},
		{"KWD has three decimals", 12345, "KWD", 2, 100, 24},
		{"a negative total earns nothing", -500, "GBP", 1, 100, 0},
		{"no points per unit", 12345, "GBP", 0, 100, 0},
		{"a 0 % tier earns nothing", 12345, "GBP", 1, 0, 0},
		{"huge products stay exact", math.MaxInt64 / 10, "GBP", 1000, 1000, math.MaxInt64},
		{"exact beyond 64 bits", 1 << 40, "GBP", 1 << 20, 10000, 1 << 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EarnPoints(tt.total, tt.currency, tt.perUnit, tt.multiplier); got != tt.want {
				t.Fatalf("EarnPoints = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestKeptPoints(t *testing.T) {
	tests := []struct {
		name                    string
		earned, total, refunded int64
		want                    int64
	}{
		{"E=90, T=9000, refund 2700 keeps 63", 90, 9000, 2700, 63},
		{"a second refund of 2700 is cumulative", 90, 9000, 5400, 36},
		{"a full refund keeps 0", 90, 9000, 9000, 0},
		{"more than the total keeps 0", 90, 9000, 10000, 0},
		{"no refund keeps all", 90, 9000, 0, 90},
		{"rounds down", 10, 3000, 1000, 6},
		{"an order without a total keeps all", 5, 0, 100, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := KeptPoints(tt.earned, tt.total, tt.refunded); got != tt.want {
				t.Fatalf("KeptPoints = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestRefundPoints(t *testing.T) {
	if got := RefundPoints(2750, "GBP", 1); got != 27 {
		t.Fatalf("RefundPoints(27.50 GBP) = %d, want 27", got)
	}
}

func TestAddMonths(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		from   string
		months int
		want   string
	}{
		{"2023-01-31T15:04:05Z", 1, "2023-02-28T15:04:05Z"},
		{"2024-01-31T15:04:05Z", 1, "2024-02-29T15:04:05Z"},
		{"2024-03-31T00:00:00Z", 1, "2024-04-30T00:00:00Z"},
		{"2024-12-15T08:00:00Z", 2, "2025-02-15T08:00:00Z"},
		{"2024-02-29T10:00:00Z", 12, "2025-02-28T10:00:00Z"},
		{"2024-01-30T10:00:00Z", 25, "2026-02-28T10:00:00Z"},
	}
	for _, tt := range tests {
		if got := AddMonths(at(tt.from), tt.months); !got.Equal(at(tt.want)) {
			t.Errorf("AddMonths(%s, %d) = %s, want %s", tt.from, tt.months, got.Format(time.RFC3339), tt.want)
		}
	}
	if !ExpiryOf(at(tests[0].from), 0).IsZero() {
		t.Error("ExpiryOf with 0 months should never expire")
	}
}

func TestIsBirthday(t *testing.T) {
	tests := []struct {
		birthday, day string
		want          bool
	}{
		{"1990-06-15", "2025-06-15", true},
		{"1990-06-15", "2025-06-16", false},
		{"1992-02-29", "2025-02-28", true},
		{"1992-02-29", "2024-02-28", false},
		{"1992-02-29", "2024-02-29", true},
		{"1992-02-29", "2025-03-01", false},
		{"1990-02-28", "2024-02-28", true},
		{"not a date", "2024-02-28", false},
	}
	for _, tt := range tests {
		if got := IsBirthday(tt.birthday, tt.day); got != tt.want {
			t.Errorf("IsBirthday(%s, %s) = %v, want %v", tt.birthday, tt.day, got, tt.want)
		}
	}
}

func TestReviewCredit(t *testing.T) {
	p := Programme{ReviewPoints: 10, QualityReviewBonus: 15, QualityReviewMinLength: 200}
	tests := []struct {
		name string
		r    Review
		want int64
	}{
		{"short, no photo", Review{Length: 50}, 10},
		{"with a photo", Review{Length: 5, HasPhoto: true}, 25},
		{"long enough", Review{Length: 200}, 25},
		{"one short", Review{Length: 199}, 10},
	}
	for _, tt := range tests {
		if got := p.ReviewCredit(tt.r); got != tt.want {
			t.Errorf("%s: ReviewCredit = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestOrderTotal(t *testing.T) {
	lines := []Line{{Quantity: 2, UnitMinor: 500, DiscountMinor: 100}, {Quantity: 1, UnitMinor: 300}}
	if got := OrderTotal(Event{Lines: lines, OrderDiscount: 200}); got != 1000 {
		t.Errorf("total from lines = %d, want 2×500−100+300−200 = 1000", got)
	}
	if got := OrderTotal(Event{Lines: lines, HasTotal: true, AmountMinor: 777}); got != 777 {
		t.Errorf("total with the event's total = %d, want 777", got)
	}
}
