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
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/platform/discovery"
	"github.com/tenurehq/tenure/services/platform/election"
	"github.com/tenurehq/tenure/services/platform/grpcserver"
	"github.com/tenurehq/tenure/services/platform/idempotency"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/telemetry"
	"github.com/tenurehq/tenure/services/segmentation/internal/consumer"
	"github.com/tenurehq/tenure/services/segmentation/internal/engine"
	"github.com/tenurehq/tenure/services/segmentation/internal/grpcapi"
	"github.com/tenurehq/tenure/services/segmentation/internal/rules"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
	"github.com/tenurehq/tenure/services/segmentation/internal/store"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
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
}

// New builds the service: it opens and migrates the database, restores the
// latest membership snapshot and listens. The cleanup function releases
// what New opened; call it after Run returns.
func New(ctx context.Context, cfg Config, deps Deps) (*App, func(), error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	var cleanups []func()
	cleanup := func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}
	fail := func(err error) (*App, func(), error) {
		cleanup()
		return nil, nil, err
	}

	logger := deps.Logger
	if logger == nil {
		level, _ := telemetry.ParseLevel(cfg.LogLevel) // checked by Validate
		logger = telemetry.NewLogger(os.Stderr, ServiceName, level)
	}
	tel := deps.Telemetry
	if tel == nil {
		p, shutdown, err := telemetry.Setup(ctx, ServiceName)
		if err != nil {
			return fail(err)
		}
		tel = p
		cleanups = append(cleanups, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := shutdown(ctx); err != nil {
				logger.Warn("telemetry shutdown", "error", err)
			}
		})
	}
	etcd := deps.Etcd
	if etcd == nil && len(cfg.EtcdEndpoints) > 0 {
		cli, err := clientv3.New(clientv3.Config{Endpoints: cfg.EtcdEndpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
		if err != nil {
			return fail(fmt.Errorf("segmentation: etcd client: %w", err))
		}
		cleanups = append(cleanups, func() { _ = cli.Close() })
		etcd = cli
	}

	if err := ensureSQLiteDir(cfg.DSN); err != nil {
		return fail(err)
	}
	db, err := sqlstore.Open(ctx, cfg.DSN)
	if err != nil {
		return fail(err)
	}
	cleanups = append(cleanups, func() { _ = db.Close() })
	st := store.New(db)
	if err := st.Migrate(ctx); err != nil {
		return fail(err)
	}
	idem := idempotency.NewStore(db)
	if err := idem.Migrate(ctx); err != nil {
		return fail(err)
	}

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
	eng = engine.New(engine.Config{Store: st, Service: svc, Rules: env, Etcd: etcd, Logger: logger, Clock: clock})
	cleanups = append(cleanups, eng.Close)
	if _, err := svc.CurrentSettings(ctx); err != nil {
		return fail(err)
	}
	if err := eng.Restore(ctx); err != nil {
		return fail(fmt.Errorf("segmentation: restore snapshot: %w", err))
	}

	a := &App{cfg: cfg, logger: logger, etcd: etcd, eng: eng, store: st}
	conn := deps.ProfileConn
	if conn == nil && etcd != nil {
		cc, err := discovery.Dial(etcd, cfg.ProfileService, grpc.WithStatsHandler(tel.ClientHandler()))
		if err != nil {
			return fail(fmt.Errorf("segmentation: dial %s: %w", cfg.ProfileService, err))
		}
		cleanups = append(cleanups, func() { _ = cc.Close() })
		conn = cc
	}
	if conn != nil {
		a.consumer = consumer.New(consumer.Config{Client: profilev1.NewProfileServiceClient(conn), Store: st, Logger: logger})
	} else {
		logger.Warn("segmentation: no etcd and no profile connection; not consuming profile events")
	}

	srv, err := grpcserver.New(grpcserver.Config{
		Service:           ServiceName,
		ListenAddr:        cfg.ListenAddr,
		AdvertiseAddr:     cfg.AdvertiseAddr,
		Etcd:              etcd,
		Logger:            logger,
		Telemetry:         tel,
		Errors:            grpcapi.ErrorTable(logger),
		UnaryInterceptors: []grpc.UnaryServerInterceptor{idem.UnaryServerInterceptor()},
		ShutdownTimeout:   cfg.ShutdownTimeout,
	})
	if err != nil {
		return fail(err)
	}
	grpcapi.New(svc, eng).Register(srv.GRPC())
	a.srv = srv
	return a, cleanup, nil
}

// ensureSQLiteDir creates the directory of a SQLite database file.
func ensureSQLiteDir(dsn string) error {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return nil
	}
	path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
	path, _, _ = strings.Cut(path, "?")
	if path == "" || path == ":memory:" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("segmentation: data directory: %w", err)
	}
	return nil
}

// Addr is the address the gRPC server listens on.
func (a *App) Addr() string { return a.srv.Addr() }

// Leading reports whether this replica currently runs the recompute schedule.
func (a *App) Leading() bool { return a.leading.Load() }

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
			a.eng.Schedule(ctx, a.cfg.RecomputeInterval)
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
