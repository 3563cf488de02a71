// Package app assembles the segmentation service: storage, the profile
// event consumer, the recompute engine and its schedule, the gRPC API and
// the server lifecycle. cmd/segmentation and the tenured launcher run it.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/platform/bootstrap"
	"github.com/tenurehq/tenure/services/platform/election"
	"github.com/tenurehq/tenure/services/platform/grpcserver"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/telemetry"
	"github.com/tenurehq/tenure/services/segmentation/internal/consumer"
	"github.com/tenurehq/tenure/services/segmentation/internal/engine"
	"github.com/tenurehq/tenure/services/segmentation/internal/grpcapi"
	"github.com/tenurehq/tenure/services/segmentation/internal/rules"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
	"github.com/tenurehq/tenure/services/segmentation/internal/store"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
)

// ServiceName is the name the service registers under in discovery.
const ServiceName = "segmentation"

// ElectionName is the election the recompute schedule runs under.
const ElectionName = "segmentation-recompute"

// syncInterval is how often a replica picks up other replicas' recomputes
// and static member changes.
const syncInterval = 2 * time.Second

// Deps are optional shared dependencies; New creates what is missing.
type Deps struct {
	Logger    *slog.Logger
	Telemetry *telemetry.Providers
	Etcd      *clientv3.Client
	// Clock gives "now" for recomputes without as_of (default time.Now).
	Clock func() time.Time
	// ProfileConn, if set, is used instead of dialling the profile service
	// through discovery.
	ProfileConn grpc.ClientConnInterface
}

// App is a running segmentation service.
type App struct {
	cfg      Config
	logger   *slog.Logger
	etcd     *clientv3.Client
	srv      *grpcserver.Server
	eng      *engine.Engine
	consumer *consumer.Consumer
	store    *store.Store
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
	if cfg.MemoryLimit > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(cfg.MemoryLimit)
	}
	var st *store.Store
	rt, err := bootstrap.Start(ctx, ServiceName, cfg.Config, bootstrap.Deps{Logger: deps.Logger, Telemetry: deps.Telemetry, Etcd: deps.Etcd}, func(ctx context.Context, db *sqlstore.DB) error {
		st = store.New(db)
		return st.Migrate(ctx)
	})
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (*App, func(), error) {
		rt.Close()
		return nil, nil, err
	}
	logger, etcd := rt.Logger, rt.Etcd

	env, err := rules.NewEnv()
	if err != nil {
		return fail(err)
	}
	clock := deps.Clock
	if clock == nil {
		clock = time.Now
	}
	var eng *engine.Engine
	svc := segmentation.NewService(st, engine.RuleChecker(env),
		segmentation.WithClock(clock),
		segmentation.WithMemberCount(func(id string) int64 { return eng.MemberCount(id) }),
		segmentation.WithStaticChanged(func(ctx context.Context) {
			if err := eng.RefreshStatic(context.WithoutCancel(ctx)); err != nil {
				logger.Warn("segmentation: refresh static segments", "error", err)
			}
		}))
	var cons *consumer.Consumer // set below; nil when there is no profile to consume
	eng = engine.New(engine.Config{Store: st, Service: svc, Rules: env, Etcd: etcd, Logger: logger, Clock: clock,
		CatchUp: func(ctx context.Context) error {
			if cons == nil {
				return nil
			}
			return cons.WaitCaughtUp(ctx, 20*time.Millisecond)
		}})
	rt.OnClose(eng.Close)
	if _, err := svc.CurrentSettings(ctx); err != nil {
		return fail(err)
	}
	if err := eng.Restore(ctx); err != nil {
		return fail(fmt.Errorf("segmentation: restore snapshot: %w", err))
	}

	a := &App{cfg: cfg, logger: logger, etcd: etcd, eng: eng, store: st}
	conn := deps.ProfileConn
	if conn == nil && etcd != nil {
		cc, err := rt.Dial(cfg.ProfileService)
		if err != nil {
			return fail(err)
		}
		conn = cc
	}
	if conn != nil {
		cons = consumer.New(consumer.Config{Client: profilev1.NewProfileServiceClient(conn), Store: st, Logger: logger,
			OnForget: eng.Forget})
		a.consumer = cons
	} else {
		logger.Warn("segmentation: no etcd and no profile connection; not consuming profile events")
	}

	srv, err := rt.NewServer(grpcapi.ErrorTable(logger), grpcapi.ServerOptions()...)
	if err != nil {
		return fail(err)
	}
	grpcapi.New(svc, eng).Register(srv.GRPC())
	a.srv = srv
	return a, rt.Close, nil
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
	if a.cfg.RecomputeInterval > 0 {
		schedule := func(ctx context.Context) {
			a.leading.Store(true)
			defer a.leading.Store(false)
			a.logger.Info("segmentation: leading the recompute schedule", "interval", a.cfg.RecomputeInterval)
			a.eng.Schedule(ctx, a.cfg.RecomputeInterval, func(segmentation.Operation) { a.scheduled.Add(1) })
		}
		if a.etcd != nil {
			id := a.cfg.AdvertiseAddr
			if id == "" {
				id = a.srv.Addr()
			}
			goRun(func() {
				if err := election.Run(ctx, a.etcd, ElectionName, id, a.logger, schedule); err != nil && ctx.Err() == nil {
					a.logger.Error("segmentation: recompute election", "error", err)
				}
			})
		} else {
			goRun(func() { schedule(ctx) })
		}
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
