package promotion

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tenurehq/tenure/services/platform/paging"
	"github.com/tenurehq/tenure/services/promotion/internal/attribution"
)

// Page sizes of the List methods.
var (
	CampaignPageSizes = paging.Sizes{Default: 50, Max: 500}
	CodePageSizes     = paging.Sizes{Default: 100, Max: 10000}
)

// CreateCampaign stores a new draft campaign.
func (s *Service) CreateCampaign(ctx context.Context, c *Campaign) (*Campaign, error) {
	if err := CheckID("campaign_id", c.ID); err != nil {
		return nil, err
	}
	if err := c.Validate("campaign."); err != nil {
		return nil, err
	}
	now := s.clock().UTC()
	c.Status, c.BudgetUsed, c.CreateTime, c.UpdateTime = StateDraft, 0, now, now
	if err := s.store.CreateCampaign(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// GetCampaign returns a campaign.
func (s *Service) GetCampaign(ctx context.Context, id string) (*Campaign, error) {
	return s.store.GetCampaign(ctx, id)
}

// ListCampaigns pages through the campaigns in id order.
func (s *Service) ListCampaigns(ctx context.Context, pageSize int, token string) ([]*Campaign, string, error) {
	page, err := paging.Parse(CampaignPageSizes, pageSize, token, paging.For("ListCampaigns"))
	if err != nil {
		return nil, "", err
	}
	cs, err := s.store.ListCampaigns(ctx, page.After, page.Limit())
	if err != nil {
		return nil, "", err
	}
	out, next := paging.Cut(page, cs, func(c *Campaign) string { return c.ID })
	return out, next, nil
}

// UpdateCampaign applies update to a campaign that has not ended.
func (s *Service) UpdateCampaign(ctx context.Context, id string, update func(c *Campaign) error) (*Campaign, error) {
	now := s.clock().UTC()
	c, err := s.store.UpdateCampaign(ctx, id, func(c *Campaign) ([]AudienceMember, error) {
		if c.StateAt(now) == StateEnded {
			return nil, fmt.Errorf("%w: %s cannot change", ErrCampaignEnded, id)
		}
		if err := update(c); err != nil {
			return nil, err
		}
		c.UpdateTime = now
		return nil, c.Validate("campaign.")
	})
	return s.changed(ctx, c, err)
}

// Transition activates, pauses or ends a campaign. The first activation of
// a campaign with a holdout and an audience freezes the audience
// (segmentation's members at that moment) and draws the control group.
func (s *Service) Transition(ctx context.Context, id string, action Action) (*Campaign, error) {
	var frozen []AudienceMember
	if action == ActionActivate {
		c, err := s.store.GetCampaign(ctx, id)
		if err != nil {
			return nil, err
		}
		if frozenAudience(c) && c.ActivateTime.IsZero() {
			if frozen, err = s.freeze(ctx, c); err != nil {
				return nil, err
			}
		}
	}
	now := s.clock().UTC()
	c, err := s.store.UpdateCampaign(ctx, id, func(c *Campaign) ([]AudienceMember, error) {
		st, err := c.Transition(action, now)
		if err != nil {
			return nil, err
		}
		c.Status, c.UpdateTime = st, now
		var members []AudienceMember
		if action == ActionActivate && c.ActivateTime.IsZero() {
			c.ActivateTime, members = now, frozen
			c.FrozenSize = int64(len(frozen))
		}
		if action == ActionEnd {
			c.EndTime = now
		}
		return members, nil
	})
	return s.changed(ctx, c, err)
}

// freeze lists the audience's members from segmentation and assigns each
// to a group by attribution's stable hash.
func (s *Service) freeze(ctx context.Context, c *Campaign) ([]AudienceMember, error) {
	if s.audiences == nil {
		return nil, fmt.Errorf("%w: cannot freeze the audience of %s", ErrSegmentationUnavailable, c.ID)
	}
	seen := map[string]bool{}
	var out []AudienceMember
	for _, name := range c.Audience.SegmentationNames() {
		ids, err := s.audiences.Members(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("%w: listing %s: %v", ErrSegmentationUnavailable, name, err)
		}
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				out = append(out, AudienceMember{CustomerID: id, Control: attribution.InHoldout(c.ID, id, c.HoldoutPercent)})
			}
		}
	}
	slices.SortFunc(out, func(a, b AudienceMember) int { return strings.Compare(a.CustomerID, b.CustomerID) })
	return out, nil
}

// changed refreshes the active set after a successful change.
func (s *Service) changed(ctx context.Context, c *Campaign, err error) (*Campaign, error) {
	if err != nil {
		return nil, err
	}
	if err := s.Refresh(ctx); err != nil {
		s.logger.WarnContext(ctx, "promotion: refreshing the active set", "error", err)
	}
	return c, nil
}

// CreatePromotion adds a promotion to a campaign that has not ended.
func (s *Service) CreatePromotion(ctx context.Context, p *Promotion) (*Promotion, error) {
	if err := CheckID("promotion_id", p.PromotionID); err != nil {
		return nil, err
	}
	c, err := s.store.GetCampaign(ctx, p.CampaignID)
	if err != nil {
		return nil, err
	}
	now := s.clock().UTC()
	if c.StateAt(now) == StateEnded {
		return nil, fmt.Errorf("%w: cannot add promotions to %s", ErrCampaignEnded, c.ID)
	}
	if err := p.Validate("promotion.", c); err != nil {
		return nil, err
	}
	p.Uses, p.BudgetUsed, p.StockUsed, p.Redeemed, p.CreateTime, p.UpdateTime = 0, 0, 0, false, now, now
	if err := s.store.CreatePromotion(ctx, p); err != nil {
		return nil, err
	}
	_, _ = s.changed(ctx, c, nil)
	return p, nil
}

// GetPromotion returns a promotion.
func (s *Service) GetPromotion(ctx context.Context, campaignID, promotionID string) (*Promotion, error) {
	return s.store.GetPromotion(ctx, campaignID, promotionID)
}

// ListPromotions pages through a campaign's promotions.
func (s *Service) ListPromotions(ctx context.Context, campaignID string, pageSize int, token string) ([]*Promotion, string, error) {
	page, err := paging.Parse(CampaignPageSizes, pageSize, token, paging.For("ListPromotions").With("parent", campaignID))
	if err != nil {
		return nil, "", err
	}
	if _, err := s.store.GetCampaign(ctx, campaignID); err != nil {
		return nil, "", err
	}
	ps, err := s.store.ListPromotions(ctx, campaignID, page.After, page.Limit())
	if err != nil {
		return nil, "", err
	}
	out, next := paging.Cut(page, ps, func(p *Promotion) string { return p.PromotionID })
	return out, next, nil
}

// UpdatePromotion applies update to a promotion of a campaign that has not
// ended.
func (s *Service) UpdatePromotion(ctx context.Context, campaignID, promotionID string, update func(p *Promotion) error) (*Promotion, error) {
	now := s.clock().UTC()
	p, err := s.store.UpdatePromotion(ctx, campaignID, promotionID, func(p *Promotion, c *Campaign) error {
		if c.StateAt(now) == StateEnded {
			return fmt.Errorf("%w: %s cannot change", ErrCampaignEnded, c.ID)
		}
		if err := update(p); err != nil {
			return err
		}
		p.UpdateTime = now
		return p.Validate("promotion.", c)
	})
	if err != nil {
		return nil, err
	}
	_, _ = s.changed(ctx, nil, nil)
	return p, nil
}

// DeletePromotion deletes a promotion no order has used.
func (s *Service) DeletePromotion(ctx context.Context, campaignID, promotionID string) error {
	if err := s.store.DeletePromotion(ctx, campaignID, promotionID); err != nil {
		return err
	}
	_, _ = s.changed(ctx, nil, nil)
	return nil
}
