package app

import (
	"context"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/platform/eventlog"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
)

// eventTriggers makes the messages of the journeys profile's events
// trigger (cart abandoned, post-purchase, first order) from what the event
// consumer recorded in the store, deciding carts by clock once the
// consumer has caught up with profile's log.
func (a *App) eventTriggers(clock func() time.Time, profile profilev1.ProfileServiceClient) *outreach.EventTriggers {
	return &outreach.EventTriggers{Journeys: a.store, Events: a.store, Messages: a.store, Clock: clock,
		CaughtUp: func(ctx context.Context) (bool, error) { return a.consumerCaughtUp(ctx, profile) }}
}

// consumerCaughtUp reports whether the consumer is within a page of the
// head profile's log has now: streaming as events come, not catching up.
func (a *App) consumerCaughtUp(ctx context.Context, profile profilev1.ProfileServiceClient) (bool, error) {
	head, err := profile.GetEventLogHead(ctx, &profilev1.GetEventLogHeadRequest{})
	if err != nil {
		return false, err
	}
	cur, err := a.store.Cursor(ctx)
	if err != nil {
		return false, err
	}
	return head.GetHeadSequence()-cur <= eventlog.DefaultPageSize, nil
}

// runEventTriggers runs the event triggers once, on the elected replica's
// tick.
func (a *App) runEventTriggers(ctx context.Context) {
	if n, err := a.outreach.events.RunOnce(ctx); err != nil && ctx.Err() == nil {
		a.logger.Warn("promotion: outreach event triggers", "error", err, "created", n)
	}
}
