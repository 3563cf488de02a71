package segmentation

import "fmt"

// Segment is an RFM segment, derived from a customer's R and F scores.
// The zero value, SegmentNone, is the segment of a customer without orders.
type Segment uint8

// RFM segments, named as in docs/concepts.md.
const (
	SegmentNone Segment = iota
	SegmentChampions
	SegmentLoyal
	SegmentPotentialLoyalist
	SegmentNewCustomer
	SegmentPromising
	SegmentNeedAttention
	SegmentAboutToSleep
	SegmentAtRisk
	SegmentCantLose
	SegmentHibernating
	SegmentLost

	numSegments = iota
)

var segmentNames = [numSegments]string{
	SegmentNone:              "",
	SegmentChampions:         "champions",
	SegmentLoyal:             "loyal",
	SegmentPotentialLoyalist: "potential_loyalist",
	SegmentNewCustomer:       "new_customer",
	SegmentPromising:         "promising",
	SegmentNeedAttention:     "need_attention",
	SegmentAboutToSleep:      "about_to_sleep",
	SegmentAtRisk:            "at_risk",
	SegmentCantLose:          "cant_lose",
	SegmentHibernating:       "hibernating",
	SegmentLost:              "lost",
}

// Segments lists every real RFM segment (not SegmentNone) in declaration order.
func Segments() []Segment {
	out := make([]Segment, 0, numSegments-1)
	for s := SegmentChampions; s < numSegments; s++ {
		out = append(out, s)
	}
	return out
}

// String returns the lower snake name ("champions", …), or "" for SegmentNone.
func (s Segment) String() string {
	if s >= numSegments {
		return fmt.Sprintf("Segment(%d)", uint8(s))
	}
	return segmentNames[s]
}

// Valid reports whether s is one of the eleven RFM segments.
func (s Segment) Valid() bool { return s > SegmentNone && s < numSegments }

// ParseSegment returns the segment with the given lower snake name.
func ParseSegment(name string) (Segment, error) {
	for s := SegmentChampions; s < numSegments; s++ {
		if segmentNames[s] == name {
			return s, nil
		}
	}
	return SegmentNone, fmt.Errorf("segmentation: unknown rfm segment %q", name)
}

// MarshalText implements encoding.TextMarshaler, so a TierMap encodes with names as keys.
func (s Segment) MarshalText() ([]byte, error) {
	if s >= numSegments {
		return nil, fmt.Errorf("segmentation: unknown rfm segment %d", uint8(s))
	}
	return []byte(segmentNames[s]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; "" decodes to SegmentNone.
func (s *Segment) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*s = SegmentNone
		return nil
	}
	v, err := ParseSegment(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Tier is a value tier. The zero value, TierNone, is the tier of a customer without orders.
type Tier uint8

// Value tiers, named as in docs/concepts.md.
const (
	TierNone Tier = iota
	TierVIP
	TierPotential
	TierRegular
	TierAtRisk

	numTiers = iota
)

var tierNames = [numTiers]string{
	TierNone:      "",
	TierVIP:       "vip",
	TierPotential: "potential",
	TierRegular:   "regular",
	TierAtRisk:    "at_risk",
}

// String returns the lower snake name ("vip", …), or "" for TierNone.
func (t Tier) String() string {
	if t >= numTiers {
		return fmt.Sprintf("Tier(%d)", uint8(t))
	}
	return tierNames[t]
}

// Valid reports whether t is one of the four value tiers.
func (t Tier) Valid() bool { return t > TierNone && t < numTiers }

// ParseTier returns the tier with the given lower snake name.
func ParseTier(name string) (Tier, error) {
	for t := TierVIP; t < numTiers; t++ {
		if tierNames[t] == name {
			return t, nil
		}
	}
	return TierNone, fmt.Errorf("segmentation: unknown value tier %q", name)
}

// MarshalText implements encoding.TextMarshaler.
func (t Tier) MarshalText() ([]byte, error) {
	if t >= numTiers {
		return nil, fmt.Errorf("segmentation: unknown value tier %d", uint8(t))
	}
	return []byte(tierNames[t]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; "" decodes to TierNone.
func (t *Tier) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*t = TierNone
		return nil
	}
	v, err := ParseTier(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// Stage is a lifecycle stage. Every scored customer has one; the zero value,
// StageUnspecified, is never returned by Score.
type Stage uint8

// Lifecycle stages, named as in docs/concepts.md.
const (
	StageUnspecified Stage = iota
	StageProspect
	StageNew
	StageActive
	StageDormant
	StageChurned

	numStages = iota
)

var stageNames = [numStages]string{
	StageUnspecified: "",
	StageProspect:    "prospect",
	StageNew:         "new",
	StageActive:      "active",
	StageDormant:     "dormant",
	StageChurned:     "churned",
}

// String returns the lower snake name ("prospect", …).
func (s Stage) String() string {
	if s >= numStages {
		return fmt.Sprintf("Stage(%d)", uint8(s))
	}
	return stageNames[s]
}

// ParseStage returns the stage with the given lower snake name.
func ParseStage(name string) (Stage, error) {
	for s := StageProspect; s < numStages; s++ {
		if stageNames[s] == name {
			return s, nil
		}
	}
	return StageUnspecified, fmt.Errorf("segmentation: unknown lifecycle stage %q", name)
}

// MarshalText implements encoding.TextMarshaler.
func (s Stage) MarshalText() ([]byte, error) {
	if s >= numStages {
		return nil, fmt.Errorf("segmentation: unknown lifecycle stage %d", uint8(s))
	}
	return []byte(stageNames[s]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Stage) UnmarshalText(b []byte) error {
	v, err := ParseStage(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}
