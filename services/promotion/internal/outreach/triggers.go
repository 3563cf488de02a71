package outreach

import (
	"time"
)

// When each trigger fires. Every function returns the instant a message is
// due, before the journey's delay and quiet hours (Due applies those).

// CartAbandoned decides a cart abandonment: a cart updated at cartAt with
// the given later orders (any order) fires at cartAt + hours unless an
// order came in (cartAt, cartAt + hours]. decided is false while the wait
// is not over at now and no order came; fire is then false too.
func CartAbandoned(cartAt time.Time, hours int, ordersAfter []time.Time, now time.Time) (due time.Time, fire, decided bool) {
	due = cartAt.Add(time.Duration(hours) * time.Hour)
	for _, o := range ordersAfter {
		if o.After(cartAt) && !o.After(due) {
			return due, false, true
		}
	}
	if now.Before(due) {
		return due, false, false
	}
	return due, true, true
}

// PostPurchase is when a post-purchase journey fires for an order placed
// at orderAt: days later, at the same instant.
func PostPurchase(orderAt time.Time, days int) time.Time {
	return orderAt.AddDate(0, 0, days)
}

// Birthday returns the next birthday message due at or after now for a
// customer born on month/day in loc: days before the birthday, at
// localMinute of that local day; and the birthday's year for its
// occurrence. A 29 February birthday is on 28 February in other years.
func Birthday(month time.Month, day, days, localMinute int, loc *time.Location, now time.Time) (due time.Time, year int) {
	y := now.In(loc).Year()
	for ; ; y++ {
		d := day
		if month == time.February && day == 29 && !leap(y) {
			d = 28
		}
		due = LocalTime(y, month, d-days, localMinute, loc)
		if !due.Before(now) {
			return due, y
		}
	}
}

func leap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// NextHoliday returns the first holiday of the calendar whose message, at
// localMinute of its local date in loc, is due at or after now; ok is
// false when none is left.
func NextHoliday(holidays []Holiday, localMinute int, loc *time.Location, now time.Time) (h Holiday, due time.Time, ok bool) {
	for _, c := range holidays {
		y, m, d := c.Date.Date()
		t := LocalTime(y, m, d, localMinute, loc)
		if !t.Before(now) && (!ok || t.Before(due)) {
			h, due, ok = c, t, true
		}
	}
	return h, due, ok
}

// PointsExpiring reports whether points expiring at expiry are within
// days of now (and not expired yet).
func PointsExpiring(expiry time.Time, days int, now time.Time) bool {
	return expiry.After(now) && !expiry.After(now.AddDate(0, 0, days))
}

// Due is when a message triggered at triggeredAt goes out: after the
// journey's delay, held past the quiet hours (a transactional message is
// not held). held reports whether quiet hours moved it.
func Due(j Journey, triggeredAt time.Time, loc *time.Location, q QuietHours) (due time.Time, held bool) {
	due = triggeredAt.Add(j.Delay)
	if j.Transactional {
		return due, false
	}
	return Release(due, loc, q)
}
