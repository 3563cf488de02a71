package pricing

import (
	"slices"
	"testing"
)

type outcome struct {
	id     string
	reason Reason // "" = applied
	by     string
	code   string
}

// outcomes lists the applied promotions (in order) then the others.
func outcomes(r Result) []outcome {
	var out []outcome
	for _, a := range r.Applied {
		out = append(out, outcome{id: a.PromotionID, code: a.Code})
	}
	for _, n := range r.NotApplied {
		out = append(out, outcome{id: n.PromotionID, reason: n.Reason, by: n.ByPromotionID, code: n.Code})
	}
	return out
}

func TestStacking(t *testing.T) {
	ten := pctLines(1000)
	tests := []struct {
		name string
		defs []Definition
		want []outcome
	}{
		{
			name: "priority highest first, then id",
			defs: []Definition{promo("b", ten, prio(1)), promo("a", ten, prio(1)), promo("z", ten, prio(5)), promo("low", ten, prio(-3))},
			want: []outcome{{id: "z"}, {id: "a"}, {id: "b"}, {id: "low"}},
		},
		{
			name: "an exclusive that applied excludes the rest",
			defs: []Definition{promo("x", ten, prio(9), exclusive()), promo("s", ten, prio(1)), promo("y", ten, prio(2), exclusive())},
			want: []outcome{{id: "x"}, {id: "y", reason: ReasonExcludedByStacking, by: "x"}, {id: "s", reason: ReasonExcludedByStacking, by: "x"}},
		},
		{
			name: "an exclusive after another applied is excluded",
			defs: []Definition{promo("s", ten, prio(9)), promo("t", ten, prio(8)), promo("x", ten, prio(1), exclusive())},
			want: []outcome{{id: "s"}, {id: "t"}, {id: "x", reason: ReasonExcludedByStacking, by: "s"}},
		},
		{
			name: "an exclusive that did not apply excludes nothing",
			defs: []Definition{promo("x", ten, prio(9), exclusive(), cond(func(c *Conditions) { c.MinSubtotal = 1 << 40 })), promo("s", ten)},
			want: []outcome{{id: "s"}, {id: "x", reason: ReasonMinSubtotalNotMet}},
		},
		{
			name: "ties between exclusives go to the lower id",
			defs: []Definition{promo("b", ten, exclusive()), promo("a", ten, exclusive())},
			want: []outcome{{id: "a"}, {id: "b", reason: ReasonExcludedByStacking, by: "a"}},
		},
		{
			name: "one per stack group",
			defs: []Definition{promo("g1", ten, prio(3), group("g")), promo("g2", ten, prio(2), group("g")), promo("h1", ten, prio(1), group("h")), promo("free", ten)},
			want: []outcome{{id: "g1"}, {id: "h1"}, {id: "free"}, {id: "g2", reason: ReasonExcludedByStacking, by: "g1"}},
		},
		{
			name: "a group member that did not apply leaves the group open",
			defs: []Definition{promo("g1", ten, prio(3), group("g"), currency("EUR")), promo("g2", ten, prio(2), group("g"))},
			want: []outcome{{id: "g2"}, {id: "g1", reason: ReasonCurrencyMismatch}},
		},
	}
	c := gbp(line("a", 1, 100000))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Evaluate(c, cands(tt.defs...), Context{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, c, r)
			if got := outcomes(r); !slices.Equal(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCodes(t *testing.T) {
	ten := pctLines(1000)
	defs := []Definition{
		promo("coded", ten, codeKind(), prio(5)),
		promo("other-coded", ten, codeKind()),
		promo("picky", ten, codeKind(), cond(func(c *Conditions) { c.MinSubtotal = 1 << 40 })),
		promo("auto", ten),
	}
	lookups := []CodeLookup{
		{Code: "SAVE10", Status: CodeFound, PromotionID: "coded"},
		{Code: "SAVE10-B", Status: CodeFound, PromotionID: "coded"},
		{Code: "GONE", Status: CodeUsedUp, PromotionID: "other-coded"},
		{Code: "THEIRS", Status: CodeNotYours, PromotionID: "other-coded"},
		{Code: "BIG", Status: CodeFound, PromotionID: "picky"},
		{Code: "PAUSED", Status: CodeFound, PromotionID: "inactive"},
	}
	tests := []struct {
		name  string
		codes []string
		want  []outcome
	}{
		{name: "no code: code promotions are not candidates", want: []outcome{{id: "auto"}}},
		{name: "a code matches case-insensitively", codes: []string{" save10 "}, want: []outcome{{id: "coded", code: "SAVE10"}, {id: "auto"}}},
		{name: "a second code of the same promotion adds nothing", codes: []string{"SAVE10", "save10-b", "Save10"}, want: []outcome{{id: "coded", code: "SAVE10"}, {id: "auto"}}},
		{name: "a blank code is no code", codes: []string{"  "}, want: []outcome{{id: "auto"}}},
		{name: "unknown code", codes: []string{"nope"}, want: []outcome{{id: "auto"}, {reason: ReasonCodeNotFound, code: "NOPE"}}},
		{name: "used up", codes: []string{"gone"}, want: []outcome{{id: "auto"}, {id: "other-coded", reason: ReasonCodeUsedUp, code: "GONE"}}},
		{name: "not yours", codes: []string{"theirs"}, want: []outcome{{id: "auto"}, {id: "other-coded", reason: ReasonCodeNotYours, code: "THEIRS"}}},
		{name: "a code's promotion inactive", codes: []string{"paused"}, want: []outcome{{id: "auto"}, {id: "inactive", reason: ReasonOutsideSchedule, code: "PAUSED"}}},
		{name: "a code's promotion fails its conditions", codes: []string{"big"}, want: []outcome{{id: "auto"}, {id: "picky", reason: ReasonMinSubtotalNotMet, code: "BIG"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := gbp(line("a", 1, 10000))
			c.Codes = tt.codes
			r, err := Evaluate(c, cands(defs...), Context{Now: now, Codes: lookups})
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, c, r)
			if got := outcomes(r); !slices.Equal(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
