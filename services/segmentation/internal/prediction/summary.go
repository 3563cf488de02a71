package prediction

import "github.com/tenurehq/tenure/services/segmentation/internal/segmentation"

// PurchaseDay is a day with an order and its total (minor units).
type PurchaseDay = segmentation.PurchaseDay

// Summary is one customer's calibration-period history in whole UTC
// calendar days. With the calibration period ending the day before the day
// of as_of: X is the number of days with an order in it minus the first,
// TX the last such day minus the first and T the calibration period's last
// day minus the first. Spend is the mean spend over the X repeat days (the
// first day left out), in minor units; zero when X is zero.
type Summary struct {
	X, TX, T int32
	Spend    float64
}

// Summarize returns the summary of days (ascending, one entry per day) as
// of the day asOfDay, and false if the customer has no purchase day before
// asOfDay (then it is not part of the models).
func Summarize(days []PurchaseDay, asOfDay int32) (Summary, bool) {
	n := 0
	for n < len(days) && days[n].Day < asOfDay {
		n++
	}
	if n == 0 {
		return Summary{}, false
	}
	first, last := days[0].Day, days[n-1].Day
	s := Summary{X: int32(n - 1), TX: last - first, T: asOfDay - 1 - first}
	if n > 1 {
		var sum float64
		for _, d := range days[1:n] {
			sum += float64(d.Amount)
		}
		s.Spend = sum / float64(n-1)
	}
	return s, true
}

// RepeatDaysBetween counts the days of days in [from, to), the days after
// a calibration period: each is a repeat purchase day of a customer who
// bought before from.
func RepeatDaysBetween(days []PurchaseDay, from, to int32) int {
	n := 0
	for _, d := range days {
		if d.Day >= from && d.Day < to {
			n++
		}
	}
	return n
}
