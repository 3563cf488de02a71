package segmentation

import (
	"reflect"
	"testing"
)

func TestSummarize(t *testing.T) {
	var d Distribution
	d.Total, d.Scored = 3, 2
	d.Segments[SegmentChampions], d.Segments[SegmentLost], d.Segments[SegmentNone] = 1, 1, 1
	d.Tiers[TierVIP], d.Tiers[TierAtRisk], d.Tiers[TierNone] = 1, 1, 1
	d.Stages[StageProspect], d.Stages[StageActive], d.Stages[StageChurned] = 1, 1, 1
	d.R = [6]int{1, 1, 0, 0, 0, 1}
	d.F = [6]int{1, 1, 0, 0, 1, 0}
	d.M = [6]int{1, 0, 1, 1, 0, 0}
	op := Operation{ID: "op1", Report: &Report{
		Distribution:  d,
		Segments:      map[string]int64{"vips": 1, "engaged": 2, "picked": 9},
		MonetaryTotal: map[string]int64{"USD": 5, "GBP": 700},
	}}
	got := Summarize(op, map[string]int64{"picked": 3, "hand": 0})

	if got.Operation.ID != "op1" || got.Customers != 3 || got.ScoredCustomers != 2 {
		t.Errorf("header = %+v", got)
	}
	c := func(kv ...any) []Count {
		var out []Count
		for i := 0; i < len(kv); i += 2 {
			out = append(out, Count{kv[i].(string), int64(kv[i+1].(int))})
		}
		return out
	}
	checks := []struct {
		name      string
		got, want []Count
	}{
		{"rfm segments", got.RFMSegments, c("champions", 1, "loyal", 0, "potential_loyalist", 0, "new_customer", 0, "promising", 0,
			"need_attention", 0, "about_to_sleep", 0, "at_risk", 0, "cant_lose", 0, "hibernating", 0, "lost", 1)},
		{"tiers", got.Tiers, c("vip", 1, "potential", 0, "regular", 0, "at_risk", 1)},
		{"stages", got.Stages, c("prospect", 1, "new", 0, "active", 1, "dormant", 0, "churned", 1)},
		{"r", got.R, c("1", 1, "2", 0, "3", 0, "4", 0, "5", 1)},
		{"f", got.F, c("1", 1, "2", 0, "3", 0, "4", 1, "5", 0)},
		{"m", got.M, c("1", 0, "2", 1, "3", 1, "4", 0, "5", 0)},
		// Static sizes are current and win over the recompute's.
		{"segments", got.Segments, c("engaged", 2, "hand", 0, "picked", 3, "vips", 1)},
	}
	for _, ck := range checks {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}
	if want := []Amount{{"GBP", 700}, {"USD", 5}}; !reflect.DeepEqual(got.MonetaryTotal, want) {
		t.Errorf("monetary total = %v, want %v", got.MonetaryTotal, want)
	}
	if empty := Summarize(Operation{}, nil); len(empty.Tiers) != 4 || empty.Segments != nil || empty.Customers != 0 {
		t.Errorf("Summarize without a report = %+v", empty)
	}
}
