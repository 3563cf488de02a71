package feedback

import (
	"math"
	"testing"
)

func TestScore(t *testing.T) {
	tests := []struct {
		name                string
		kind                SurveyKind
		scores              []int
		value               float64
		promoters, passives int64
		detractors          int64
		low, high           float64
	}{
		{"issue example", KindNPS, []int{10, 10, 9, 9, 9, 8, 7, 7, 6, 0}, 30, 5, 3, 2, -18.4, 78.4},
		{"all promoters", KindNPS, []int{9, 10, 10}, 100, 3, 0, 0, 100, 100},
		{"all detractors", KindNPS, []int{0, 6}, -100, 0, 0, 2, -100, -100},
		{"csat", KindCSAT, []int{5, 4, 3, 2}, 50, 2, 1, 1, 15.0, 85.0},
		{"no answers", KindNPS, nil, 0, 0, 0, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Score
			for _, v := range tt.scores {
				s.Tally(tt.kind, v)
			}
			s.Finish(tt.kind)
			if s.Value != tt.value || s.Promoters != tt.promoters || s.Passives != tt.passives || s.Detractors != tt.detractors {
				t.Fatalf("got %v (%d/%d/%d), want %v (%d/%d/%d)", s.Value, s.Promoters, s.Passives, s.Detractors,
					tt.value, tt.promoters, tt.passives, tt.detractors)
			}
			if math.Abs(s.Low-tt.low) > 0.1 || math.Abs(s.High-tt.high) > 0.1 {
				t.Fatalf("interval [%.1f, %.1f], want [%.1f, %.1f]", s.Low, s.High, tt.low, tt.high)
			}
		})
	}
}

func TestBandOf(t *testing.T) {
	for _, tt := range []struct {
		kind  SurveyKind
		score int
		want  Band
	}{{KindNPS, 9, Promoter}, {KindNPS, 8, Passive}, {KindNPS, 7, Passive}, {KindNPS, 6, Detractor}, {KindNPS, 0, Detractor},
		{KindCSAT, 4, Promoter}, {KindCSAT, 3, Passive}, {KindCSAT, 2, Detractor}} {
		if got := BandOf(tt.kind, tt.score); got != tt.want {
			t.Errorf("BandOf(%s, %d) = %d, want %d", tt.kind, tt.score, got, tt.want)
		}
	}
}
