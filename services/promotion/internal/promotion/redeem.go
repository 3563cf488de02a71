package promotion

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tenurehq/tenure/services/platform/fielderr"
	"github.com/tenurehq/tenure/services/promotion/internal/pricing"
)

// maxRedeemAttempts bounds how often RedeemCart evaluates again after
// losing a race for a limit.
const maxRedeemAttempts = 20

// validateCart checks a cart; paths are under prefix ("cart.").
func validateCart(prefix string, cart pricing.Cart) error {
	if cart.CustomerID == "" || len(cart.CustomerID) > 128 {
		return fielderr.New(prefix+"customer_id", "must be 1 to 128 characters")
	}
	if err := pricing.ValidateCart(cart); err != nil {
		var fe *fielderr.Error
		if errors.As(err, &fe) {
			e := *fe
			e.Path = prefix + e.Path
			return &e
		}
		return err
	}
	return nil
}

// fingerprint identifies a cart: the same order with the same cart is a
// retry.
func fingerprint(cart pricing.Cart) string {
	c := cart
	c.Codes = normalizedCodes(cart.Codes)
	slices.Sort(c.Codes)
	b, _ := json.Marshal(c)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// RedeemCart evaluates the cart again and commits what applies for the
// order. expected are the promotions the caller saw applied: when one no
// longer applies nothing is written and the error says why.
func (s *Service) RedeemCart(ctx context.Context, orderID string, cart pricing.Cart, expected []string) (*Redemption, error) {
	if orderID == "" || len(orderID) > 128 || strings.Contains(orderID, "/") {
		return nil, fielderr.New("order_id", "must be 1 to 128 characters without a slash")
	}
	if err := validateCart("cart.", cart); err != nil {
		return nil, err
	}
	fp := fingerprint(cart)
	if r, err := s.store.GetRedemption(ctx, orderID); err == nil {
		return sameCart(r, fp)
	} else if !errors.Is(err, ErrRedemptionNotFound) {
		return nil, err
	}
	if err := s.Refresh(ctx); err != nil {
		return nil, err
	}
	for range maxRedeemAttempts {
		now := s.clock().UTC()
		res, set, err := s.evaluate(ctx, cart, now, false)
		if err != nil {
			return nil, err
		}
		if err := checkExpected(res, expected); err != nil {
			return nil, err
		}
		r := &Redemption{OrderID: orderID, CustomerID: cart.CustomerID, Fingerprint: fp, State: Redeemed,
			Cart: cart, Result: res, ReleasedBy: map[string]int64{}, CreateTime: now, UpdateTime: now}
		existing, err := s.store.Redeem(ctx, r, charges(res, set))
		s.dropSharedUsage()
		switch {
		case errors.Is(err, ErrLimitRaced):
			continue
		case err != nil:
			return nil, err
		case existing != nil:
			return sameCart(existing, fp)
		}
		return r, nil
	}
	return nil, ErrTooManyRetries
}

// sameCart returns a stored redemption for a retry with the same cart.
func sameCart(r *Redemption, fp string) (*Redemption, error) {
	if r.Fingerprint != fp {
		return nil, fmt.Errorf("%w: order %s; send the cart it was redeemed with, or another order id", ErrOrderCartMismatch, r.OrderID)
	}
	return r, nil
}

// checkExpected fails when an expected promotion did not apply, naming
// each with its reason.
func checkExpected(res pricing.Result, expected []string) error {
	var missing []string
	for _, name := range expected {
		if slices.ContainsFunc(res.Applied, func(a pricing.Applied) bool { return a.PromotionID == name }) {
			continue
		}
		why := "it is not active"
		for _, n := range res.NotApplied {
			if n.PromotionID == name {
				why = string(n.Reason)
				if n.Needed != 0 || n.Seen != 0 {
					why += fmt.Sprintf(" (needed %d, seen %d)", n.Needed, n.Seen)
				}
				break
			}
		}
		missing = append(missing, name+": "+why)
	}
	if missing == nil {
		return nil
	}
	return fmt.Errorf("%w: %s; evaluate the cart again and show the customer the new price", ErrPromotionsChanged, strings.Join(missing, "; "))
}

// charges are what each applied promotion takes, sorted so that every
// transaction takes its rows in the same order.
func charges(res pricing.Result, set *activeSet) []Charge {
	byName := make(map[string]*Promotion, len(set.promos))
	for _, p := range set.promos {
		byName[p.Name()] = p
	}
	out := make([]Charge, 0, len(res.Applied))
	for _, a := range res.Applied {
		p := byName[a.PromotionID]
		ch := Charge{CampaignID: p.CampaignID, PromotionID: p.PromotionID, Code: a.Code, Cost: a.Cost(),
			Units: a.Units + a.GiftQuantity, CustomerUnits: a.Units, UsesPerCustomer: p.UsesPerCustomer}
		if fp := p.Def.Effect.FlashPrice; fp != nil {
			ch.CustomerUnitLimit = fp.PerCustomerUnitLimit
		}
		out = append(out, ch)
	}
	slices.SortFunc(out, func(a, b Charge) int {
		return strings.Compare(a.CampaignID+"/"+a.PromotionID, b.CampaignID+"/"+b.PromotionID)
	})
	return out
}

// GetRedemption returns an order's redemption.
func (s *Service) GetRedemption(ctx context.Context, orderID string) (*Redemption, error) {
	return s.store.GetRedemption(ctx, orderID)
}

// CancelRedemption releases everything the redemption still holds.
func (s *Service) CancelRedemption(ctx context.Context, orderID string) (*Redemption, error) {
	defer s.dropSharedUsage()
	r, _, err := s.store.UpdateRedemption(ctx, orderID, "", func(r *Redemption) ([]ReleaseCharge, error) {
		if r.State == Cancelled {
			return nil, nil
		}
		var out []ReleaseCharge
		for _, a := range r.Result.Applied {
			camp, promo := splitName(a.PromotionID)
			rc := ReleaseCharge{CampaignID: camp, PromotionID: promo, Code: a.Code, Amount: a.Cost() - r.ReleasedBy[a.PromotionID],
				ReleaseUse: !r.UsesReleased, Units: a.Units + a.GiftQuantity, CustomerUnits: a.Units}
			if r.UsesReleased {
				rc.Units, rc.CustomerUnits = 0, 0
			}
			r.ReleasedBy[a.PromotionID] = a.Cost()
			out = append(out, rc)
		}
		r.UsesReleased, r.State, r.UpdateTime = true, Cancelled, s.clock().UTC()
		return out, nil
	})
	return r, err
}

// RefundRedemption releases the discount of returned units in proportion,
// cumulatively; uses (and stock) are released once the whole order is
// returned. A non-empty eventID makes the refund apply once.
func (s *Service) RefundRedemption(ctx context.Context, orderID string, lines []pricing.ReturnedLine, eventID string) (*Redemption, error) {
	defer s.dropSharedUsage()
	r, _, err := s.store.UpdateRedemption(ctx, orderID, eventID, func(r *Redemption) ([]ReleaseCharge, error) {
		if r.State == Cancelled {
			return nil, fmt.Errorf("%w: order %s", ErrRedemptionCancelled, orderID)
		}
		orderLines := make([]pricing.OrderLine, len(r.Cart.Lines))
		for i, l := range r.Cart.Lines {
			orderLines[i] = pricing.OrderLine{LineID: l.ID, Quantity: l.Quantity}
		}
		rel, err := pricing.ReleaseRefund(orderLines, r.Result.Applied, r.Returned, lines)
		if err != nil {
			return nil, err
		}
		var out []ReleaseCharge
		for _, pr := range rel.Promotions {
			camp, promo := splitName(pr.PromotionID)
			r.ReleasedBy[pr.PromotionID] += pr.Amount
			out = append(out, ReleaseCharge{CampaignID: camp, PromotionID: promo, Amount: pr.Amount})
		}
		r.Returned = mergeReturned(r.Returned, lines)
		r.State, r.UpdateTime = PartiallyRefunded, s.clock().UTC()
		if rel.AllReturned {
			r.State = Refunded
			out = s.releaseUses(r, out)
		}
		return out, nil
	})
	return r, err
}

// releaseUses adds the uses and stock of every applied promotion to out.
func (s *Service) releaseUses(r *Redemption, out []ReleaseCharge) []ReleaseCharge {
	if r.UsesReleased {
		return out
	}
	r.UsesReleased = true
	for _, a := range r.Result.Applied {
		camp, promo := splitName(a.PromotionID)
		out = append(out, ReleaseCharge{CampaignID: camp, PromotionID: promo, Code: a.Code, ReleaseUse: true,
			Units: a.Units + a.GiftQuantity, CustomerUnits: a.Units})
	}
	return out
}

func mergeReturned(before, now []pricing.ReturnedLine) []pricing.ReturnedLine {
	out := slices.Clone(before)
	for _, l := range now {
		i := slices.IndexFunc(out, func(o pricing.ReturnedLine) bool { return o.LineID == l.LineID })
		if i < 0 {
			out = append(out, l)
		} else {
			out[i].Quantity += l.Quantity
		}
	}
	return out
}

// splitName splits a promotion resource name into its ids.
func splitName(name string) (campaignID, promotionID string) {
	ids, err := PromotionNames.Parse("promotion", name)
	if err != nil {
		return "", ""
	}
	return ids[0], ids[1]
}
