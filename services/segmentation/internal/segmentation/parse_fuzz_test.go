package segmentation

import (
	"errors"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

// segmentIDPattern is ValidateSegmentID's rule, written independently.
var segmentIDPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

// FuzzParseAudience checks that ParseAudience accepts exactly the fixed
// tier, stage and RFM segment audiences and "segments/{id}" with a valid
// id, that an accepted name prints back unchanged with the kind of its
// collection, and that rejections wrap ErrInvalidAudience.
func FuzzParseAudience(f *testing.F) {
	for _, n := range []string{
		"segments/engaged", "tiers/vip", "stages/active", "rfmSegments/cant_lose", "segments/Engaged",
		"segments/1abc", "segments/a-", "tiers/VIP", "tiers/", "rfmsegments/lost", "segments/a/b", "/", "",
		"segments/" + strings.Repeat("a", 63), "segments/" + strings.Repeat("a", 64), "segments/é",
	} {
		f.Add(n)
	}
	fixed := fixedAudiences()
	kinds := map[string]AudienceKind{segmentsPrefix: AudienceSegment, tiersPrefix: AudienceTier,
		stagesPrefix: AudienceStage, rfmSegmentsPrefix: AudienceRFMSegment}
	f.Fuzz(func(t *testing.T, name string) {
		a, err := ParseAudience(name)
		id, isSegment := strings.CutPrefix(name, segmentsPrefix)
		valid := slices.Contains(fixed, name) || isSegment && segmentIDPattern.MatchString(id)
		if (ValidateSegmentID(id) == nil) != segmentIDPattern.MatchString(id) {
			t.Fatalf("ValidateSegmentID(%q) = %v, want it to match %s", id, ValidateSegmentID(id), segmentIDPattern)
		}
		switch {
		case err != nil && valid:
			t.Fatalf("ParseAudience(%q): %v; want it accepted", name, err)
		case err != nil && !errors.Is(err, ErrInvalidAudience):
			t.Fatalf("ParseAudience(%q): %v; want an ErrInvalidAudience", name, err)
		case err == nil && !valid:
			t.Fatalf("ParseAudience(%q) = %+v; want it rejected", name, a)
		case err == nil:
			coll, _, _ := strings.Cut(name, "/")
			if a.String() != name || a.Kind != kinds[coll+"/"] {
				t.Fatalf("ParseAudience(%q) = %+v, which prints as %q", name, a, a.String())
			}
		}
	})
}

// FuzzMergeSettings checks MergeSettings on update masks given as
// comma-separated paths, against what the mask says field by field: a
// field (each tier map entry on its own) is upd's when a path names it or
// a field containing it, and cur's otherwise; "*" or no path takes all of
// upd; an unknown path or segment is an invalid argument about
// update_mask. cur and upd are not modified.
func FuzzMergeSettings(f *testing.F) {
	for _, m := range []string{
		"", "*", "lifecycle", "lifecycle.new_days,lifecycle.dormant_days", "tier_map", "tier_map.loyal",
		"tier_map.lost,tier_map.champions", "scoring_method,fixed_thresholds", "*,lifecycle", "tier_map.",
		"tier_map.unknown", "lifecycle.", "tier_map,tier_map.loyal", ",",
	} {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, mask string) {
		var paths []string
		if mask != "" {
			paths = strings.Split(mask, ",")
		}
		cur, upd := mergeInputs()
		got, err := MergeSettings(cur, upd, paths)
		if wantCur, wantUpd := mergeInputs(); !reflect.DeepEqual(cur, wantCur) || !reflect.DeepEqual(upd, wantUpd) {
			t.Fatalf("MergeSettings(%q) modified its inputs", paths)
		}
		want, wantErr := expectedMerge(cur, upd, paths)
		if wantErr {
			var fe *fielderr.Error
			if !errors.As(err, &fe) || fe.Field() != "update_mask" || !errors.Is(err, fielderr.ErrInvalidArgument) {
				t.Fatalf("MergeSettings(%q): got %v, want an invalid argument about update_mask", paths, err)
			}
			return
		}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("MergeSettings(%q) = %+v, %v; want %+v", paths, got, err, want)
		}
	})
}

// mergeInputs returns two settings that differ in every field, tier map
// entries included (upd lacks some entries cur has).
func mergeInputs() (cur, upd Settings) {
	cur = DefaultSettings()
	cur.Thresholds = Thresholds{Recency: [4]int64{1, 2, 3, 4}}
	upd = Settings{
		Lifecycle:  Lifecycle{NewDays: 7, ActiveDays: 60, DormantDays: 120},
		Tiers:      TierMap{SegmentChampions: TierRegular, SegmentLost: TierVIP},
		Method:     MethodFixedThresholds,
		Thresholds: Thresholds{Monetary: [4]int64{10, 20, 30, 40}},
	}
	return cur, upd
}

// expectedMerge is MergeSettings's contract, applied field by field.
func expectedMerge(cur, upd Settings, paths []string) (Settings, bool) {
	if len(paths) == 0 || slices.Contains(paths, "*") {
		return upd, len(paths) > 1
	}
	known := []string{"lifecycle", "lifecycle.new_days", "lifecycle.active_days", "lifecycle.dormant_days",
		"tier_map", "scoring_method", "fixed_thresholds"}
	for _, s := range Segments() {
		known = append(known, "tier_map."+s.String())
	}
	for _, p := range paths {
		if !slices.Contains(known, p) {
			return Settings{}, true
		}
	}
	named := func(p ...string) bool {
		return slices.ContainsFunc(paths, func(q string) bool { return slices.Contains(p, q) })
	}
	out := cur
	out.Tiers = maps.Clone(cur.Tiers)
	if named("lifecycle", "lifecycle.new_days") {
		out.Lifecycle.NewDays = upd.Lifecycle.NewDays
	}
	if named("lifecycle", "lifecycle.active_days") {
		out.Lifecycle.ActiveDays = upd.Lifecycle.ActiveDays
	}
	if named("lifecycle", "lifecycle.dormant_days") {
		out.Lifecycle.DormantDays = upd.Lifecycle.DormantDays
	}
	if named("scoring_method") {
		out.Method = upd.Method
	}
	if named("fixed_thresholds") {
		out.Thresholds = upd.Thresholds
	}
	for _, s := range Segments() {
		if !named("tier_map", "tier_map."+s.String()) {
			continue
		}
		if tier, ok := upd.Tiers[s]; ok {
			out.Tiers[s] = tier
		} else {
			delete(out.Tiers, s)
		}
	}
	return out, false
}
