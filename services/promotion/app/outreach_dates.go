package app

import (
	"context"
	"log/slog"

	loyaltyv1 "github.com/tenurehq/tenure/gen/tenure/loyalty/v1"
	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	"github.com/tenurehq/tenure/services/platform/bootstrap"
	"github.com/tenurehq/tenure/services/promotion/internal/clients"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
	"google.golang.org/grpc"
)

// dateTriggers are the birthday, holiday and points-expiring triggers.
type dateTriggers struct {
	dates  *outreach.DateTriggers
	points *outreach.PointsTriggers
	// filtered is the message store of the triggers that make one message
	// at a time: it applies journeys' audience filters.
	filtered outreach.FilteredMessages
}

// newDateTriggers wires the date triggers to the store (customers from
// profile's stream), segmentation (audience filters) and loyalty
// (expiring points).
func (a *App) newDateTriggers(rt *bootstrap.Runtime, conns map[string]*grpc.ClientConn, rules outreachRules) dateTriggers {
	members := clients.Membership{Client: segmentationv1.NewSegmentationServiceClient(conns[a.cfg.SegmentationService])}
	env := outreach.TriggerEnv{Journeys: a.store, Customers: a.store, Messages: a.store, Members: members, Cursors: a.store,
		Zone: rules.zone, Quiet: rules.quiet, Clock: rt.Clock}
	return dateTriggers{filtered: outreach.FilteredMessages{MessageStore: a.store, Journeys: a.store, Members: members},
		dates: &outreach.DateTriggers{TriggerEnv: env},
		points: &outreach.PointsTriggers{TriggerEnv: env, Every: a.cfg.Outreach.PointsInterval,
			Points: clients.ExpiringPoints{Client: loyaltyv1.NewLoyaltyServiceClient(conns[a.cfg.LoyaltyService])}},
	}
}

// contacts reads customers at send time from profile, and the points
// balance of points-expiring messages from loyalty.
func (a *App) contacts(conns map[string]*grpc.ClientConn) clients.Contacts {
	return clients.Contacts{Profile: profilev1.NewProfileServiceClient(conns[a.cfg.ProfileService]), Campaigns: a.store,
		Loyalty: loyaltyv1.NewLoyaltyServiceClient(conns[a.cfg.LoyaltyService])}
}

// run makes the messages due soon; the dispatcher sends them.
func (d dateTriggers) run(ctx context.Context, logger *slog.Logger) {
	if n, err := d.dates.RunOnce(ctx); err != nil && ctx.Err() == nil {
		logger.Warn("promotion: outreach date triggers", "error", err, "created", n)
	}
	if n, err := d.points.RunOnce(ctx); err != nil && ctx.Err() == nil {
		logger.Warn("promotion: outreach points triggers", "error", err, "created", n)
	}
}
