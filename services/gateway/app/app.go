// Package app assembles the JSON gateway: a grpc-gateway mux over every
// backend service's HTTP rules, dialled through etcd discovery, plus
// /healthz, /readyz, /openapi.json and its reference page /docs, served over
// HTTP with tracing and graceful shutdown. cmd/gateway and tools/cmd/tenured
// both run it.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"google.golang.org/grpc/connectivity"

	"github.com/tenurehq/tenure/services/gateway/internal/edge"
	"github.com/tenurehq/tenure/services/gateway/internal/openapi"
	"github.com/tenurehq/tenure/services/gateway/internal/probe"
	"github.com/tenurehq/tenure/services/platform/bootstrap"
)

// ServiceName is the gateway's name in logs and traces.
const ServiceName = "gateway"

// Deps are optional shared dependencies (logger, telemetry, etcd client,
// clock), the same for every service; New creates what is missing. A nil
// Etcd makes New connect to Config.EtcdEndpoints (and close it on cleanup).
type Deps = bootstrap.Deps

// App is a gateway that is listening but not yet serving.
type App struct {
	cfg   Config
	log   *slog.Logger
	ln    net.Listener
	srv   *http.Server
	ready *probe.Readiness
}

// New validates cfg, dials every backend through discovery, builds the
// HTTP handler and starts listening on cfg.ListenAddr. The returned cleanup
// closes backend connections and, if New opened it, the etcd client; call it
// after Run returns.
func New(ctx context.Context, cfg Config, deps Deps) (*App, func(), error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	rt, err := bootstrap.Start(ctx, ServiceName, cfg.Config, deps, nil)
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (*App, func(), error) {
		rt.Close()
		return nil, nil, err
	}
	if rt.Etcd == nil {
		return fail(errors.New("gateway: no etcd endpoints configured"))
	}
	log, tel, cli := rt.Logger, rt.Telemetry, rt.Etcd

	access := &edge.Access{
		OpenPaths:   append([]string{"/healthz", "/readyz", "/openapi.json", "/docs", "/docs/", unsubscribePath}, engagePaths...),
		Rates:       cfg.RateLimits,
		CORSOrigins: cfg.CORSOrigins,
		HSTS:        cfg.TLS.Enabled(),
	}
	if !rt.Auth.Disabled() {
		access.Auth = rt.Auth
	}
	e := edge.New(edge.Options{MaxBodyBytes: cfg.MaxBodyBytes, Logger: log, Access: access})
	bs, err := connectBackends(ctx, rt, e.Mux(), cfg.BackendTimeout)
	if err != nil {
		return fail(err)
	}

	ready := &probe.Readiness{
		Backends: bs,
		Registry: func() bool {
			st := cli.ActiveConnection().GetState()
			return st == connectivity.Ready || st == connectivity.Idle
		},
	}
	reference := openapi.Reference("/openapi.json", "/docs")
	for path, h := range map[string]http.Handler{
		"/healthz":      http.HandlerFunc(probe.Healthz),
		"/readyz":       ready,
		"/openapi.json": openapi.Handler(),
		"/docs":         reference,
		"/docs/{asset}": reference,
	} {
		if err := e.HandleGet(path, h); err != nil {
			return fail(fmt.Errorf("gateway: route %s: %w", path, err))
		}
	}

	if err := routeUnsubscribe(rt, e, cfg); err != nil {
		return fail(err)
	}
	if err := routeEngagement(rt, e, cfg); err != nil {
		return fail(err)
	}

	tlsCfg, err := cfg.TLS.Server()
	if err != nil {
		return fail(fmt.Errorf("gateway: %w", err))
	}
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fail(fmt.Errorf("gateway: listen: %w", err))
	}
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
	}
	rt.OnClose(func() { _ = ln.Close() })

	a := &App{
		cfg:   cfg,
		log:   log,
		ln:    ln,
		ready: ready,
		srv: &http.Server{
			Handler:           tel.HTTPHandler(e.Handler(), ServiceName),
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    1 << 20,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
	}
	return a, rt.Close, nil
}

// Addr is the address the gateway listens on, e.g. "127.0.0.1:8080".
func (a *App) Addr() string { return a.ln.Addr().String() }

// readyPoll is how often WaitReady checks readiness.
const readyPoll = 20 * time.Millisecond

// WaitReady blocks until /readyz would answer 200 (every backend has a
// known replica the gateway can reach) or ctx is done. Discovery delivers
// a newly registered replica to the gateway a moment after it registers,
// so a launcher calls this before it announces the gateway.
func (a *App) WaitReady(ctx context.Context) error {
	t := time.NewTicker(readyPoll)
	defer t.Stop()
	for !a.ready.Check().Ready {
		select {
		case <-ctx.Done():
			return fmt.Errorf("gateway: not ready: missing %v: %w", a.ready.Check().Missing, context.Cause(ctx))
		case <-t.C:
		}
	}
	return nil
}

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
