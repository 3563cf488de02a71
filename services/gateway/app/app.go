// Package app assembles the JSON gateway: a grpc-gateway mux over every
// backend service's HTTP rules, dialled through etcd discovery, plus
// /healthz, /readyz and /openapi.json, served over HTTP with tracing and
// graceful shutdown. cmd/gateway and tools/cmd/tenured both run it.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"

	"github.com/tenurehq/tenure/services/gateway/internal/edge"
	"github.com/tenurehq/tenure/services/gateway/internal/openapi"
	"github.com/tenurehq/tenure/services/gateway/internal/probe"
	"github.com/tenurehq/tenure/services/platform/discovery"
	"github.com/tenurehq/tenure/services/platform/telemetry"
)

// ServiceName is the gateway's name in logs and traces.
const ServiceName = "gateway"

// Deps are the gateway's collaborators. All are optional: a nil Logger logs
// JSON to stderr at Config.LogLevel, a nil Telemetry traces nothing, and a nil
// Etcd makes New connect to Config.EtcdEndpoints (and close it on cleanup).
type Deps struct {
	Logger    *slog.Logger
	Telemetry *telemetry.Providers
	Etcd      *clientv3.Client
}

// App is a gateway that is listening but not yet serving.
type App struct {
	cfg Config
	log *slog.Logger
	ln  net.Listener
	srv *http.Server
}

// New validates cfg, dials every backend through discovery, builds the
// HTTP handler and starts listening on cfg.ListenAddr. The returned cleanup
// closes backend connections and, if New opened it, the etcd client; call it
// after Run returns.
func New(ctx context.Context, cfg Config, deps Deps) (*App, func(), error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	log := deps.Logger
	if log == nil {
		level, _ := telemetry.ParseLevel(cfg.LogLevel) // checked by Validate
		log = telemetry.NewLogger(os.Stderr, ServiceName, level)
	}
	tel := deps.Telemetry
	if tel == nil {
		tel = telemetry.NewProviders(nil)
	}

	var closers []func()
	cleanup := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	fail := func(err error) (*App, func(), error) {
		cleanup()
		return nil, nil, err
	}

	cli := deps.Etcd
	if cli == nil {
		if len(cfg.EtcdEndpoints) == 0 {
			return fail(errors.New("gateway: no etcd endpoints configured"))
		}
		var err error
		cli, err = clientv3.New(clientv3.Config{
			Endpoints:   cfg.EtcdEndpoints,
			DialTimeout: 5 * time.Second,
			Context:     context.WithoutCancel(ctx),
			// Connection trouble shows in /readyz; the client's own retry
			// chatter would only interleave foreign log lines.
			Logger: zap.NewNop(),
		})
		if err != nil {
			return fail(fmt.Errorf("gateway: etcd client: %w", err))
		}
		closers = append(closers, func() { _ = cli.Close() })
	}

	e := edge.New(edge.Options{MaxBodyBytes: cfg.MaxBodyBytes, Logger: log})
	bs := backends()
	services := make([]string, 0, len(bs))
	for _, b := range bs {
		conn, err := discovery.Dial(cli, b.service, grpc.WithStatsHandler(tel.ClientHandler()))
		if err != nil {
			return fail(fmt.Errorf("gateway: dial %s: %w", b.service, err))
		}
		closers = append(closers, func() { _ = conn.Close() })
		if err := b.register(ctx, e.Mux(), conn); err != nil {
			return fail(fmt.Errorf("gateway: register %s handlers: %w", b.service, err))
		}
		services = append(services, b.service)
	}

	for path, h := range map[string]http.Handler{
		"/healthz": http.HandlerFunc(probe.Healthz),
		"/readyz": &probe.Readiness{
			Services: services,
			Endpoints: func(ctx context.Context, service string) ([]string, error) {
				return discovery.Endpoints(ctx, cli, service)
			},
		},
		"/openapi.json": openapi.Handler(),
	} {
		if err := e.HandleGet(path, h); err != nil {
			return fail(fmt.Errorf("gateway: route %s: %w", path, err))
		}
	}

	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fail(fmt.Errorf("gateway: listen: %w", err))
	}
	closers = append(closers, func() { _ = ln.Close() })

	a := &App{
		cfg: cfg,
		log: log,
		ln:  ln,
		srv: &http.Server{
			Handler:           tel.HTTPHandler(e.Handler(), ServiceName),
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    1 << 20,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
	}
	return a, cleanup, nil
}

// Addr is the address the gateway listens on, e.g. "127.0.0.1:8080".
func (a *App) Addr() string { return a.ln.Addr().String() }

// Run serves HTTP until ctx is done, then stops accepting connections and
// drains in-flight requests for up to Config.ShutdownTimeout before closing
// the rest. It returns nil after a shutdown caused by ctx.
func (a *App) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- a.srv.Serve(a.ln) }()
	a.log.InfoContext(ctx, "gateway serving", "addr", a.Addr())

	select {
	case err := <-errc:
		return fmt.Errorf("gateway: serve: %w", err)
	case <-ctx.Done():
	}

	a.log.Info("gateway shutting down", "drain_timeout", a.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.ShutdownTimeout)
	defer cancel()
	if err := a.srv.Shutdown(sctx); err != nil {
		a.log.Warn("gateway drain incomplete, closing connections", "err", err)
		_ = a.srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("gateway: serve: %w", err)
	}
	a.log.Info("gateway stopped")
	return nil
}
