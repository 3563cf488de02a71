package segmentation

import (
	"errors"
	"strings"
	"testing"
)

func TestSettingsValidate(t *testing.T) {
	thresholds := func(s *Settings) {
		s.Method = MethodFixedThresholds
		s.Thresholds = Thresholds{
			Recency:   [4]int64{7, 30, 90, 180},
			Frequency: [4]int64{2, 3, 5, 10},
			Monetary:  [4]int64{-100, 0, 5000, 20000},
		}
	}
	tests := []struct {
		name   string
		mutate func(*Settings)
		want   []string // substrings of the error; none means valid
	}{
		{"defaults", func(*Settings) {}, nil},
		{"fixed thresholds", thresholds, nil},
		{"thresholds ignored under quintile", func(s *Settings) { s.Thresholds.Recency = [4]int64{9, 1, 1, 1} }, nil},
		{"dormant equal to active", func(s *Settings) { s.Lifecycle.DormantDays = 90 }, nil},
		{"zero lifecycle", func(s *Settings) { s.Lifecycle = Lifecycle{} }, nil},
		{"negative new days", func(s *Settings) { s.Lifecycle.NewDays = -1 }, []string{"lifecycle.new_days must not be negative, got -1"}},
		{"negative active days", func(s *Settings) { s.Lifecycle.ActiveDays = -1 }, []string{"lifecycle.active_days"}},
		{"dormant before active", func(s *Settings) { s.Lifecycle.DormantDays = 89 }, []string{"lifecycle.dormant_days (89) must not be less than lifecycle.active_days (90)"}},
		{"nil tiers", func(s *Settings) { s.Tiers = nil }, []string{"tiers must map every rfm segment"}},
		{"missing segment", func(s *Settings) { delete(s.Tiers, SegmentLost) }, []string{"tiers has no value tier for rfm segment lost"}},
		{"tier none", func(s *Settings) { s.Tiers[SegmentLoyal] = TierNone }, []string{"tiers[loyal] has an unknown value tier 0"}},
		{"unknown tier", func(s *Settings) { s.Tiers[SegmentLoyal] = 42 }, []string{"tiers[loyal] has an unknown value tier 42"}},
		{"segment none as key", func(s *Settings) { s.Tiers[SegmentNone] = TierVIP }, []string{"tiers has an unknown rfm segment 0"}},
		{"unknown segment", func(s *Settings) { s.Tiers[99] = TierVIP }, []string{"tiers has an unknown rfm segment 99"}},
		{"unknown method", func(s *Settings) { s.Method = 7 }, []string{"method 7 is unknown"}},
		{"recency not ascending", func(s *Settings) { thresholds(s); s.Thresholds.Recency = [4]int64{7, 30, 30, 180} },
			[]string{"thresholds.recency must be strictly ascending, got [7 30 30 180]"}},
		{"recency negative", func(s *Settings) { thresholds(s); s.Thresholds.Recency[0] = -1 },
			[]string{"thresholds.recency[0] must be at least 0, got -1"}},
		{"frequency cut at one", func(s *Settings) { thresholds(s); s.Thresholds.Frequency = [4]int64{1, 2, 3, 4} },
			[]string{"thresholds.frequency[0] must be at least 2, got 1"}},
		{"monetary descending", func(s *Settings) { thresholds(s); s.Thresholds.Monetary = [4]int64{4, 3, 2, 1} },
			[]string{"thresholds.monetary must be strictly ascending"}},
		{"zero thresholds", func(s *Settings) { s.Method = MethodFixedThresholds },
			[]string{"thresholds.recency must be strictly ascending", "thresholds.frequency[0] must be at least 2", "thresholds.monetary must be strictly ascending"}},
		{"several problems at once", func(s *Settings) { s.Lifecycle.NewDays = -5; delete(s.Tiers, SegmentChampions) },
			[]string{"lifecycle.new_days", "rfm segment champions"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := DefaultSettings()
			tt.mutate(&s)
			err := s.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidSettings) {
				t.Fatalf("Validate() = %v, want ErrInvalidSettings", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestDefaultSettingsIndependent(t *testing.T) {
	a := DefaultSettings()
	a.Tiers[SegmentLost] = TierVIP
	if b := DefaultSettings(); b.Tiers[SegmentLost] != TierAtRisk {
		t.Error("DefaultSettings shares its tier map between calls")
	}
}
