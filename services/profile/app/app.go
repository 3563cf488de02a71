// Package app assembles the profile service: storage, domain, gRPC API and
// server lifecycle. cmd/profile and the tenured launcher run it.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tenurehq/tenure/services/platform/grpcserver"
	"github.com/tenurehq/tenure/services/platform/idempotency"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/telemetry"
	"github.com/tenurehq/tenure/services/profile/internal/grpcapi"
	"github.com/tenurehq/tenure/services/profile/internal/profile"
	"github.com/tenurehq/tenure/services/profile/internal/store"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
)

// ServiceName is the name the service registers under in discovery.
const ServiceName = "profile"

// Deps are optional shared dependencies; New creates what is missing.
type Deps struct {
	Logger    *slog.Logger
	Telemetry *telemetry.Providers
	Etcd      *clientv3.Client
}

// App is a running profile service.
type App struct {
	srv *grpcserver.Server
	api *grpcapi.Server
}

// New builds the service: it opens and migrates the database and listens.
// The cleanup function releases what New opened; call it after Run returns.
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
		cli, err := clientv3.New(clientv3.Config{
			Endpoints:   cfg.EtcdEndpoints,
			DialTimeout: 5 * time.Second,
			// Registration problems are logged by discovery through slog;
			// the client's own zap output would be a second, unstructured log.
			Logger: zap.NewNop(),
		})
		if err != nil {
			return fail(fmt.Errorf("profile: etcd client: %w", err))
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

	api := grpcapi.New(profile.NewService(st, nil))
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
	api.Register(srv.GRPC())
	return &App{srv: srv, api: api}, cleanup, nil
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
		return fmt.Errorf("profile: data directory: %w", err)
	}
	return nil
}

// Addr is the address the gRPC server listens on.
func (a *App) Addr() string { return a.srv.Addr() }

// Run serves until ctx is done, then shuts down cleanly: it ends the
// following event streams, deregisters, drains and stops.
func (a *App) Run(ctx context.Context) error {
	stop := context.AfterFunc(ctx, a.api.Stop)
	defer stop()
	if err := a.srv.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
