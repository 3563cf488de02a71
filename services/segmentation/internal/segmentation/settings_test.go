package segmentation

import (
	"errors"
	"reflect"
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
	const tierList = "vip, potential, regular, at_risk"
	type problem struct{ path, msg string }
	tests := []struct {
		name   string
		mutate func(*Settings)
		want   []problem // none means valid
	}{
		{"defaults", func(*Settings) {}, nil},
		{"fixed thresholds", thresholds, nil},
		{"thresholds ignored under quintile", func(s *Settings) { s.Thresholds.Recency = [4]int64{9, 1, 1, 1} }, nil},
		{"dormant equal to active", func(s *Settings) { s.Lifecycle.DormantDays = 90 }, nil},
		{"zero lifecycle", func(s *Settings) { s.Lifecycle = Lifecycle{} }, nil},
		{"negative new days", func(s *Settings) { s.Lifecycle.NewDays = -1 },
			[]problem{{"lifecycle.new_days", "must not be negative, got -1"}}},
		{"negative active days", func(s *Settings) { s.Lifecycle.ActiveDays = -1 },
			[]problem{{"lifecycle.active_days", "must not be negative, got -1"}}},
		{"dormant before active", func(s *Settings) { s.Lifecycle.DormantDays = 89 },
			[]problem{{"lifecycle.dormant_days", "must be at least lifecycle.active_days (90), got 89"}}},
		{"missing segment", func(s *Settings) { delete(s.Tiers, SegmentLost) },
			[]problem{{"tier_map.lost", "missing; every RFM segment needs a value tier (" + tierList + ")"}}},
		{"tier none", func(s *Settings) { s.Tiers[SegmentLoyal] = TierNone },
			[]problem{{"tier_map.loyal", "unknown value tier 0; valid tiers are " + tierList}}},
		{"unknown tier", func(s *Settings) { s.Tiers[SegmentLoyal] = 42 },
			[]problem{{"tier_map.loyal", "unknown value tier 42; valid tiers are " + tierList}}},
		{"segment none as key", func(s *Settings) { s.Tiers[SegmentNone] = TierVIP },
			[]problem{{"tier_map", "unknown RFM segment 0; valid segments are " + segmentNameList()}}},
		{"unknown method", func(s *Settings) { s.Method = 7 },
			[]problem{{"scoring_method", "unknown scoring method 7; valid methods are quintile and fixed_thresholds"}}},
		{"recency not ascending", func(s *Settings) { thresholds(s); s.Thresholds.Recency = [4]int64{7, 30, 30, 180} },
			[]problem{{"fixed_thresholds.recency_days", "cut points must be strictly ascending, got [7 30 30 180]"}}},
		{"recency negative", func(s *Settings) { thresholds(s); s.Thresholds.Recency[0] = -1 },
			[]problem{{"fixed_thresholds.recency_days", "first cut point must be at least 0, got -1"}}},
		{"frequency cut at one", func(s *Settings) { thresholds(s); s.Thresholds.Frequency = [4]int64{1, 2, 3, 4} },
			[]problem{{"fixed_thresholds.frequency", "first cut point must be at least 2, got 1"}}},
		{"monetary descending", func(s *Settings) { thresholds(s); s.Thresholds.Monetary = [4]int64{4, 3, 2, 1} },
			[]problem{{"fixed_thresholds.monetary_minor", "cut points must be strictly ascending, got [4 3 2 1]"}}},
		{"fixed thresholds without thresholds", func(s *Settings) { s.Method = MethodFixedThresholds },
			[]problem{{"fixed_thresholds", "required when scoring_method is SCORING_METHOD_FIXED_THRESHOLDS"}}},
		{"one dimension left out", func(s *Settings) { thresholds(s); s.Thresholds.Frequency = [4]int64{} },
			[]problem{{"fixed_thresholds.frequency", "first cut point must be at least 2, got 0"},
				{"fixed_thresholds.frequency", "cut points must be strictly ascending, got [0 0 0 0]"}}},
		{"several problems at once", func(s *Settings) { s.Lifecycle.NewDays = -5; delete(s.Tiers, SegmentChampions) },
			[]problem{{"lifecycle.new_days", "must not be negative, got -5"},
				{"tier_map.champions", "missing; every RFM segment needs a value tier (" + tierList + ")"}}},
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
			var se *SettingsError
			if !errors.As(err, &se) {
				t.Fatalf("Validate() = %T, want *SettingsError", err)
			}
			var got []problem
			for _, p := range se.Problems {
				if !errors.Is(p, ErrInvalidSettings) {
					t.Errorf("problem %v does not wrap ErrInvalidSettings", p)
				}
				got = append(got, problem{p.Field(), p.Description()})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems = %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestSettingsErrorMessage(t *testing.T) {
	s := DefaultSettings()
	s.Tiers = TierMap{SegmentChampions: TierVIP}
	err := s.Validate()
	want := "segmentation: invalid settings: 10 problems; first: tier_map.loyal: missing; " +
		"every RFM segment needs a value tier (vip, potential, regular, at_risk)"
	if err == nil || err.Error() != want {
		t.Errorf("Validate() = %q, want %q", err, want)
	}
	s = DefaultSettings()
	s.Lifecycle.NewDays = -1
	want = "segmentation: invalid settings: lifecycle.new_days: must not be negative, got -1"
	if err := s.Validate(); err == nil || err.Error() != want {
		t.Errorf("Validate() = %q, want %q", err, want)
	}
}

func TestParseTierMap(t *testing.T) {
	got, probs := ParseTierMap(map[string]string{"champions": "vip", "loyal": "gold", "kings": "vip"})
	if want := (TierMap{SegmentChampions: TierVIP}); !reflect.DeepEqual(got, want) {
		t.Errorf("ParseTierMap = %v, want %v", got, want)
	}
	var fields []string
	for _, p := range probs {
		fields = append(fields, p.Field()+": "+p.Description())
	}
	want := []string{
		`tier_map.kings: unknown RFM segment "kings"; valid segments are ` + segmentNameList(),
		`tier_map.loyal: unknown value tier "gold"; valid tiers are vip, potential, regular, at_risk`,
	}
	if !reflect.DeepEqual(fields, want) {
		t.Errorf("problems = %q\nwant %q", fields, want)
	}
}

func TestSettingsEqual(t *testing.T) {
	a, b := DefaultSettings(), DefaultSettings()
	if !a.Equal(b) {
		t.Error("defaults differ")
	}
	b.Tiers[SegmentLost] = TierRegular
	if a.Equal(b) {
		t.Error("different tier maps compare equal")
	}
	b = DefaultSettings()
	b.Thresholds.Monetary[3] = 1
	if a.Equal(b) {
		t.Error("different thresholds compare equal")
	}
}

func TestDefaultSettingsIndependent(t *testing.T) {
	a := DefaultSettings()
	a.Tiers[SegmentLost] = TierVIP
	if b := DefaultSettings(); b.Tiers[SegmentLost] != TierAtRisk {
		t.Error("DefaultSettings shares its tier map between calls")
	}
}
