package segmentation

import (
	"cmp"
	"slices"
	"time"
)

// PurchaseDay is one UTC calendar day on which a customer ordered, with the
// day's order total in minor units (several orders on one day add up).
// The purchase days feed the prediction models.
type PurchaseDay struct {
	// Day counts days since 1970-01-01 (UTC).
	Day    int32
	Amount int64
}

// DayOf returns the UTC calendar day of t, counted from 1970-01-01.
func DayOf(t time.Time) int32 {
	s := t.Unix()
	d := s / 86400
	if s%86400 < 0 {
		d--
	}
	return int32(d)
}

// TimeOfDay returns the start (00:00 UTC) of day.
func TimeOfDay(day int32) time.Time { return time.Unix(int64(day)*86400, 0).UTC() }

// AddPurchases returns days (ascending, one entry per day) with add
// merged in: amounts of a day already there add up. days is not modified.
func AddPurchases(days, add []PurchaseDay) []PurchaseDay {
	if len(add) == 0 {
		return days
	}
	out := make([]PurchaseDay, 0, len(days)+len(add))
	out = append(out, days...)
	for _, p := range add {
		i, ok := slices.BinarySearchFunc(out, p.Day, func(d PurchaseDay, day int32) int { return cmp.Compare(d.Day, day) })
		if ok {
			out[i].Amount += p.Amount
			continue
		}
		out = slices.Insert(out, i, p)
	}
	return out
}
