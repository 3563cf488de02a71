package segmentation

import (
	"errors"
	"fmt"
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
}

// DefaultTierMap returns a new copy of the tier map in ARCHITECTURE.md.
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

// Validate reports every problem with s, each wrapping ErrInvalidSettings
// and naming the field, joined into one error; nil if s is valid.
func (s Settings) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidSettings}, args...)...))
	}

	lc := s.Lifecycle
	if lc.NewDays < 0 {
		bad("lifecycle.new_days must not be negative, got %d", lc.NewDays)
	}
	if lc.ActiveDays < 0 {
		bad("lifecycle.active_days must not be negative, got %d", lc.ActiveDays)
	}
	if lc.DormantDays < lc.ActiveDays {
		bad("lifecycle.dormant_days (%d) must not be less than lifecycle.active_days (%d)", lc.DormantDays, lc.ActiveDays)
	}

	if len(s.Tiers) == 0 {
		bad("tiers must map every rfm segment to a value tier, got an empty map")
	} else {
		// Walk every possible key so the messages come out in a stable order.
		for k := 0; k <= 255; k++ {
			seg := Segment(k)
			tier, ok := s.Tiers[seg]
			switch {
			case !ok:
			case !seg.Valid():
				bad("tiers has an unknown rfm segment %d", k)
			case !tier.Valid():
				bad("tiers[%s] has an unknown value tier %d", seg, uint8(tier))
			}
		}
		for _, seg := range Segments() {
			if _, ok := s.Tiers[seg]; !ok {
				bad("tiers has no value tier for rfm segment %s", seg)
			}
		}
	}

	switch s.Method {
	case MethodQuintile:
	case MethodFixedThresholds:
		t := s.Thresholds
		checkCuts := func(field string, c [4]int64, min int64) {
			if c[0] < min {
				bad("thresholds.%s[0] must be at least %d, got %d", field, min, c[0])
			}
			for i := 1; i < len(c); i++ {
				if c[i] <= c[i-1] {
					bad("thresholds.%s must be strictly ascending, got %v", field, c)
					return
				}
			}
		}
		checkCuts("recency", t.Recency, 0)
		checkCuts("frequency", t.Frequency, 2)
		checkCuts("monetary", t.Monetary, minInt64)
	default:
		bad("method %d is unknown", uint8(s.Method))
	}
	return errors.Join(errs...)
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
