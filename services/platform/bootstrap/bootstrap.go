// Package bootstrap assembles what every Tenure service process needs
// before its own parts: the shared configuration (Config, which each
// service's and the gateway's app.Config embeds), the shared dependencies
// (Deps, each app.Deps: logger, telemetry, etcd client, clock), and at
// Start a logger, telemetry, an etcd client, the database with its
// migrations and the idempotency store, clients of other services, and the
// gRPC server with the standard interceptors. A service's app package
// calls Start, builds its domain on the Runtime and registers its API on
// the server NewServer returns. Nothing here changes process-wide state
// (signals, memory limit, otel globals): main does that.
package bootstrap

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"

	"github.com/tenurehq/tenure/services/platform/apierr"
	"github.com/tenurehq/tenure/services/platform/auth"
	"github.com/tenurehq/tenure/services/platform/discovery"
	"github.com/tenurehq/tenure/services/platform/grpcserver"
	"github.com/tenurehq/tenure/services/platform/idempotency"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/telemetry"
)

// idempotencySweepInterval is how often a runtime purges expired
// idempotency keys.
const idempotencySweepInterval = 10 * time.Minute

// Deps are the shared dependencies a launcher or a test may pass in, the
// same for every service (each app.Deps is this type); Start creates
// whatever is missing.
type Deps struct {
	// Logger defaults to JSON on stderr at Config.LogLevel.
	Logger *slog.Logger
	// Telemetry defaults to OTLP export when OTEL_EXPORTER_OTLP_ENDPOINT
	// is set, else no export.
	Telemetry *telemetry.Providers
	// Etcd defaults to a client of Config.EtcdEndpoints, if any.
	Etcd *clientv3.Client
	// Clock gives "now" to everything that depends on it (default
	// time.Now), so tests and replays can set the time.
	Clock func() time.Time
}

// Runtime is what Start assembled. Close releases it in reverse order.
type Runtime struct {
	Service   string
	Config    Config
	Logger    *slog.Logger
	Telemetry *telemetry.Providers
	// Clock is Deps.Clock, or time.Now.
	Clock func() time.Time
	// Etcd is nil when no endpoints are configured and none was passed in.
	Etcd *clientv3.Client
	// Discovery resolves the services Dial connects to; nil without Etcd.
	// Its Endpoints say which replicas those connections know.
	Discovery *discovery.Resolver
	// DB is nil when the configuration names no database (the gateway).
	DB *sqlstore.DB
	// Auth authenticates callers with the configured keys and tokens.
	Auth *auth.Authenticator
	// PersistAudit, when set before NewServer, also stores the audit
	// record of every privacy operation (profile keeps them in its
	// database).
	PersistAudit func(context.Context, auth.Record) error

	serviceKey string

	idem    *idempotency.Store
	admin   net.Listener
	closers []func()
}

// Start builds the runtime of service: logger, telemetry (OTLP when
// configured), etcd client, and, when cfg.DSN is set, the database with
// migrate and the idempotency store applied; the store's errors carry the
// domain "<service>.tenure.dev", and its expired keys are purged in the
// background until Close. On error everything already opened is released.
func Start(ctx context.Context, service string, cfg Config, deps Deps, migrate func(context.Context, *sqlstore.DB) error) (rt *Runtime, err error) {
	rt = &Runtime{Service: service, Config: cfg, Logger: deps.Logger, Telemetry: deps.Telemetry, Etcd: deps.Etcd, Clock: deps.Clock}
	if rt.Clock == nil {
		rt.Clock = time.Now
	}
	// "return nil, err" has set rt to nil by the time this runs: release
	// what was built through its own pointer.
	built := rt
	defer func() {
		if err != nil {
			built.Close()
			rt = nil
		}
	}()
	if rt.Logger == nil {
		level, err := telemetry.ParseLevel(cfg.LogLevel)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", service, err)
		}
		rt.Logger = telemetry.NewLogger(os.Stderr, service, level)
	}
	if rt.Telemetry == nil {
		var opts []telemetry.Option
		if cfg.AdminAddr != "" {
			opts = append(opts, telemetry.WithPrometheus())
		}
		p, shutdown, err := telemetry.Setup(ctx, service, opts...)
		if err != nil {
			return nil, fmt.Errorf("%s: telemetry: %w", service, err)
		}
		rt.Telemetry = p
		flush := cfg.ShutdownTimeout
		if flush <= 0 {
			flush = grpcserver.DefaultShutdownTimeout
		}
		rt.OnClose(func() {
			ctx, cancel := context.WithTimeout(context.Background(), flush)
			defer cancel()
			if err := shutdown(ctx); err != nil {
				rt.Logger.Warn("telemetry shutdown", "error", err)
			}
		})
	}
	if err := rt.startAuth(ctx); err != nil {
		return nil, fmt.Errorf("%s: auth: %w", service, err)
	}
	if cfg.AdminAddr != "" {
		if err := rt.serveAdmin(cfg.AdminAddr); err != nil {
			return nil, fmt.Errorf("%s: %w", service, err)
		}
	}
	if rt.Etcd == nil && len(cfg.EtcdEndpoints) > 0 {
		tlsCfg, err := cfg.etcdTLS()
		if err != nil {
			return nil, fmt.Errorf("%s: etcd tls: %w", service, err)
		}
		cli, err := clientv3.New(clientv3.Config{
			Endpoints:   cfg.EtcdEndpoints,
			TLS:         tlsCfg,
			DialTimeout: 5 * time.Second,
			Context:     context.WithoutCancel(ctx),
			// Discovery logs registration trouble through slog; the
			// client's own zap output would be a second, unstructured log.
			Logger: zap.NewNop(),
		})
		if err != nil {
			return nil, fmt.Errorf("%s: etcd client: %w", service, err)
		}
		rt.OnClose(func() { _ = cli.Close() })
		rt.Etcd = cli
	}
	if rt.Etcd != nil {
		rt.Discovery = discovery.NewResolver(rt.Etcd, rt.Logger)
	}
	if cfg.DSN == "" {
		return rt, nil
	}
	if err := ensureSQLiteDir(cfg.DSN); err != nil {
		return nil, fmt.Errorf("%s: %w", service, err)
	}
	db, err := sqlstore.Open(ctx, cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", service, err)
	}
	rt.OnClose(func() { _ = db.Close() })
	rt.DB = db
	if migrate != nil {
		if err := migrate(ctx, db); err != nil {
			return nil, fmt.Errorf("%s: migrate: %w", service, err)
		}
	}
	// The idempotency store keeps wall time rather than Clock: its claims,
	// heartbeats and retention are leases between real replicas.
	rt.idem = idempotency.NewStore(db, idempotency.WithDomain(service+".tenure.dev"))
	if err := rt.idem.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("%s: migrate idempotency keys: %w", service, err)
	}
	sweepCtx, stopSweep := context.WithCancel(context.WithoutCancel(ctx))
	swept := make(chan struct{})
	go func() {
		defer close(swept)
		rt.idem.Sweep(sweepCtx, idempotencySweepInterval, rt.Logger)
	}()
	rt.OnClose(func() {
		stopSweep()
		<-swept
	})
	return rt, nil
}

// OnClose adds f to what Close runs; Close runs them last first.
func (rt *Runtime) OnClose(f func()) { rt.closers = append(rt.closers, f) }

// Close releases everything Start and the Runtime's methods opened.
func (rt *Runtime) Close() {
	for i := len(rt.closers) - 1; i >= 0; i-- {
		rt.closers[i]()
	}
	rt.closers = nil
}

// Dial connects to another service through discovery, traced. It needs an
// etcd client; the connection is closed by Close. It does not wait for etcd:
// the connection resolves the service in the background, and its calls end
// at their deadlines whatever etcd does.
func (rt *Runtime) Dial(service string) (*grpc.ClientConn, error) {
	return rt.dial(service, true)
}

// DialForwarding connects like Dial but its calls carry no key of the
// service's own: for the gateway, whose backend calls carry only the
// credentials of the caller it authenticated, never widened by its own.
func (rt *Runtime) DialForwarding(service string) (*grpc.ClientConn, error) {
	return rt.dial(service, false)
}

func (rt *Runtime) dial(service string, ownKey bool) (*grpc.ClientConn, error) {
	if rt.Etcd == nil {
		return nil, fmt.Errorf("%s: dial %s: no etcd endpoints configured", rt.Service, service)
	}
	opts, err := rt.clientCredentials(ownKey)
	if err != nil {
		return nil, fmt.Errorf("%s: dial %s: %w", rt.Service, service, err)
	}
	if h := rt.Telemetry.ClientHandler(); h != nil {
		opts = append(opts, grpc.WithStatsHandler(h))
	}
	conn, err := rt.Discovery.Dial(service, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: dial %s: %w", rt.Service, service, err)
	}
	rt.OnClose(func() { _ = conn.Close() })
	return conn, nil
}

// NewServer returns the service's gRPC server: listening (over TLS when
// certificate files are configured), with the standard interceptors, every
// call authenticated and authorized by the platform's policy, errors mapped
// through table and, when the runtime has a database, request_id
// idempotency, plus opts. It registers in etcd when run.
func (rt *Runtime) NewServer(table *apierr.Table, opts ...grpc.ServerOption) (*grpcserver.Server, error) {
	creds, err := rt.serverCredentials()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rt.Service, err)
	}
	opts = append(creds, opts...)
	guard := rt.Guard()
	var extra []grpc.UnaryServerInterceptor
	if rt.idem != nil {
		extra = append(extra, rt.idem.UnaryServerInterceptor())
	}
	return grpcserver.New(grpcserver.Config{
		Service:           rt.Service,
		ListenAddr:        rt.Config.ListenAddr,
		AdvertiseAddr:     rt.Config.AdvertiseAddr,
		Etcd:              rt.Etcd,
		Logger:            rt.Logger,
		Telemetry:         rt.Telemetry,
		Errors:            table,
		UnaryInterceptors: extra,
		AuthUnary:         guard.UnaryServerInterceptor(),
		AuthStream:        guard.StreamServerInterceptor(),
		ShutdownTimeout:   rt.Config.ShutdownTimeout,
		ServerOptions:     opts,
	})
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
		return fmt.Errorf("data directory: %w", err)
	}
	return nil
}
