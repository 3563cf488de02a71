package segmentation

import (
	"fmt"
	"strings"
)

// AudienceKind is the kind of group an audience name refers to.
type AudienceKind uint8

const (
	AudienceSegment    AudienceKind = iota + 1 // "segments/{id}": a rule or static segment
	AudienceTier                               // "tiers/{tier}"
	AudienceStage                              // "stages/{stage}"
	AudienceRFMSegment                         // "rfmSegments/{segment}"
)

// Audience is a parsed audience name.
type Audience struct {
	Kind AudienceKind
	Key  string // segment id, tier, stage or RFM segment name
}

// String returns the audience name.
func (a Audience) String() string {
	switch a.Kind {
	case AudienceSegment:
		return segmentsPrefix + a.Key
	case AudienceTier:
		return tiersPrefix + a.Key
	case AudienceStage:
		return stagesPrefix + a.Key
	case AudienceRFMSegment:
		return rfmSegmentsPrefix + a.Key
	}
	return ""
}

// The collections of audience names.
const (
	segmentsPrefix    = "segments/"
	tiersPrefix       = "tiers/"
	stagesPrefix      = "stages/"
	rfmSegmentsPrefix = "rfmSegments/"
)

// SegmentAudience returns the audience name of a rule or static segment.
func SegmentAudience(id string) string { return segmentsPrefix + id }

// TierAudience returns the audience name of a value tier.
func TierAudience(t Tier) string { return tiersPrefix + t.String() }

// StageAudience returns the audience name of a lifecycle stage.
func StageAudience(s Stage) string { return stagesPrefix + s.String() }

// RFMSegmentAudience returns the audience name of an RFM segment.
func RFMSegmentAudience(s Segment) string { return rfmSegmentsPrefix + s.String() }

// ParseAudience parses and checks an audience name. Tier, stage and RFM
// segment names must be known; segment ids must be well formed (whether
// the segment exists is not checked). Errors wrap ErrInvalidAudience.
func ParseAudience(name string) (Audience, error) {
	coll, key, ok := strings.Cut(name, "/")
	if !ok || key == "" {
		return Audience{}, fmt.Errorf("%w: %q is not segments/{id}, tiers/{tier}, stages/{stage} or rfmSegments/{segment}", ErrInvalidAudience, name)
	}
	var err error
	a := Audience{Key: key}
	switch coll + "/" {
	case segmentsPrefix:
		a.Kind = AudienceSegment
		err = ValidateSegmentID(key)
	case tiersPrefix:
		a.Kind = AudienceTier
		_, err = ParseTier(key)
	case stagesPrefix:
		a.Kind = AudienceStage
		_, err = ParseStage(key)
	case rfmSegmentsPrefix:
		a.Kind = AudienceRFMSegment
		_, err = ParseSegment(key)
	default:
		err = fmt.Errorf("unknown collection %q", coll)
	}
	if err != nil {
		return Audience{}, fmt.Errorf("%w: %q: %v", ErrInvalidAudience, name, err)
	}
	return a, nil
}

// FixedAudiences lists every tier, stage and RFM segment audience name.
func FixedAudiences() []string {
	var out []string
	for t := TierVIP; t < numTiers; t++ {
		out = append(out, TierAudience(t))
	}
	for s := StageProspect; s < numStages; s++ {
		out = append(out, StageAudience(s))
	}
	for _, s := range Segments() {
		out = append(out, RFMSegmentAudience(s))
	}
	return out
}

// Sizes counts the members of every tier, stage and RFM segment audience
// (zero counts included) and of the given segments.
func Sizes(d Distribution, segments map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(segments)+int(numTiers+numStages+numSegments))
	for t := TierVIP; t < numTiers; t++ {
		out[TierAudience(t)] = int64(d.Tiers[t])
	}
	for s := StageProspect; s < numStages; s++ {
		out[StageAudience(s)] = int64(d.Stages[s])
	}
	for _, s := range Segments() {
		out[RFMSegmentAudience(s)] = int64(d.Segments[s])
	}
	for id, n := range segments {
		out[SegmentAudience(id)] = n
	}
	return out
}

// ValidateSegmentID checks a segment id: 1 to 63 lower-case letters,
// digits and "-", starting with a letter.
func ValidateSegmentID(id string) error {
	if len(id) == 0 || len(id) > 63 {
		return fmt.Errorf("segment id must be 1 to 63 characters, got %d", len(id))
	}
	for i, c := range id {
		switch {
		case c >= 'a' && c <= 'z':
		case (c >= '0' && c <= '9' || c == '-') && i > 0:
		default:
			return fmt.Errorf("segment id %q must be lower-case letters, digits and \"-\", starting with a letter", id)
		}
	}
	return nil
}
