package loyalty

import (
	"slices"
	"time"
)

const day = 24 * time.Hour

// Qualifying returns the points that count for tiers at t: points earned
// from orders and actions over the last windowDays, available by t (not
// pending), less what was reversed from them.
func (a *Account) Qualifying(t time.Time, windowDays int64) int64 {
	from := t.Add(-time.Duration(windowDays) * day)
	var n int64
	for _, b := range a.Buckets {
		if b.Qualifying && b.EarnedAt.After(from) && !b.EarnedAt.After(t) && !b.AvailableAt.After(t) {
			n += b.Points - b.Reversed
		}
	}
	return max(n, 0)
}

// QualifiedTier returns the index of the highest tier qualifying reaches.
func QualifiedTier(tiers []Tier, qualifying int64) int {
	idx := 0
	for i, t := range tiers {
		if qualifying >= t.QualifyingPoints {
			idx = i
		}
	}
	return idx
}

// tierIndex returns the member's tier's index, 0 for an unknown tier.
func (a *Account) tierIndex(p Programme) int {
	return max(p.TierIndex(a.Member.Tier), 0)
}

// setTier moves the member to tier i since t.
func (a *Account) setTier(p Programme, i int, t time.Time) {
	a.Member.Tier, a.Member.TierSince = p.Tiers[i].ID, t
	a.dirtyMember = true
}

// Multiplier returns the earning multiplier of the member's tier, in
// percent.
func (a *Account) Multiplier(p Programme) int64 {
	return p.Tiers[a.tierIndex(p)].MultiplierPercent
}

// Upgrade moves the member up at once, at t, when its qualifying points
// reach a higher tier, and reports whether it did. Members without a tier
// get the lowest.
func (a *Account) Upgrade(p Programme, t time.Time) bool {
	if p.TierIndex(a.Member.Tier) < 0 {
		a.setTier(p, 0, t)
	}
	q := QualifiedTier(p.Tiers, a.Qualifying(t, p.QualificationWindowDays))
	if q <= a.tierIndex(p) {
		return false
	}
	a.setTier(p, q, t)
	return true
}

// Mature counts for the tier the pending points that have become
// available by t: for each qualifying bucket whose points became available
// after the member's MaturedAt and by t, in that order, the member moves up
// at once, as of the moment they became available, when its qualifying
// points then reach a higher tier. It reports whether the tier changed.
// Maturing again up to the same t changes nothing.
func (a *Account) Mature(p Programme, t time.Time) bool {
	var due []*Bucket
	for _, b := range a.Buckets {
		if b.Qualifying && b.AvailableAt.After(b.EarnedAt) && b.AvailableAt.After(a.Member.MaturedAt) && !b.AvailableAt.After(t) {
			due = append(due, b)
		}
	}
	if len(due) == 0 {
		return false
	}
	slices.SortStableFunc(due, func(x, y *Bucket) int { return x.AvailableAt.Compare(y.AvailableAt) })
	changed := false
	for _, b := range due {
		if a.Upgrade(p, b.AvailableAt) {
			changed = true
		}
	}
	a.Member.MaturedAt = due[len(due)-1].AvailableAt
	a.dirtyMember = true
	return changed
}

// TierUntil is when the member's tier stops being retained.
func (a *Account) TierUntil(p Programme) time.Time {
	return a.Member.TierSince.Add(time.Duration(p.TierRetentionDays) * day)
}

// Evaluate is the tier evaluation at asOf: a member that qualifies for a
// higher tier moves up; one that qualifies for its own tier requalifies
// (its retention starts again at asOf); one that no longer qualifies keeps
// its tier until the retention since it was last reached or requalified
// has passed, then moves one tier down or to the tier it qualifies for,
// as the programme's policy says. It reports whether the member changed;
// evaluating again at the same asOf changes nothing.
func (a *Account) Evaluate(p Programme, asOf time.Time) bool {
	before := a.Member
	if p.TierIndex(a.Member.Tier) < 0 {
		a.setTier(p, 0, asOf)
	}
	cur := a.tierIndex(p)
	q := QualifiedTier(p.Tiers, a.Qualifying(asOf, p.QualificationWindowDays))
	switch {
	case q > cur:
		a.setTier(p, q, asOf)
	case q == cur:
		if asOf.After(a.Member.TierSince) {
			a.setTier(p, cur, asOf)
		}
	case asOf.Before(a.TierUntil(p)):
		// kept through the retention
	case p.DowngradePolicy == DowngradeToQualified:
		a.setTier(p, q, asOf)
	default:
		a.setTier(p, cur-1, asOf)
	}
	return a.Member.Tier != before.Tier || !a.Member.TierSince.Equal(before.TierSince)
}
