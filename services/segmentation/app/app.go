// Package app assembles the segmentation service: storage, the profile
// event consumer, the recompute engine and its schedule, the gRPC API and
// the server lifecycle. cmd/segmentation and the tenured launcher run it.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/platform/bootstrap"
	"github.com/tenurehq/tenure/services/platform/election"
	"github.com/tenurehq/tenure/services/platform/eventlog"
	"github.com/tenurehq/tenure/services/platform/grpcserver"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/segmentation/internal/consumer"
	"github.com/tenurehq/tenure/services/segmentation/internal/engine"
	"github.com/tenurehq/tenure/services/segmentation/internal/grpcapi"
	"github.com/tenurehq/tenure/services/segmentation/internal/rules"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
	"github.com/tenurehq/tenure/services/segmentation/internal/store"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// ServiceName is the name the service registers under in discovery.
const ServiceName = "segmentation"

// electionName is the election the recompute schedule runs under.
const electionName = "segmentation-recompute"

// lockName is the cluster-wide lock a recompute holds.
const lockName = "segmentation-recompute"

// catchUpPoll is how often a recompute waiting for the event log to be
// applied checks the cursor.
const catchUpPoll = 20 * time.Millisecond

// syncInterval is how often a replica picks up other replicas' recomputes
// and static member changes.
const syncInterval = 2 * time.Second

// Deps are optional shared dependencies (logger, telemetry, etcd client,
// clock), the same for every service; New creates what is missing. The
// clock gives "now" to recomputes without as_of and to stored settings.
type Deps = bootstrap.Deps

// App is a running segmentation service.
type App struct {
	cfg      Config
	logger   *slog.Logger
	etcd     *clientv3.Client
	srv      *grpcserver.Server
	eng      *engine.Engine
	consumer *eventlog.Consumer
	store    *store.Store
	recs     *recommendations
	leading  atomic.Bool
	// scheduled counts the recomputes this replica's schedule started.
	scheduled atomic.Int64
}

// New builds the service: it opens and migrates the database, restores the
// latest membership snapshot and listens. The cleanup function releases
// what New opened; call it after Run returns.
func New(ctx context.Context, cfg Config, deps Deps) (*App, func(), error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	rt, err := bootstrap.Start(ctx, ServiceName, cfg.Config, deps,
		func(ctx context.Context, db *sqlstore.DB) error {
			if err := store.New(db).Migrate(ctx); err != nil {
				return err
			}
			return store.New(db).MigrateHistory(ctx)
		})
	if err != nil {
		return nil, nil, err
	}
	a, err := build(ctx, cfg, rt)
	if err != nil {
		rt.Close()
		return nil, nil, err
	}
	return a, rt.Close, nil
}

// build wires the service over rt in dependency order: the store, the
// profile client, the engine, the use cases over the engine's snapshot,
// the event consumer applying to the store and the engine, and the API.
func build(ctx context.Context, cfg Config, rt *bootstrap.Runtime) (*App, error) {
	logger, etcd, clock := rt.Logger, rt.Etcd, rt.Clock
	st := store.New(rt.DB, store.WithChangeRetention(cfg.AudienceChangeRetention))
	env, err := rules.NewEnv()
	if err != nil {
		return nil, err
	}
	profile, err := profileClient(cfg, rt)
	if err != nil {
		return nil, err
	}
	recs, err := newRecommendations(st, clock, profile, rt)
	if err != nil {
		return nil, err
	}
	eng, err := newEngine(st, env, clock, profile, rt, recs)
	if err != nil {
		return nil, err
	}
	svc := segmentation.NewService(st, engine.RuleChecker(env), segmentation.WithClock(clock), segmentation.WithMembership(eng))
	if _, err := svc.CurrentSettings(ctx); err != nil {
		return nil, err
	}
	if err := eng.Restore(ctx); err != nil {
		return nil, fmt.Errorf("segmentation: restore snapshot: %w", err)
	}

	a := &App{cfg: cfg, logger: logger, etcd: etcd, eng: eng, store: st, recs: recs}
	if profile != nil {
		a.consumer, err = eventlog.New(eventlog.Config{Client: profile, Handler: consumer.New(st, eng, logger),
			IncludeFeatures: true, Logger: logger, Meter: rt.Telemetry.Meter("github.com/tenurehq/tenure/services/platform/eventlog")})
		if err != nil {
			return nil, err
		}
	} else {
		logger.Warn("segmentation: no etcd, so no profile service to consume events from")
	}
	srv, err := rt.NewServer(grpcapi.ErrorTable(logger), grpcapi.ServerOptions()...)
	if err != nil {
		return nil, err
	}
	grpcapi.New(svc, eng).Register(srv.GRPC())
	grpcapi.NewRecommendations(recs.svc).Register(srv.GRPC())
	grpcapi.NewChangeServer(segmentation.AudienceChanges{Store: st}).Register(srv.GRPC())
	a.srv = srv
	return a, nil
}

// profileClient returns a client of the profile service dialled through
// discovery; nil without etcd.
func profileClient(cfg Config, rt *bootstrap.Runtime) (profilev1.ProfileServiceClient, error) {
	if rt.Etcd == nil {
		return nil, nil
	}
	conn, err := rt.Dial(cfg.ProfileService)
	if err != nil {
		return nil, err
	}
	return profilev1.NewProfileServiceClient(conn), nil
}

// newEngine returns the recompute engine, closed with rt: under the
// cluster-wide recompute lock when there is etcd, and waiting for the
// event log to be applied before each recompute when there is profile.
func newEngine(st *store.Store, env *rules.Env, clock func() time.Time, profile profilev1.ProfileServiceClient, rt *bootstrap.Runtime,
	recs *recommendations) (*engine.Engine, error) {
	cfg := engine.Config{Store: st, Settings: segmentation.SettingsSource{Store: st, Clock: clock}, Rules: env, Recommender: recs,
		Logger: rt.Logger, Clock: clock, Meter: rt.Telemetry.Meter("github.com/tenurehq/tenure/services/segmentation/internal/engine")}
	if rt.Etcd != nil {
		l, err := election.NewLocker(rt.Etcd, lockName)
		if err != nil {
			return nil, err
		}
		cfg.Locker = l
	}
	if profile != nil {
		cfg.CatchUp = func(ctx context.Context) error {
			if err := eventlog.WaitCaughtUp(ctx, profile, st, catchUpPoll); err != nil {
				return err
			}
			return eventlog.WaitCaughtUp(ctx, profile, historyCursor{st}, catchUpPoll)
		}
	}
	eng := engine.New(cfg)
	rt.OnClose(eng.Close)
	return eng, nil
}

// Addr is the address the gRPC server listens on.
func (a *App) Addr() string { return a.srv.Addr() }

// Leading reports whether this replica currently runs the recompute schedule.
func (a *App) Leading() bool { return a.leading.Load() }

// ScheduledRecomputes returns how many recomputes this replica's schedule
// has started.
func (a *App) ScheduledRecomputes() int64 { return a.scheduled.Load() }

// Cursor returns the sequence of the last profile event applied.
func (a *App) Cursor(ctx context.Context) (int64, error) { return a.store.Cursor(ctx) }

// Run serves until ctx is done: the gRPC API, the event consumer, the
// recompute schedule (on the elected replica) and snapshot syncing. Then
// it shuts down cleanly and stops a running recompute.
func (a *App) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	goRun := func(fn func()) {
		wg.Add(1)
		go func() { defer wg.Done(); fn() }()
	}
	if a.consumer != nil {
		goRun(func() { _ = a.consumer.Run(ctx) })
	}
	goRun(func() { a.eng.RunSync(ctx, syncInterval) })
	a.recs.run(ctx, goRun, a)
	goRun(func() {
		if err := a.eng.WarmInputs(ctx); err != nil && ctx.Err() == nil {
			a.logger.Warn("segmentation: load the inputs into memory; the next recompute loads them", "error", err)
		}
	})
	if a.cfg.RecomputeInterval > 0 {
		schedule := func(ctx context.Context) {
			a.leading.Store(true)
			defer a.leading.Store(false)
			a.logger.Info("segmentation: leading the recompute schedule", "interval", a.cfg.RecomputeInterval)
			a.eng.Schedule(ctx, a.cfg.RecomputeInterval, func(segmentation.Operation) { a.scheduled.Add(1) })
		}
		id := a.cfg.AdvertiseAddr
		if id == "" {
			id = a.srv.Addr()
		}
		goRun(func() {
			if err := election.RunOrAlone(ctx, a.etcd, electionName, id, a.logger, schedule); err != nil && ctx.Err() == nil {
				a.logger.Error("segmentation: recompute election", "error", err)
			}
		})
	}
	err := a.srv.Run(ctx)
	cancel()
	wg.Wait()
	a.eng.Close()
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
