package retailimport

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// Errors returned for values that cannot be read.
var (
	ErrBadTime     = errors.New("retailimport: unrecognised date")
	ErrBadPrice    = errors.New("retailimport: invalid price")
	ErrBadQuantity = errors.New("retailimport: invalid quantity")
	ErrBadAmount   = errors.New("retailimport: amount out of range")
)

// Bounds on an invoice line, either sign, within which every amount the
// import computes fits in an int64: a line's quantity, and a line's
// quantity × unit price and an invoice's total in thousandths of a pound
// (10^15 pounds).
const (
	MaxQuantity = 1_000_000_000
	MaxAmount   = 1_000_000_000_000_000_000
)

// localLayouts are the zone-less date layouts the data set has been
// published with: the original spreadsheet's M/D/YYYY H:MM and ISO-8601.
// Their times are UK local time.
var localLayouts = []string{
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"1/2/2006 15:04",
	"1/2/2006 15:04:05",
}

// ParseTime reads an invoice date. Dates with a zone (RFC 3339) keep it;
// dates without one are local time in loc (Europe/London for this data set).
// The result is in UTC.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range localLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%w %q", ErrBadTime, s)
}

// Price is an amount of money in thousandths of the currency's major unit
// (tenths of a penny), which holds every price in the data set exactly.
type Price int64

const (
	priceDecimals = 3
	milliPerMinor = 10 // thousandths per penny
)

// ParsePrice reads a decimal price such as "2.55", "0.001" or "-11062.06"
// exactly, without going through floating point. More than three decimal
// places are accepted only when the extra digits are zeros.
func ParsePrice(s string) (Price, error) {
	s = strings.TrimSpace(s)
	orig := s
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" {
		return 0, fmt.Errorf("%w %q", ErrBadPrice, orig)
	}
	if len(frac) > priceDecimals {
		if strings.Trim(frac[priceDecimals:], "0") != "" {
			return 0, fmt.Errorf("%w %q: more than %d decimal places", ErrBadPrice, orig, priceDecimals)
		}
		frac = frac[:priceDecimals]
	}
	frac += strings.Repeat("0", priceDecimals-len(frac))
	if whole == "" {
		whole = "0"
	}
	if !allDigits(whole) || !allDigits(frac) {
		return 0, fmt.Errorf("%w %q", ErrBadPrice, orig)
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w %q: %v", ErrBadPrice, orig, err)
	}
	if neg {
		n = -n
	}
	return Price(n), nil
}

// Minor rounds p to whole pennies, halves away from zero.
func (p Price) Minor() int64 { return roundDiv(int64(p), milliPerMinor) }

// LineTotalMinor is quantity × unit price, computed exactly and then rounded
// to whole pennies, halves away from zero. The product must be within
// MaxAmount, as Load makes sure it is.
func LineTotalMinor(quantity int64, unit Price) int64 {
	return roundDiv(quantity*int64(unit), milliPerMinor)
}

// lineAmount returns quantity × unit in thousandths, and whether it is
// within MaxAmount.
func lineAmount(quantity int64, unit Price) (int64, bool) {
	hi, lo := bits.Mul64(absU(quantity), absU(int64(unit)))
	if hi != 0 || lo > MaxAmount {
		return 0, false
	}
	return quantity * int64(unit), true
}

func absU(n int64) uint64 {
	if n < 0 {
		return -uint64(n)
	}
	return uint64(n)
}

// roundDiv divides n by d (d > 0), rounding halves away from zero, for
// every n (adding d/2 first would overflow near the ends of int64).
func roundDiv(n, d int64) int64 {
	q, r := n/d, n%d
	switch {
	case r >= 0 && r >= d-r:
		q++
	case r < 0 && -r >= d+r:
		q--
	}
	return q
}

// ParseQuantity reads a whole number of units, at most MaxQuantity either
// way. A spreadsheet export may write it as "6.0"; fractional quantities
// are rejected.
func ParseQuantity(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if whole, frac, ok := strings.Cut(s, "."); ok && frac != "" && strings.Trim(frac, "0") == "" {
		s = whole
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w %q", ErrBadQuantity, s)
	}
	if n > MaxQuantity || n < -MaxQuantity {
		return 0, fmt.Errorf("%w %q: more than %d units", ErrBadQuantity, s, MaxQuantity)
	}
	return n, nil
}

// NormalizeCustomerID returns the customer id as Tenure should see it: an
// id a spreadsheet turned into a number ("17850.0") loses its ".0". It
// returns "" for a row without a customer (empty or R's "NA").
func NormalizeCustomerID(s string) string {
	s = strings.TrimSpace(s)
	if s == "NA" {
		return ""
	}
	if whole, frac, ok := strings.Cut(s, "."); ok && whole != "" && allDigits(whole) && strings.Trim(frac, "0") == "" {
		return whole
	}
	return s
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
