package app

import (
	"context"
	"time"

	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
)

// eventTriggers makes the messages of the journeys profile's events
// trigger (cart abandoned, post-purchase, first order) from what the event
// consumer recorded in the store, deciding carts by clock.
func (a *App) eventTriggers(clock func() time.Time) *outreach.EventTriggers {
	return &outreach.EventTriggers{Journeys: a.store, Events: a.store, Messages: a.store, Clock: clock}
}

// runEventTriggers runs the event triggers once, on the elected replica's
// tick.
func (a *App) runEventTriggers(ctx context.Context) {
	if n, err := a.outreach.events.RunOnce(ctx); err != nil && ctx.Err() == nil {
		a.logger.Warn("promotion: outreach event triggers", "error", err, "created", n)
	}
}
