package prediction

import (
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	day := func(s string) int32 {
		tm, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return DayOf(tm)
	}
	asOf := day("1997-10-01")
	for _, c := range []struct {
		name string
		days []PurchaseDay
		want Summary
		ok   bool
	}{
		{"no purchase", nil, Summary{}, false},
		{"only after as_of", []PurchaseDay{{day("1997-10-01"), 100}}, Summary{}, false},
		{"one day", []PurchaseDay{{day("1997-01-01"), 500}}, Summary{X: 0, TX: 0, T: 272}, true},
		{"first day left out of the spend", []PurchaseDay{{day("1997-01-01"), 500}, {day("1997-01-08"), 1000}, {day("1997-03-01"), 2000}},
			Summary{X: 2, TX: 59, T: 272, Spend: 1500}, true},
		{"days after as_of ignored", []PurchaseDay{{day("1997-09-30"), 100}, {day("1997-10-01"), 700}, {day("1998-01-01"), 900}},
			Summary{X: 0, TX: 0, T: 0}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := Summarize(c.days, asOf)
			if got != c.want || ok != c.ok {
				t.Errorf("got %+v, %v; want %+v, %v", got, ok, c.want, c.ok)
			}
		})
	}
	if got := DayOf(time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC)); got != -1 {
		t.Errorf("DayOf(1969-12-31T23:00Z): got %d, want -1", got)
	}
	if got := RepeatDaysBetween([]PurchaseDay{{1, 0}, {5, 0}, {9, 0}}, 5, 9); got != 1 {
		t.Errorf("RepeatDaysBetween: got %d, want 1", got)
	}
}
