package retailimport

import (
	"errors"
	"math"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	// decimalPattern is the text ParsePrice reads: a sign, then digits
	// with an optional fraction.
	decimalPattern = regexp.MustCompile(`^[+-]?([0-9]*)(?:\.([0-9]*))?$`)
	// integerPattern is the text ParseQuantity reads: an integer, perhaps
	// written with a zero fraction.
	integerPattern = regexp.MustCompile(`^([+-]?[0-9]+)(?:\.0+)?$`)
)

// FuzzParsePrice checks ParsePrice against exact rational arithmetic: it
// accepts a decimal exactly when its value is a whole number of
// thousandths that fits in a Price, and returns that number; any other
// text is an ErrBadPrice. An accepted price prints back to itself.
func FuzzParsePrice(f *testing.F) {
	for _, s := range []string{"2.55", "0.001", "-11062.06", " 1.5 ", "+.5", "5.", ".", "-", "1.0005", "1.0000",
		"9223372036854775.807", "9223372036854775.808", "-9223372036854775.807", "1e3", "0x10", "1/2", "１"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePrice(s)
		want, ok := exactMilli(strings.TrimSpace(s))
		switch {
		case ok && err != nil:
			t.Fatalf("ParsePrice(%q): %v; want %d", s, err, want)
		case !ok && err == nil:
			t.Fatalf("ParsePrice(%q) = %d; want an error", s, p)
		case err != nil && !errors.Is(err, ErrBadPrice):
			t.Fatalf("ParsePrice(%q): %v; want an ErrBadPrice", s, err)
		case err == nil && int64(p) != want:
			t.Fatalf("ParsePrice(%q) = %d; want %d", s, p, want)
		case err == nil:
			if again, err := ParsePrice(formatPrice(p)); err != nil || again != p {
				t.Fatalf("ParsePrice(%q) = %d, %v; want %d", formatPrice(p), again, err, p)
			}
		}
	})
}

// exactMilli returns the value of the decimal s in thousandths, and
// whether s is a decimal whose value is a whole number of thousandths
// within ±MaxInt64.
func exactMilli(s string) (int64, bool) {
	m := decimalPattern.FindStringSubmatch(s)
	if m == nil || m[1] == "" && m[2] == "" {
		return 0, false
	}
	whole, frac := m[1], m[2]
	if whole == "" {
		whole = "0"
	}
	r, ok := new(big.Rat).SetString(s[:len(s)-len(strings.TrimLeft(s, "+-"))] + whole + "." + frac + "0")
	if !ok {
		panic("not a decimal: " + s)
	}
	r.Mul(r, big.NewRat(1000, 1))
	if !r.IsInt() || !r.Num().IsInt64() || r.Num().Int64() == math.MinInt64 {
		return 0, false
	}
	return r.Num().Int64(), true
}

// formatPrice prints p as a decimal with three places.
func formatPrice(p Price) string {
	n := big.NewInt(int64(p))
	return new(big.Rat).SetFrac(n, big.NewInt(1000)).FloatString(3)
}

// FuzzParseQuantity checks ParseQuantity against big integers: it accepts
// an integer (perhaps written "6.0") whose value is within MaxQuantity,
// and returns that value; anything else is an ErrBadQuantity.
func FuzzParseQuantity(f *testing.F) {
	for _, s := range []string{"6", "-12", "6.0", " 3 ", "6.5", "", "six", "6.", ".0", "+7", "1_000",
		"1000000000", "1000000001", "-9223372036854775808", "9223372036854775808"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuantity(s)
		want, ok := int64(0), false
		if m := integerPattern.FindStringSubmatch(strings.TrimSpace(s)); m != nil {
			n, _ := new(big.Int).SetString(m[1], 10)
			want, ok = n.Int64(), n.CmpAbs(big.NewInt(MaxQuantity)) <= 0
		}
		switch {
		case ok && (err != nil || q != want):
			t.Fatalf("ParseQuantity(%q) = %d, %v; want %d", s, q, err, want)
		case !ok && err == nil:
			t.Fatalf("ParseQuantity(%q) = %d; want an error", s, q)
		case err != nil && !errors.Is(err, ErrBadQuantity):
			t.Fatalf("ParseQuantity(%q): %v; want an ErrBadQuantity", s, err)
		}
	})
}

// FuzzLineTotalMinor checks LineTotalMinor and Price.Minor against big
// integers, for every quantity and price whose product is within
// MaxAmount: the exact amount in pennies, halves rounded away from zero.
func FuzzLineTotalMinor(f *testing.F) {
	f.Add(int64(6), int64(2550))
	f.Add(int64(5), int64(1))
	f.Add(int64(-2), int64(3395))
	f.Add(int64(1), int64(math.MaxInt64))
	f.Add(int64(-1), int64(-math.MaxInt64))
	f.Add(int64(MaxQuantity), int64(MaxAmount/MaxQuantity))
	f.Fuzz(func(t *testing.T, qty, price int64) {
		if price != math.MinInt64 { // ParsePrice never returns it
			if got, want := Price(price).Minor(), roundedMinor(big.NewInt(price)); !is(got, want) {
				t.Fatalf("Price(%d).Minor() = %d; want %d", price, got, want)
			}
		}
		exact := new(big.Int).Mul(big.NewInt(qty), big.NewInt(price))
		if exact.CmpAbs(big.NewInt(MaxAmount)) > 0 {
			return
		}
		if got, want := LineTotalMinor(qty, Price(price)), roundedMinor(exact); !is(got, want) {
			t.Fatalf("LineTotalMinor(%d, %d) = %d; want %d", qty, price, got, want)
		}
	})
}

// roundedMinor rounds an amount in thousandths to pennies, halves away
// from zero.
func roundedMinor(milli *big.Int) *big.Int {
	q, r := new(big.Int).QuoRem(milli, big.NewInt(10), new(big.Int))
	if r.CmpAbs(big.NewInt(5)) >= 0 {
		q.Add(q, big.NewInt(int64(milli.Sign())))
	}
	return q
}

// is reports whether the big integer want is n.
func is(n int64, want *big.Int) bool { return want.IsInt64() && want.Int64() == n }

// FuzzParseTime checks that ParseTime returns UTC times, that a time it
// accepts reads back the same from its RFC 3339 form, and that rejections
// are ErrBadTime.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"12/1/2010 8:26", "1/2/2011 15:04:05", "2011-12-09 12:50:00", "2011-12-09T12:50",
		"2011-03-27T01:30:00", "2011-10-30 01:30", "2011-12-09T12:50:00+01:00", "2011-12-09T12:50:00.5Z",
		"0000-01-01T00:30:00+01:00", "13/1/2011 8:26", "", "yesterday"} {
		f.Add(s)
	}
	loc, err := time.LoadLocation(Zone)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime(s, loc)
		if err != nil {
			if !errors.Is(err, ErrBadTime) {
				t.Fatalf("ParseTime(%q): %v; want an ErrBadTime", s, err)
			}
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("ParseTime(%q) = %v; want UTC", s, got)
		}
		if got.Year() < 1 || got.Year() > 9999 {
			return // RFC 3339 has no form for it
		}
		if again, err := ParseTime(got.Format(time.RFC3339Nano), loc); err != nil || !again.Equal(got) {
			t.Fatalf("ParseTime(%q) = %v, %v; want %v", got.Format(time.RFC3339Nano), again, err, got)
		}
	})
}

// FuzzNormalizeCustomerID checks that NormalizeCustomerID trims, maps
// "NA" and blanks to no customer, drops only a zero fraction from a
// number, and is idempotent.
func FuzzNormalizeCustomerID(f *testing.F) {
	for _, s := range []string{"17850", "17850.0", "17850.00", " 12346 ", "17850.5", "shop-42", "", "NA", " NA ",
		"1.0.0", ".0", "NA.0", "00.0", "١٢.0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := NormalizeCustomerID(s)
		trimmed := strings.TrimSpace(s)
		if again := NormalizeCustomerID(got); again != got {
			t.Fatalf("NormalizeCustomerID(%q) = %q, but NormalizeCustomerID(%q) = %q", s, got, got, again)
		}
		if got != strings.TrimSpace(got) || got == "NA" || (trimmed == "NA") != (got == "" && trimmed != "") {
			t.Fatalf("NormalizeCustomerID(%q) = %q", s, got)
		}
		if got != trimmed {
			whole, frac, ok := strings.Cut(trimmed, ".")
			if trimmed != "NA" && (!ok || whole != got || !allDigits(whole) || strings.Trim(frac, "0") != "") {
				t.Fatalf("NormalizeCustomerID(%q) = %q; want %q", s, got, trimmed)
			}
		}
	})
}
