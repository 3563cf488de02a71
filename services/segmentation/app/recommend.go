package app

import (
	"context"
	"log/slog"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/platform/bootstrap"
	"github.com/tenurehq/tenure/services/platform/eventlog"
	"github.com/tenurehq/tenure/services/segmentation/internal/consumer"
	"github.com/tenurehq/tenure/services/segmentation/internal/engine"
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
func (r *recommendations) Rebuild(ctx context.Context, op string, asOf time.Time, includeRepurchases bool) (rules.Recommendations, error) {
	m, err := r.svc.Rebuild(ctx, op, asOf, includeRepurchases)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// follow rebuilds this replica's model when the latest recompute (the
// engine's snapshot, which follows other replicas' recomputes too) is
// newer than the one its model was built for, so that every replica
// answers, not only the one that ran the recompute. Operation ids sort by
// creation time.
func (r *recommendations) follow(ctx context.Context, eng *engine.Engine, st *store.Store, logger *slog.Logger) {
	_, op := eng.Snapshot()
	if op.ID == "" || op.ID <= r.svc.BuiltFor() {
		return
	}
	sv, err := st.GetSettings(ctx, op.SettingsVersion)
	if err == nil {
		_, err = r.svc.Rebuild(ctx, op.ID, op.AsOf, sv.Settings.IncludeRepurchases)
	}
	if err != nil && ctx.Err() == nil {
		logger.Warn("segmentation: rebuild the recommendation model of the latest recompute", "operation", op.Name(), "error", err)
	}
}

// historyCursor reads the purchase history's cursor, for catching up.
type historyCursor struct{ st *store.Store }

func (h historyCursor) Cursor(ctx context.Context) (int64, error) { return h.st.HistoryCursor(ctx) }

// run consumes profile's log into the purchase history and loads it into
// memory, until ctx is done.
func (r *recommendations) run(ctx context.Context, goRun func(func()), a *App) {
	if r.consumer != nil {
		goRun(func() { _ = r.consumer.Run(ctx) })
	}
	goRun(func() {
		if err := r.svc.Warm(ctx); err != nil && ctx.Err() == nil {
			a.logger.Warn("segmentation: load the purchase history into memory; the next recompute loads it", "error", err)
		}
		r.follow(ctx, a.eng, a.store, a.logger)
		engine.Every(ctx, syncInterval, func() { r.follow(ctx, a.eng, a.store, a.logger) })
	})
}

// Recommendations returns the service's recommendation model service: the
// Go-level way to a customer's top items (ForCustomer).
func (a *App) Recommendations() *recommend.Service { return a.recs.svc }

// HistoryCursor returns the sequence of the last profile event applied to
// the purchase history.
func (a *App) HistoryCursor(ctx context.Context) (int64, error) { return a.store.HistoryCursor(ctx) }
