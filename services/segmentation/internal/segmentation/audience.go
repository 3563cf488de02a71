package segmentation

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tenurehq/tenure/services/platform/fielderr"
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
// the segment exists is not checked). Errors wrap ErrInvalidAudience and
// say what is allowed; CheckAudience also names the request field.
func ParseAudience(name string) (Audience, error) {
	a, problem := parseAudience(name)
	if problem != "" {
		return Audience{}, fmt.Errorf("%w: %s", ErrInvalidAudience, problem)
	}
	return a, nil
}

// CheckAudience checks the audience name in a request field, such as
// ListMembers' parent: an error is a *fielderr.Error naming field and
// wrapping ErrInvalidAudience.
func CheckAudience(field, name string) error {
	if _, problem := parseAudience(name); problem != "" {
		return &fielderr.Error{Path: field, Problem: problem, Err: ErrInvalidAudience}
	}
	return nil
}

// CheckAudiences checks a repeated request field of audience names, such
// as CheckMembership's audiences: there must be at least one, and each is
// checked as by CheckAudience, naming field[i].
func CheckAudiences(field string, names []string) error {
	if len(names) == 0 {
		return &fielderr.Error{Path: field, Problem: "at least one audience is required",
			Fix: "name one or more, such as tiers/vip or segments/{segment_id}", Err: ErrInvalidAudience}
	}
	for i, n := range names {
		if err := CheckAudience(fmt.Sprintf("%s[%d]", field, i), n); err != nil {
			return err
		}
	}
	return nil
}

// parseAudience parses an audience name, or says what is wrong with it
// and what is allowed.
func parseAudience(name string) (Audience, string) {
	coll, key, ok := strings.Cut(name, "/")
	a := Audience{Key: key}
	if !ok {
		coll = "" // not a collection name, whatever it spells
	}
	switch coll + "/" {
	case segmentsPrefix:
		a.Kind = AudienceSegment
		if p := segmentIDProblem(key); p != "" {
			return Audience{}, fmt.Sprintf("%q: segment id %s", name, p)
		}
	case tiersPrefix:
		a.Kind = AudienceTier
		if _, err := ParseTier(key); err != nil {
			return Audience{}, fmt.Sprintf("%q: unknown value tier %q; valid tiers are %s", name, key, tierNameList())
		}
	case stagesPrefix:
		a.Kind = AudienceStage
		if _, err := ParseStage(key); err != nil {
			return Audience{}, fmt.Sprintf("%q: unknown lifecycle stage %q; valid stages are %s", name, key, stageNameList())
		}
	case rfmSegmentsPrefix:
		a.Kind = AudienceRFMSegment
		if _, err := ParseSegment(key); err != nil {
			return Audience{}, fmt.Sprintf("%q: unknown RFM segment %q; valid segments are %s", name, key, segmentNameList())
		}
	default:
		return Audience{}, fmt.Sprintf("%q is not an audience name; "+
			"use segments/{segment_id}, tiers/{tier}, stages/{stage} or rfmSegments/{rfm_segment}", name)
	}
	return a, ""
}

// stageNameList is "prospect, new, active, dormant, churned".
func stageNameList() string {
	names := make([]string, 0, numStages-1)
	for s := StageProspect; s < numStages; s++ {
		names = append(names, s.String())
	}
	return strings.Join(names, ", ")
}

// fixedAudiences lists every tier, stage and RFM segment audience name.
func fixedAudiences() []string {
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
	if p := segmentIDProblem(id); p != "" {
		return errors.New("segment id " + p)
	}
	return nil
}

// segmentIDProblem says what is wrong with a segment id and what is
// allowed; "" if it is well formed.
func segmentIDProblem(id string) string {
	if len(id) == 0 || len(id) > 63 {
		return fmt.Sprintf("must be 1 to 63 characters, got %d", len(id))
	}
	for i, c := range id {
		switch {
		case c >= 'a' && c <= 'z':
		case (c >= '0' && c <= '9' || c == '-') && i > 0:
		default:
			return fmt.Sprintf("must be lower-case letters, digits and \"-\", starting with a letter, got %q", id)
		}
	}
	return ""
}
