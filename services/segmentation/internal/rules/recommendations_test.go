package rules

import (
	"testing"

	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// topCategories is a fake recommendation model.
type topCategories map[string]string

func (m topCategories) TopCategory(id string) string { return m[id] }

func TestRecommendationsTopCategory(t *testing.T) {
	env := newEnv(t)
	recs := topCategories{"c1": "kitchen"}
	for _, c := range []struct {
		name string
		s    *Subject
		want bool
	}{
		{"top category matches", &Subject{Customer: &segmentation.Customer{ID: "c1"}, Recommendations: recs}, true},
		{"other customer", &Subject{Customer: &segmentation.Customer{ID: "c2"}, Recommendations: recs}, false},
		{"no model", &Subject{Customer: &segmentation.Customer{ID: "c1"}}, false},
		{"no customer", &Subject{Recommendations: recs}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, errs := eval(t, env, `recommendations.top_category == "kitchen"`, c.s)
			if got != c.want || errs != 0 {
				t.Errorf("got %v (%d errors), want %v", got, errs, c.want)
			}
		})
	}
	r, err := env.Compile(`recommendations.top_category != "" && rfm.r_score > 2`)
	if err != nil {
		t.Fatal(err)
	}
	if !r.ReadsRecommendations() {
		t.Error("ReadsRecommendations: got false, want true")
	}
	if r, _ := env.Compile(`rfm.r_score > 2`); r.ReadsRecommendations() {
		t.Error("ReadsRecommendations of an rfm rule: got true, want false")
	}
	if _, err := env.Compile(`recommendations.top_item == "x"`); err == nil {
		t.Error("unknown field: got no error")
	}
}
