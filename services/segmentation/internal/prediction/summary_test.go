package prediction

import (
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"

	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	day := func(s string) int32 {
		tm, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return segmentation.DayOf(tm)
	}
	asOf := day("1997-10-01")
	for _, c := range []struct {
		name string
		days []PurchaseDay
		want Summary
		ok   bool
	}{
		{"no purchase", nil, Summary{}, false},
		{"only after as_of", []PurchaseDay{{Day: day("1997-10-01"), Amount: 100}}, Summary{}, false},
		{"one day", []PurchaseDay{{Day: day("1997-01-01"), Amount: 500}}, Summary{X: 0, TX: 0, T: 272}, true},
		{"first day left out of the spend", []PurchaseDay{{Day: day("1997-01-01"), Amount: 500}, {Day: day("1997-01-08"), Amount: 1000}, {Day: day("1997-03-01"), Amount: 2000}},
			Summary{X: 2, TX: 59, T: 272, Spend: 1500}, true},
		{"days after as_of ignored", []PurchaseDay{{Day: day("1997-09-30"), Amount: 100}, {Day: day("1997-10-01"), Amount: 700}, {Day: day("1998-01-01"), Amount: 900}},
			Summary{X: 0, TX: 0, T: 0}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := Summarize(c.days, asOf)
			if got != c.want || ok != c.ok {
				t.Errorf("got %+v, %v; want %+v, %v", got, ok, c.want, c.ok)
			}
		})
	}
	if got := segmentation.DayOf(time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC)); got != -1 {
		t.Errorf("segmentation.DayOf(1969-12-31T23:00Z): got %d, want -1", got)
	}
	if got := RepeatDaysBetween([]PurchaseDay{{Day: 1}, {Day: 5}, {Day: 9}}, 5, 9); got != 1 {
		t.Errorf("RepeatDaysBetween: got %d, want 1", got)
	}
}
