package loyalty

import "time"

// EarnPoints is what an order of totalMinor in currency earns at
// pointsPerUnit points per major unit and the tier's multiplierPercent:
// floor(total_minor × pointsPerUnit × multiplierPercent / (100 × 10^exponent)),
// in integer arithmetic. A total at or below zero earns nothing.
func EarnPoints(totalMinor int64, currency string, pointsPerUnit, multiplierPercent int64) int64 {
	return mulDiv(totalMinor, pointsPerUnit, multiplierPercent, 100*pow10(Exponent(currency)))
}

// RefundPoints is what a refund of amountMinor without an order reverses:
// floor(amount_minor × pointsPerUnit / 10^exponent).
func RefundPoints(amountMinor int64, currency string, pointsPerUnit int64) int64 {
	return mulDiv(amountMinor, pointsPerUnit, 1, pow10(Exponent(currency)))
}

// KeptPoints is what an order that earned earned points on a total of
// total keeps after refunds totalling refunded: floor(E × (T − R) / T).
// A refund of the whole total or more keeps nothing; an order with no
// total keeps what it earned.
func KeptPoints(earned, total, refunded int64) int64 {
	switch {
	case total <= 0 || refunded <= 0:
		return earned
	case refunded >= total:
		return 0
	}
	return mulDiv(earned, total-refunded, 1, uint64(total))
}

// AddMonths returns t plus months calendar months at the same time of
// day, clamped to the last day of a shorter month: 01-31 + 1 month is
// 02-28, or 02-29 in a leap year.
func AddMonths(t time.Time, months int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(months), 1, 0, 0, 0, 0, t.Location())
	last := first.AddDate(0, 1, -1).Day()
	h, mi, s := t.Clock()
	return time.Date(first.Year(), first.Month(), min(d, last), h, mi, s, t.Nanosecond(), t.Location())
}

// ExpiryOf returns when a credit earned at earned expires after
// expiryMonths calendar months; the zero time (never) when expiryMonths is
// 0.
func ExpiryOf(earned time.Time, expiryMonths int64) time.Time {
	if expiryMonths <= 0 {
		return time.Time{}
	}
	return AddMonths(earned, int(expiryMonths))
}

// LocalDay is the calendar day of t in loc, as "YYYY-MM-DD".
func LocalDay(t time.Time, loc *time.Location) string {
	return t.In(loc).Format(time.DateOnly)
}

// IsBirthday reports whether day ("YYYY-MM-DD", a local calendar day) is
// the birthday of someone born on birthday ("YYYY-MM-DD"). A 29 February
// birthday falls on 28 February in years without one.
func IsBirthday(birthday, day string) bool {
	b, err := time.Parse(time.DateOnly, birthday)
	if err != nil {
		return false
	}
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return false
	}
	if b.Month() == time.February && b.Day() == 29 && !isLeap(d.Year()) {
		return d.Month() == time.February && d.Day() == 28
	}
	return d.Month() == b.Month() && d.Day() == b.Day()
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// Review is what the rules need of a posted review.
type Review struct {
	Length   int64
	HasPhoto bool
}

// ReviewCredit is what a review earns: the programme's review points,
// plus the quality bonus when it has a photo or reaches the minimum length.
func (p Programme) ReviewCredit(r Review) int64 {
	pts := p.ReviewPoints
	if r.HasPhoto || (p.QualityReviewMinLength > 0 && r.Length >= p.QualityReviewMinLength) {
		pts += p.QualityReviewBonus
	}
	return pts
}
