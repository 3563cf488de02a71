package loyalty

import (
	"math"
	"math/big"
	"math/bits"
)

// Money is an exact amount in the minor units of a currency.
type Money struct {
	Currency string
	Minor    int64
}

// minorDigits lists the ISO 4217 currencies whose minor unit is not a
// hundredth of the major unit; every other currency has two decimals.
var minorDigits = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
	"RWF": 0, "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}

// Exponent returns the number of decimals of currency's minor unit.
func Exponent(currency string) int {
	if d, ok := minorDigits[currency]; ok {
		return d
	}
	return 2
}

// pow10 returns 10^n for small n.
func pow10(n int) uint64 {
	p := uint64(1)
	for range n {
		p *= 10
	}
	return p
}

// mulDiv returns floor(a × b × c / d) exactly for non-negative a, b, c
// and a positive d, capped at the largest int64; 0 when any factor is not
// positive. It multiplies in 128 bits and falls back to math/big only when
// that overflows.
func mulDiv(a, b, c int64, d uint64) int64 {
	if a <= 0 || b <= 0 || c <= 0 {
		return 0
	}
	if hi, lo := bits.Mul64(uint64(a), uint64(b)); hi == 0 {
		if hi, lo = bits.Mul64(lo, uint64(c)); hi < d {
			if q, _ := bits.Div64(hi, lo, d); q <= math.MaxInt64 {
				return int64(q)
			}
			return math.MaxInt64
		}
	}
	n := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
	n.Mul(n, big.NewInt(c)).Quo(n, new(big.Int).SetUint64(d))
	if !n.IsInt64() {
		return math.MaxInt64
	}
	return n.Int64()
}
