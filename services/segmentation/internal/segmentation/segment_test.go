package segmentation

import (
	"encoding/json"
	"fmt"
	"testing"
)

// docRules is docs/concepts.md's segment list, transcribed independently of
// segmentTable: segment, R range, F range.
var docRules = []struct {
	name                   string
	rMin, rMax, fMin, fMax uint8
}{
	{"champions", 5, 5, 4, 5},
	{"loyal", 3, 4, 4, 5},
	{"potential_loyalist", 4, 5, 2, 3},
	{"new_customer", 5, 5, 1, 1},
	{"promising", 4, 4, 1, 1},
	{"need_attention", 3, 3, 3, 3},
	{"about_to_sleep", 3, 3, 1, 2},
	{"at_risk", 1, 2, 3, 4},
	{"cant_lose", 1, 2, 5, 5},
	{"hibernating", 2, 2, 1, 2},
	{"lost", 1, 1, 1, 2},
}

// TestSegmentTableMatchesRules checks all 25 (R, F) pairs: each is covered
// by exactly one documented rule, and the table agrees with it.
func TestSegmentTableMatchesRules(t *testing.T) {
	for r := uint8(1); r <= 5; r++ {
		for f := uint8(1); f <= 5; f++ {
			t.Run(fmt.Sprintf("R%dF%d", r, f), func(t *testing.T) {
				var matches []string
				for _, rule := range docRules {
					if r >= rule.rMin && r <= rule.rMax && f >= rule.fMin && f <= rule.fMax {
						matches = append(matches, rule.name)
					}
				}
				if len(matches) != 1 {
					t.Fatalf("documented rules matching: %v, want exactly one", matches)
				}
				if got := SegmentFor(r, f).String(); got != matches[0] {
					t.Errorf("SegmentFor(%d, %d) = %q, want %q", r, f, got, matches[0])
				}
			})
		}
	}
}

func TestSegmentForOutOfRange(t *testing.T) {
	for _, p := range [][2]uint8{{0, 1}, {1, 0}, {6, 5}, {5, 6}} {
		if got := SegmentFor(p[0], p[1]); got != SegmentNone {
			t.Errorf("SegmentFor(%d, %d) = %s, want none", p[0], p[1], got)
		}
	}
}

func TestDefaultTierMap(t *testing.T) {
	want := map[string]string{
		"champions": "vip", "loyal": "vip",
		"potential_loyalist": "potential", "new_customer": "potential", "promising": "potential",
		"need_attention": "regular",
		"about_to_sleep": "at_risk", "at_risk": "at_risk", "cant_lose": "at_risk", "hibernating": "at_risk", "lost": "at_risk",
	}
	m := DefaultTierMap()
	if len(m) != len(want) {
		t.Errorf("default tier map has %d entries, want %d", len(m), len(want))
	}
	for seg, tier := range m {
		if want[seg.String()] != tier.String() {
			t.Errorf("tier of %s = %s, want %s", seg, tier, want[seg.String()])
		}
	}
}

func TestNamesRoundTrip(t *testing.T) {
	for _, s := range Segments() {
		got, err := ParseSegment(s.String())
		if err != nil || got != s {
			t.Errorf("ParseSegment(%q) = %v, %v, want %v", s.String(), got, err, s)
		}
	}
	for tr := TierVIP; tr < numTiers; tr++ {
		if got, err := ParseTier(tr.String()); err != nil || got != tr {
			t.Errorf("ParseTier(%q) = %v, %v, want %v", tr.String(), got, err, tr)
		}
	}
	for st := StageProspect; st < numStages; st++ {
		if got, err := ParseStage(st.String()); err != nil || got != st {
			t.Errorf("ParseStage(%q) = %v, %v, want %v", st.String(), got, err, st)
		}
	}
	if _, err := ParseSegment("vip"); err == nil {
		t.Error("ParseSegment(\"vip\") succeeded, want an error")
	}

	b, err := json.Marshal(DefaultTierMap())
	if err != nil {
		t.Fatal(err)
	}
	var back TierMap
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
	if len(back) != 11 || back[SegmentCantLose] != TierAtRisk {
		t.Errorf("round trip of %s = %v", b, back)
	}
}
