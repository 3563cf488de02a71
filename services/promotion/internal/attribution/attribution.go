// Package attribution holds the campaign maths: who is in a campaign's
// holdout (control) group, and what the campaign did against it —
// conversion lift with its 95 % confidence interval, incremental revenue
// and return on investment.
//
// Money stays in integer minor units; ratios (rates, lift, ROI) are
// float64, which is fine: they are reported, never charged.
package attribution

import (
	"crypto/sha256"
	"encoding/binary"
	"math"
	"math/big"
)

// MaxHoldoutPercent is the largest holdout share a campaign may have.
const MaxHoldoutPercent = 50

// Z95 is the two-sided 95 % quantile of the standard normal distribution.
const Z95 = 1.959964

// InHoldout reports whether a customer is in a campaign's control group:
// the first 8 bytes of SHA-256("<campaign id>\x00<customer id>"), read as
// a big-endian uint64, modulo 10000, is below holdoutPercent × 100. The
// assignment is stable (the same pair always lands in the same group),
// independent between campaigns, and a percent outside 0–50 is clamped to
// it.
func InHoldout(campaignID, customerID string, holdoutPercent int) bool {
	p := min(max(holdoutPercent, 0), MaxHoldoutPercent)
	if p == 0 {
		return false
	}
	return Bucket(campaignID, customerID) < uint64(p)*100
}

// Bucket is the customer's bucket in the campaign, 0 to 9999 (see
// InHoldout).
func Bucket(campaignID, customerID string) uint64 {
	h := sha256.New()
	h.Write([]byte(campaignID))
	h.Write([]byte{0})
	h.Write([]byte(customerID))
	var sum [sha256.Size]byte
	return binary.BigEndian.Uint64(h.Sum(sum[:0])[:8]) % 10000
}

// Group is one group's figures over the campaign.
type Group struct {
	// Members is the number of customers in the group (its frozen
	// audience share).
	Members int64
	// Converters is the number of members with at least one order.
	Converters int64
	Orders     int64
	// Revenue is the members' order totals, in minor units.
	Revenue int64
	// DiscountCost is the discount the campaign gave them (zero for the
	// control group, which never gets the campaign's promotions).
	DiscountCost int64
}

// Rate is the group's conversion rate, Converters ÷ Members (0 for an
// empty group).
func (g Group) Rate() float64 {
	if g.Members <= 0 {
		return 0
	}
	return float64(g.Converters) / float64(g.Members)
}

// Report is a campaign's outcome against its holdout.
type Report struct {
	Treatment, Control Group
	// TreatmentRate and ControlRate are the conversion rates.
	TreatmentRate, ControlRate float64
	// Lift is the absolute conversion lift, TreatmentRate − ControlRate.
	Lift float64
	// RelativeLift is Lift ÷ ControlRate; 0 with RelativeLiftDefined
	// false when ControlRate is 0.
	RelativeLift        float64
	RelativeLiftDefined bool
	// LiftLow and LiftHigh bound the 95 % confidence interval on Lift.
	LiftLow, LiftHigh float64
	// LiftDefined is false when either group is empty (no interval).
	LiftDefined bool
	// IncrementalRevenue is treatment revenue less the control revenue
	// scaled to the treatment's size (see Compute), in minor units.
	IncrementalRevenue int64
	// ROI = (IncrementalRevenue × margin − DiscountCost) ÷ DiscountCost;
	// ROIDefined is false when the discount cost is 0.
	ROI        float64
	ROIDefined bool
}

// Compute returns the report of a campaign from its two groups' figures
// and its expected gross margin in basis points (3500 = 35 %).
//
//   - Rates: p = converters ÷ members per group; Lift = pT − pC.
//   - 95 % interval: the two-proportion interval with unpooled standard
//     error, Lift ± Z95 × √(pT(1−pT)/nT + pC(1−pC)/nC), nT and nC the
//     groups' members. With no control group there is none.
//   - IncrementalRevenue = RevenueT − RevenueC × nT ÷ nC, the product
//     rounded half up to the minor unit (half away from zero); RevenueT
//     when the control group is empty.
//   - ROI = (IncrementalRevenue × marginBasisPoints ÷ 10000 −
//     DiscountCostT) ÷ DiscountCostT, in float64.
func Compute(treatment, control Group, marginBasisPoints int64) Report {
	r := Report{
		Treatment:     treatment,
		Control:       control,
		TreatmentRate: treatment.Rate(),
		ControlRate:   control.Rate(),
	}
	r.Lift = r.TreatmentRate - r.ControlRate
	if r.ControlRate > 0 {
		r.RelativeLift, r.RelativeLiftDefined = r.Lift/r.ControlRate, true
	}
	if treatment.Members > 0 && control.Members > 0 {
		pt, pc := r.TreatmentRate, r.ControlRate
		se := math.Sqrt(pt*(1-pt)/float64(treatment.Members) + pc*(1-pc)/float64(control.Members))
		r.LiftLow, r.LiftHigh, r.LiftDefined = r.Lift-Z95*se, r.Lift+Z95*se, true
	}
	r.IncrementalRevenue = treatment.Revenue
	if control.Members > 0 {
		r.IncrementalRevenue -= scaleHalfUp(control.Revenue, treatment.Members, control.Members)
	}
	if cost := treatment.DiscountCost; cost > 0 {
		gain := float64(r.IncrementalRevenue) * float64(marginBasisPoints) / 10000
		r.ROI, r.ROIDefined = (gain-float64(cost))/float64(cost), true
	}
	return r
}

// scaleHalfUp returns v × n ÷ d rounded half away from zero, exactly,
// for d > 0 and n ≥ 0 (math/big: a report, not a hot path); the largest
// int64 when the result does not fit.
func scaleHalfUp(v, n, d int64) int64 {
	x := new(big.Int).Mul(big.NewInt(v), big.NewInt(n))
	x.Mul(x, big.NewInt(2))
	if x.Sign() >= 0 {
		x.Add(x, big.NewInt(d))
	} else {
		x.Sub(x, big.NewInt(d))
	}
	x.Quo(x, big.NewInt(2*d)) // truncates toward zero: (2vn ± d) ÷ 2d
	if !x.IsInt64() {
		if x.Sign() < 0 {
			return math.MinInt64
		}
		return math.MaxInt64
	}
	return x.Int64()
}
