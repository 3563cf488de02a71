package segmentation

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

// ErrInvalidSettings is wrapped by every error Settings.Validate returns.
var ErrInvalidSettings = errors.New("segmentation: invalid settings")

// Method is how R, F and M values become 1–5 scores.
type Method uint8

const (
	// MethodQuintile is the default: score = 1 + floor(5 × W / N), where W
	// is the number of scored customers with a strictly worse value and N
	// the number of scored customers.
	MethodQuintile Method = iota
	// MethodFixedThresholds scores each dimension against four fixed cut
	// points (see Thresholds).
	MethodFixedThresholds
)

// String returns "quintile" or "fixed_thresholds".
func (m Method) String() string {
	switch m {
	case MethodQuintile:
		return "quintile"
	case MethodFixedThresholds:
		return "fixed_thresholds"
	}
	return fmt.Sprintf("Method(%d)", uint8(m))
}

// Thresholds holds four strictly ascending cut points per dimension for
// MethodFixedThresholds. With cut points c1 < c2 < c3 < c4:
//
//	Frequency and Monetary (higher is better): score = 1 + the number of
//	cut points c with value ≥ c, so value < c1 → 1, c1 ≤ value < c2 → 2,
//	…, value ≥ c4 → 5.
//
//	Recency in days (lower is better): score = 5 − the number of cut points
//	c with days > c, so days ≤ c1 → 5, c1 < days ≤ c2 → 4, …, days > c4 → 1.
//
// Validation requires every score to be reachable: Recency c1 ≥ 0 (days
// are never negative) and Frequency c1 ≥ 2 (a scored customer has at least
// one order). Monetary cut points may be any integers, in minor units.
type Thresholds struct {
	Recency   [4]int64
	Frequency [4]int64
	Monetary  [4]int64
}

// Lifecycle holds the lifecycle stage thresholds in whole days.
// For a customer with at least one order, in this order of precedence:
// new if days since the first order ≤ NewDays; active if days since the
// last order ≤ ActiveDays; dormant if ≤ DormantDays; churned otherwise.
type Lifecycle struct {
	NewDays     int64
	ActiveDays  int64
	DormantDays int64
}

// TierMap assigns each RFM segment a value tier. A valid map covers all
// eleven segments.
type TierMap map[Segment]Tier

// Settings configure Score.
type Settings struct {
	Lifecycle Lifecycle
	Tiers     TierMap
	Method    Method
	// Thresholds is used only when Method is MethodFixedThresholds.
	Thresholds Thresholds
	// IncludeRepurchases lets recommendations include items the customer
	// already bought (off: only new items).
	IncludeRepurchases bool `json:",omitempty"`
	// Prediction configures the prediction models' outputs; zero fields
	// take their defaults (see PredictionSettings).
	Prediction PredictionSettings
}

// DefaultTierMap returns a new copy of the tier map in docs/concepts.md.
func DefaultTierMap() TierMap {
	return TierMap{
		SegmentChampions:         TierVIP,
		SegmentLoyal:             TierVIP,
		SegmentPotentialLoyalist: TierPotential,
		SegmentNewCustomer:       TierPotential,
		SegmentPromising:         TierPotential,
		SegmentNeedAttention:     TierRegular,
		SegmentAboutToSleep:      TierAtRisk,
		SegmentAtRisk:            TierAtRisk,
		SegmentCantLose:          TierAtRisk,
		SegmentHibernating:       TierAtRisk,
		SegmentLost:              TierAtRisk,
	}
}

// DefaultSettings returns the documented defaults: new ≤ 30 days, active
// ≤ 90, dormant ≤ 180, the default tier map and the quintile method.
func DefaultSettings() Settings {
	return Settings{
		Lifecycle: Lifecycle{NewDays: 30, ActiveDays: 90, DormantDays: 180},
		Tiers:     DefaultTierMap(),
		Method:    MethodQuintile,
	}
}

// SettingsError lists every problem with a settings value. Each problem is
// a *fielderr.Error wrapping ErrInvalidSettings whose Path is the field's path
// in the API's Settings message, e.g. "tier_map.loyal" or
// "fixed_thresholds.recency_days", so that each becomes its own field
// violation. Its message is a short summary naming the first problem.
type SettingsError struct {
	Problems []*fielderr.Error
}

func (e *SettingsError) Error() string {
	switch len(e.Problems) {
	case 0:
		return ErrInvalidSettings.Error()
	case 1:
		return fmt.Sprintf("%s: %s", ErrInvalidSettings, e.Problems[0])
	}
	return fmt.Sprintf("%s: %d problems; first: %s", ErrInvalidSettings, len(e.Problems), e.Problems[0])
}

// Unwrap returns the problems.
func (e *SettingsError) Unwrap() []error {
	out := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p
	}
	return out
}

// Is reports whether target is ErrInvalidSettings, even with no problems.
func (e *SettingsError) Is(target error) bool { return target == ErrInvalidSettings }

// SettingsProblem returns a problem with the settings field at path.
func SettingsProblem(path, format string, args ...any) *fielderr.Error {
	return &fielderr.Error{Path: path, Problem: fmt.Sprintf(format, args...), Err: ErrInvalidSettings}
}

// settingsProblems collects problems in the order they are found.
type settingsProblems []*fielderr.Error

func (p *settingsProblems) add(path, format string, args ...any) {
	*p = append(*p, SettingsProblem(path, format, args...))
}

// err returns nil without problems, else a *SettingsError.
func (p settingsProblems) err() error {
	if len(p) == 0 {
		return nil
	}
	return &SettingsError{Problems: p}
}

// tierNameList is "vip, potential, regular, at_risk".
func tierNameList() string {
	names := make([]string, 0, numTiers-1)
	for t := TierVIP; t < numTiers; t++ {
		names = append(names, t.String())
	}
	return strings.Join(names, ", ")
}

// segmentNameList is "champions, loyal, …, lost".
func segmentNameList() string {
	names := make([]string, 0, numSegments-1)
	for _, s := range Segments() {
		names = append(names, s.String())
	}
	return strings.Join(names, ", ")
}

// ParseTierMap converts a map from RFM segment names to value tier names
// into a TierMap. Every unknown name is a problem at "tier_map.<key>" that
// lists the allowed values; coverage is checked by Validate.
func ParseTierMap(names map[string]string) (TierMap, []*fielderr.Error) {
	var probs settingsProblems
	keys := slices.Sorted(maps.Keys(names))
	m := make(TierMap, len(names))
	for _, k := range keys {
		seg, err := ParseSegment(k)
		if err != nil {
			probs.add("tier_map."+k, "unknown RFM segment %q; valid segments are %s", k, segmentNameList())
			continue
		}
		tier, err := ParseTier(names[k])
		if err != nil {
			probs.add("tier_map."+k, "unknown value tier %q; valid tiers are %s", names[k], tierNameList())
			continue
		}
		m[seg] = tier
	}
	return m, probs
}

// Validate reports every problem with s as a *SettingsError (which wraps
// ErrInvalidSettings); nil if s is valid. Problems are in a stable order:
// lifecycle, tier map (by segment), scoring method and thresholds.
func (s Settings) Validate() error {
	var probs settingsProblems

	lc := s.Lifecycle
	if lc.NewDays < 0 {
		probs.add("lifecycle.new_days", "must not be negative, got %d", lc.NewDays)
	}
	if lc.ActiveDays < 0 {
		probs.add("lifecycle.active_days", "must not be negative, got %d", lc.ActiveDays)
	}
	if lc.DormantDays < lc.ActiveDays {
		probs.add("lifecycle.dormant_days", "must be at least lifecycle.active_days (%d), got %d", lc.ActiveDays, lc.DormantDays)
	}

	for _, seg := range Segments() {
		tier, ok := s.Tiers[seg]
		switch {
		case !ok:
			probs.add("tier_map."+seg.String(), "missing; every RFM segment needs a value tier (%s)", tierNameList())
		case !tier.Valid():
			probs.add("tier_map."+seg.String(), "unknown value tier %d; valid tiers are %s", uint8(tier), tierNameList())
		}
	}
	// Keys that are no segment can only come from Go callers; walk every
	// possible key so the problems come out in a stable order.
	for k := 0; k <= 255; k++ {
		if _, ok := s.Tiers[Segment(k)]; ok && !Segment(k).Valid() {
			probs.add("tier_map", "unknown RFM segment %d; valid segments are %s", k, segmentNameList())
		}
	}

	switch s.Method {
	case MethodQuintile:
	case MethodFixedThresholds:
		t := s.Thresholds
		if t == (Thresholds{}) {
			probs.add("fixed_thresholds", "required when scoring_method is SCORING_METHOD_FIXED_THRESHOLDS")
			break
		}
		checkCuts := func(field string, c [4]int64, min int64) {
			path := "fixed_thresholds." + field
			if c[0] < min {
				probs.add(path, "first cut point must be at least %d, got %d", min, c[0])
			}
			for i := 1; i < len(c); i++ {
				if c[i] <= c[i-1] {
					probs.add(path, "cut points must be strictly ascending, got %v", c)
					return
				}
			}
		}
		checkCuts("recency_days", t.Recency, 0)
		checkCuts("frequency", t.Frequency, 2)
		checkCuts("monetary_minor", t.Monetary, minInt64)
	default:
		probs.add("scoring_method", "unknown scoring method %d; valid methods are %s and %s", uint8(s.Method), MethodQuintile, MethodFixedThresholds)
	}
	s.Prediction.validate(&probs)
	return probs.err()
}

// Equal reports whether s and o are the same settings.
func (s Settings) Equal(o Settings) bool {
	return s.Lifecycle == o.Lifecycle && s.Method == o.Method && s.Thresholds == o.Thresholds && maps.Equal(s.Tiers, o.Tiers) &&
		s.IncludeRepurchases == o.IncludeRepurchases &&
		s.Prediction == o.Prediction
}

const minInt64 = -1 << 63

// tierTable is the TierMap flattened for the scoring loop.
func (m TierMap) table() [numSegments]Tier {
	var t [numSegments]Tier
	for seg, tier := range m {
		if seg < numSegments {
			t[seg] = tier
		}
	}
	return t
}
