package promotion

import (
	"context"

	"github.com/tenurehq/tenure/services/promotion/internal/attribution"
)

// Report is a campaign's outcome.
type Report struct {
	Campaign   *Campaign
	Figures    Figures
	HasHoldout bool
	Lift       attribution.Report
}

// CampaignReport computes a campaign's report: redemptions, cost and
// revenue, and with a holdout the groups, lift and ROI.
func (s *Service) CampaignReport(ctx context.Context, id string) (*Report, error) {
	c, err := s.store.GetCampaign(ctx, id)
	if err != nil {
		return nil, err
	}
	f, err := s.store.CampaignFigures(ctx, id)
	if err != nil {
		return nil, err
	}
	r := &Report{Campaign: c, Figures: f, HasHoldout: c.HoldoutPercent > 0}
	if r.HasHoldout {
		t := attribution.Group{Members: f.Members[GroupTreatment], Converters: f.Converters[GroupTreatment],
			Orders: f.Orders[GroupTreatment], Revenue: f.Revenue[GroupTreatment], DiscountCost: f.TreatmentCost}
		k := attribution.Group{Members: f.Members[GroupControl], Converters: f.Converters[GroupControl],
			Orders: f.Orders[GroupControl], Revenue: f.Revenue[GroupControl]}
		r.Lift = attribution.Compute(t, k, int64(c.MarginPercent)*100)
	}
	return r, nil
}
