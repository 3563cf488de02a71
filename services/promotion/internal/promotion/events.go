package promotion

import (
	"context"
	"errors"

	"github.com/tenurehq/tenure/services/promotion/internal/attribution"
	"github.com/tenurehq/tenure/services/promotion/internal/pricing"
)

// ApplyEvents applies a page of orders and refunds from profile's log:
// refunds of redeemed orders release their discount (once per event), and
// orders count toward first-order conditions and are attributed to the
// holdout groups of the campaigns running when they were placed.
func (s *Service) ApplyEvents(ctx context.Context, last int64, orders []Order) error {
	for _, o := range orders {
		if !o.Refund || o.OrderID == "" || o.ErasedAs != "" {
			continue
		}
		if err := s.refundEvent(ctx, o); err != nil {
			return err
		}
	}
	campaigns, err := s.ranCampaigns(ctx)
	if err != nil {
		return err
	}
	return s.store.ApplyOrders(ctx, last, orders, func(o Order, frozen map[string]bool) []Attribution {
		var out []Attribution
		for _, c := range campaigns {
			if !c.RanAt(o.Time) {
				continue
			}
			g := GroupNone
			switch {
			case frozenAudience(c):
				control, ok := frozen[c.ID]
				if !ok {
					continue
				}
				g = GroupTreatment
				if control {
					g = GroupControl
				}
			case c.HoldoutPercent > 0:
				g = GroupTreatment
				if attribution.InHoldout(c.ID, o.CustomerID, c.HoldoutPercent) {
					g = GroupControl
				}
			default:
				continue
			}
			out = append(out, Attribution{CampaignID: c.ID, Group: g})
		}
		return out
	})
}

// ranCampaigns are the campaigns with a holdout that were ever activated.
func (s *Service) ranCampaigns(ctx context.Context) ([]*Campaign, error) {
	var out []*Campaign
	after := ""
	for {
		cs, err := s.store.ListCampaigns(ctx, after, 500)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			if c.HoldoutPercent > 0 && !c.ActivateTime.IsZero() {
				out = append(out, c)
			}
		}
		if len(cs) < 500 {
			return out, nil
		}
		after = cs[len(cs)-1].ID
	}
}

// refundEvent applies a refund event to its order's redemption, matching
// its lines to the cart's by SKU, in cart order.
func (s *Service) refundEvent(ctx context.Context, o Order) error {
	r, err := s.store.GetRedemption(ctx, o.OrderID)
	if errors.Is(err, ErrRedemptionNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if r.State == Cancelled || r.State == Refunded {
		return nil
	}
	left := map[string]int64{}
	for _, l := range r.Cart.Lines {
		left[l.ID] = l.Quantity
	}
	for _, rl := range r.Returned {
		left[rl.LineID] -= rl.Quantity
	}
	var lines []pricing.ReturnedLine
	for _, ol := range o.Lines {
		q := ol.Quantity
		for _, l := range r.Cart.Lines {
			if q == 0 {
				break
			}
			if l.SKU != ol.SKU || left[l.ID] == 0 {
				continue
			}
			n := min(q, left[l.ID])
			left[l.ID] -= n
			q -= n
			lines = append(lines, pricing.ReturnedLine{LineID: l.ID, Quantity: n})
		}
	}
	if len(lines) == 0 {
		return nil
	}
	_, err = s.RefundRedemption(ctx, o.OrderID, lines, o.EventID)
	var fe interface{ Field() string }
	if errors.As(err, &fe) || errors.Is(err, ErrRedemptionCancelled) {
		s.logger.WarnContext(ctx, "promotion: refund event not applied", "order", o.OrderID, "error", err)
		return nil
	}
	return err
}
