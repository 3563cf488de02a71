package membership_test

import (
	"slices"
	"testing"

	"github.com/tenurehq/tenure/services/segmentation/internal/membership"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

func TestRekey(t *testing.T) {
	b := membership.NewBuilder([]string{"r"})
	vip := segmentation.Result{Tier: segmentation.TierVIP}
	for _, c := range []struct {
		id string
		in bool
	}{{"a", true}, {"b", false}, {"c", true}, {"z", false}} {
		b.Add(c.id, &vip, []bool{c.in})
	}
	s, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	s = s.WithStatic("st", []string{"a", "b", "x"})
	n := s.Rekey(map[string]string{"a": "m", "b": "", "c": "z"})
	for _, tc := range []struct {
		audience string
		want     []string
	}{
		{"segments/r", []string{"m", "z"}}, // c's membership replaces z's
		{"tiers/vip", []string{"m", "z"}},
		{"segments/st", []string{"x"}},
	} {
		got, _, err := n.Members(tc.audience, "", 10)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s = %v, %v; want %v", tc.audience, got, err, tc.want)
		}
		if size, _ := n.Size(tc.audience); size != len(tc.want) {
			t.Errorf("%s size = %d, want %d", tc.audience, size, len(tc.want))
		}
	}
	if n.Contains("a", "segments/r") || !n.Contains("m", "segments/r") || n.Customers() != 2 {
		t.Errorf("after rekey: a in r %v, m in r %v, %d customers", n.Contains("a", "segments/r"), n.Contains("m", "segments/r"), n.Customers())
	}
	if got, _, _ := s.Members("segments/r", "", 10); !slices.Equal(got, []string{"a", "c"}) {
		t.Errorf("the original snapshot changed: %v", got)
	}
	if s.Rekey(map[string]string{"nobody": ""}) != s {
		t.Error("Rekey of unknown ids returned a new snapshot")
	}
}
