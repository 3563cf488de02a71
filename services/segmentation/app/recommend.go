package app

import (
	"context"
	"log/slog"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/platform/bootstrap"
	"github.com/tenurehq/tenure/services/platform/eventlog"
	"github.com/tenurehq/tenure/services/segmentation/internal/consumer"
	"github.com/tenurehq/tenure/services/segmentation/internal/recommend"
	"github.com/tenurehq/tenure/services/segmentation/internal/rules"
	"github.com/tenurehq/tenure/services/segmentation/internal/store"
)

// recommendations is the recommendation part of the service: the model
// service, and the consumer that keeps the purchase history it is built
// from (nil without profile).
type recommendations struct {
	svc      *recommend.Service
	consumer *eventlog.Consumer
}

// newRecommendations wires the recommendation service over st and, with a
// profile client, the purchase history's own consumer of profile's log
// (it needs no features, and its cursor lives beside the history).
func newRecommendations(st *store.Store, clock func() time.Time, profile profilev1.ProfileServiceClient, rt *bootstrap.Runtime) (*recommendations, error) {
	r := &recommendations{svc: recommend.NewService(st, recommend.Options{}, clock)}
	if profile == nil {
		return r, nil
	}
	r.svc.SetCatchUp(func(ctx context.Context) error {
		return eventlog.WaitCaughtUp(ctx, profile, historyCursor{st}, catchUpPoll)
	})
	var err error
	r.consumer, err = eventlog.New(eventlog.Config{Client: profile, Handler: consumer.NewHistory(st, r.svc), Logger: rt.Logger,
		Meter: rt.Telemetry.Meter("github.com/tenurehq/tenure/services/segmentation/internal/consumer/history")})
	return r, err
}

// Rebuild implements engine.Recommender.
func (r *recommendations) Rebuild(ctx context.Context, asOf time.Time, includeRepurchases bool) (rules.Recommendations, error) {
	m, err := r.svc.Rebuild(ctx, asOf, includeRepurchases)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// historyCursor reads the purchase history's cursor, for catching up.
type historyCursor struct{ st *store.Store }

func (h historyCursor) Cursor(ctx context.Context) (int64, error) { return h.st.HistoryCursor(ctx) }

// run consumes profile's log into the purchase history and loads it into
// memory, until ctx is done.
func (r *recommendations) run(ctx context.Context, goRun func(func()), logger *slog.Logger) {
	if r.consumer != nil {
		goRun(func() { _ = r.consumer.Run(ctx) })
	}
	goRun(func() {
		if err := r.svc.Warm(ctx); err != nil && ctx.Err() == nil {
			logger.Warn("segmentation: load the purchase history into memory; the next recompute loads it", "error", err)
		}
	})
}

// Recommendations returns the service's recommendation model service: the
// Go-level way to a customer's top items (ForCustomer).
func (a *App) Recommendations() *recommend.Service { return a.recs.svc }

// HistoryCursor returns the sequence of the last profile event applied to
// the purchase history.
func (a *App) HistoryCursor(ctx context.Context) (int64, error) { return a.store.HistoryCursor(ctx) }
