package pricing

import (
	"errors"
	"fmt"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

// ErrOverReturn marks a refund that returns more units of a line than the
// order had (counting earlier refunds), or a line the order did not have.
var ErrOverReturn = errors.New("pricing: returned units exceed the order")

// ErrBadRedemption marks stored redemption data the engine cannot use (a
// negative allocation): a bug or corruption, never the caller's input.
var ErrBadRedemption = errors.New("pricing: invalid redemption data")

// OrderLine is a redeemed order's line: its id and quantity.
type OrderLine struct {
	LineID   string
	Quantity int64
}

// ReturnedLine is units of one line returned by a refund.
type ReturnedLine struct {
	LineID   string
	Quantity int64
}

// Release is what a refund gives back to budgets.
type Release struct {
	// Parts are the released amounts per promotion and line (non-zero
	// only), in the order of the applied promotions and their allocations.
	Parts []ReleasePart
	// Promotions sums Parts (and released shipping discounts) per
	// promotion, in the order of the applied promotions, non-zero only.
	Promotions []PromotionRelease
	// Lines sums Parts per line, in order-line order, non-zero only.
	Lines []LineRelease
	// AllReturned is true when, with this refund, every unit of the order
	// has been returned: uses are released then, and so are shipping
	// discounts.
	AllReturned bool
}

// ReleasePart is one promotion's release on one line.
type ReleasePart struct {
	PromotionID string
	LineID      string
	Amount      int64
}

// PromotionRelease is what one promotion (and so its campaign) gets back.
type PromotionRelease struct {
	PromotionID string
	CampaignID  string
	Amount      int64
}

// LineRelease is the discount released on one line.
type LineRelease struct {
	LineID string
	Amount int64
}

// ReleaseRefund computes what a refund releases of a redemption's
// discounts. lines are the order's lines, applied the promotions the
// redemption applied (with their allocations), before the units returned
// by earlier refunds and now this refund's units.
//
// Rule: after r of a line's q units have been returned in all, a
// promotion's allocation a on that line has released ⌊a × r ÷ q⌋; a refund
// releases the difference between that figure after it and before it. So
// successive partial refunds add up exactly to a when all q units are
// back, whatever the steps. A promotion's shipping discount is released by
// the refund that returns the order's last unit.
//
// Lines A 2 × 3000 and B 4000 with 1000 off the order: allocations A 600,
// B 400; returning one unit of A releases 300.
//
// Errors are *fielderr.Error with paths "returned_lines[i]…" (i indexes
// now) wrapping ErrOverReturn.
func ReleaseRefund(lines []OrderLine, applied []Applied, before, now []ReturnedLine) (Release, error) {
	qty := make(map[string]int64, len(lines))
	for _, l := range lines {
		qty[l.LineID] = l.Quantity
	}
	prev := make(map[string]int64, len(before))
	for _, r := range before {
		prev[r.LineID] += r.Quantity
	}
	after := make(map[string]int64, len(prev)+len(now))
	for id, n := range prev {
		after[id] = n
	}
	for i, r := range now {
		p := fmt.Sprintf("returned_lines[%d]", i)
		q, ok := qty[r.LineID]
		switch {
		case !ok:
			return Release{}, &fielderr.Error{Path: p + ".line_id", Problem: fmt.Sprintf("%s is not a line of the order", fielderr.Quote(r.LineID)), Err: ErrOverReturn}
		case r.Quantity < 1:
			return Release{}, fielderr.New(p+".quantity", "must be positive, got %d", r.Quantity)
		case r.Quantity > q-after[r.LineID]:
			return Release{}, &fielderr.Error{Path: p + ".quantity", Problem: fmt.Sprintf("is %d but only %d of the line's %d units are left to return", r.Quantity, q-after[r.LineID], q), Err: ErrOverReturn}
		}
		after[r.LineID] += r.Quantity
	}
	for _, a := range applied {
		for _, al := range a.Allocations {
			if al.Amount < 0 || a.ShippingDiscount < 0 {
				return Release{}, fmt.Errorf("%w: promotion %s has a negative allocation", ErrBadRedemption, a.PromotionID)
			}
		}
	}
	all, wasAll := true, true
	for _, l := range lines {
		all = all && after[l.LineID] == l.Quantity
		wasAll = wasAll && prev[l.LineID] == l.Quantity
	}
	rel := Release{AllReturned: all}
	lineSum := make(map[string]int64, len(lines))
	for _, a := range applied {
		pr := PromotionRelease{PromotionID: a.PromotionID, CampaignID: a.CampaignID}
		for _, al := range a.Allocations {
			q := qty[al.LineID]
			if q <= 0 {
				continue
			}
			was, _ := mulDivFloor(al.Amount, prev[al.LineID], q)
			is, _ := mulDivFloor(al.Amount, after[al.LineID], q)
			if d := is - was; d != 0 {
				rel.Parts = append(rel.Parts, ReleasePart{PromotionID: a.PromotionID, LineID: al.LineID, Amount: d})
				pr.Amount += d
				lineSum[al.LineID] += d
			}
		}
		if all && !wasAll {
			pr.Amount += a.ShippingDiscount
		}
		if pr.Amount != 0 {
			rel.Promotions = append(rel.Promotions, pr)
		}
	}
	for _, l := range lines {
		if d := lineSum[l.LineID]; d != 0 {
			rel.Lines = append(rel.Lines, LineRelease{LineID: l.LineID, Amount: d})
		}
	}
	return rel, nil
}
