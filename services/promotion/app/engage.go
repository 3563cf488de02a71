package app

import (
	"context"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/platform/bootstrap"
	"github.com/tenurehq/tenure/services/promotion/internal/clients"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
)

// newEngagements wires outreach engagement (profile, when there is one,
// gets each engagement's event) and the outreach reports.
func (a *App) newEngagements(rt *bootstrap.Runtime, profile profilev1.ProfileServiceClient) (*outreach.Engagements, outreach.Reports) {
	c := a.cfg.Outreach
	e := &outreach.Engagements{Store: a.store, LinkSecret: []byte(c.TrackingKey), CallbackSecret: []byte(c.CallbackKey),
		UnsubscribeSecret: []byte(c.UnsubscribeKey), Clock: rt.Clock, Logger: a.logger}
	if profile != nil {
		e.Events = clients.EngagementEvents{Profile: profile}
	}
	r := outreach.Reports{Store: a.store, Journeys: a.store, Holdout: func(ctx context.Context, id string) (int, error) {
		camp, err := a.store.GetCampaign(ctx, id)
		if err != nil {
			return 0, err
		}
		return camp.HoldoutPercent, nil
	}}
	return e, r
}
