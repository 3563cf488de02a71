package pricing

import (
	"errors"
	"slices"
	"testing"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

// redeem evaluates a cart and returns what a redemption keeps.
func redeem(t *testing.T, c Cart, defs ...Definition) ([]OrderLine, []Applied) {
	t.Helper()
	r, err := Evaluate(c, cands(defs...), Context{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	lines := make([]OrderLine, len(c.Lines))
	for i, l := range c.Lines {
		lines[i] = OrderLine{LineID: l.ID, Quantity: l.Quantity}
	}
	return lines, r.Applied
}

func TestReleaseRefundIssueExample(t *testing.T) {
	c := gbp(line("A", 2, 3000), line("B", 1, 4000))
	lines, applied := redeem(t, c, promo("p", amountOff(OnOrder, 1000)))
	if got := allocations(Result{Applied: applied}, "p", 2); !slices.Equal(got, []int64{600, 400}) {
		t.Fatalf("allocations %v, want [600 400]", got)
	}
	rel, err := ReleaseRefund(lines, applied, nil, []ReturnedLine{{LineID: "A", Quantity: 1}})
	if err != nil {
		t.Fatal(err)
	}
	want := Release{
		Parts:      []ReleasePart{{PromotionID: "p", LineID: "A", Amount: 300}},
		Promotions: []PromotionRelease{{PromotionID: "p", CampaignID: "camp", Amount: 300}},
		Lines:      []LineRelease{{LineID: "A", Amount: 300}},
	}
	if !equalRelease(rel, want) {
		t.Fatalf("got %+v, want %+v", rel, want)
	}
}

func equalRelease(a, b Release) bool {
	return slices.Equal(a.Parts, b.Parts) && slices.Equal(a.Promotions, b.Promotions) && slices.Equal(a.Lines, b.Lines) && a.AllReturned == b.AllReturned
}

// TestReleaseRefundCumulative returns a line of three units one at a time:
// the releases floor the cumulative share and add up to the allocation.
func TestReleaseRefundCumulative(t *testing.T) {
	c := Cart{Currency: "GBP", Lines: []Line{line("a", 3, 100), line("b", 1, 200)}, ShippingFee: 500}
	lines, applied := redeem(t, c,
		promo("p", amountOff(AcrossLines, 100), prio(2)), // [60, 40]
		promo("ship", Effect{FreeShipping: &FreeShipping{}}, prio(1)),
	)
	steps := []struct {
		now         []ReturnedLine
		want        []PromotionRelease
		allReturned bool
	}{
		{[]ReturnedLine{{"a", 1}}, []PromotionRelease{{"p", "camp", 20}}, false},
		{[]ReturnedLine{{"a", 1}}, []PromotionRelease{{"p", "camp", 20}}, false},
		{[]ReturnedLine{{"b", 1}}, []PromotionRelease{{"p", "camp", 40}}, false},
		{[]ReturnedLine{{"a", 1}}, []PromotionRelease{{"p", "camp", 20}, {"ship", "camp", 500}}, true},
	}
	var before []ReturnedLine
	var total int64
	for i, s := range steps {
		rel, err := ReleaseRefund(lines, applied, before, s.now)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(rel.Promotions, s.want) || rel.AllReturned != s.allReturned {
			t.Fatalf("step %d: %+v all %v, want %+v all %v", i, rel.Promotions, rel.AllReturned, s.want, s.allReturned)
		}
		for _, p := range rel.Promotions {
			total += p.Amount
		}
		before = append(before, s.now...)
	}
	if total != 600 {
		t.Fatalf("released %d in all, want the 600 given", total)
	}
	// Nothing more once all is back.
	rel, err := ReleaseRefund(lines, applied, before, nil)
	if err != nil || len(rel.Promotions) != 0 || !rel.AllReturned {
		t.Fatalf("after all returned: %+v %v", rel, err)
	}
}

func TestReleaseRefundThirds(t *testing.T) {
	// 100 on a line of 3: releases 33, 33, 34 (floor of the cumulative).
	lines := []OrderLine{{"a", 3}}
	applied := []Applied{{PromotionID: "p", Allocations: []Allocation{{LineID: "a", Amount: 100}}}}
	var before []ReturnedLine
	var got []int64
	for range 3 {
		rel, err := ReleaseRefund(lines, applied, before, []ReturnedLine{{"a", 1}})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rel.Lines[0].Amount)
		before = append(before, ReturnedLine{"a", 1})
	}
	if !slices.Equal(got, []int64{33, 33, 34}) {
		t.Fatalf("releases %v, want [33 33 34]", got)
	}
}

func TestReleaseRefundErrors(t *testing.T) {
	lines := []OrderLine{{"a", 2}, {"b", 1}}
	tests := []struct {
		name     string
		before   []ReturnedLine
		now      []ReturnedLine
		wantPath string
		over     bool
	}{
		{"unknown line", nil, []ReturnedLine{{"z", 1}}, "returned_lines[0].line_id", true},
		{"zero units", nil, []ReturnedLine{{"a", 0}}, "returned_lines[0].quantity", false},
		{"more than ordered", nil, []ReturnedLine{{"a", 3}}, "returned_lines[0].quantity", true},
		{"more than left", []ReturnedLine{{"a", 1}}, []ReturnedLine{{"b", 1}, {"a", 2}}, "returned_lines[1].quantity", true},
		{"same line twice", nil, []ReturnedLine{{"a", 1}, {"a", 2}}, "returned_lines[1].quantity", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReleaseRefund(lines, nil, tt.before, tt.now)
			var fe *fielderr.Error
			if !errors.As(err, &fe) || fe.Path != tt.wantPath || errors.Is(err, ErrOverReturn) != tt.over {
				t.Fatalf("got %v, want a field error at %s (over-return %v)", err, tt.wantPath, tt.over)
			}
		})
	}
}

func TestReleaseRefundBadData(t *testing.T) {
	applied := []Applied{{PromotionID: "p", Allocations: []Allocation{{LineID: "a", Amount: -1}}}}
	if _, err := ReleaseRefund([]OrderLine{{"a", 1}}, applied, nil, []ReturnedLine{{"a", 1}}); !errors.Is(err, ErrBadRedemption) {
		t.Fatalf("got %v, want ErrBadRedemption", err)
	}
}
