package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/tenurehq/tenure/services/platform/discovery"
	"github.com/tenurehq/tenure/services/platform/embedetcd"
	"github.com/tenurehq/tenure/services/platform/telemetry"
)

// config is tenured's own configuration. Each service also reads its own
// TENURE_<SERVICE>_* variables for everything tenured does not set.
type config struct {
	dataDir      string
	gatewayAddr  string
	etcdAddr     string
	serviceAddrs map[string]string // service name → listen address
	logLevel     string
	logFormat    string
}

func (c *config) registerFlags(fs *flag.FlagSet) {
	c.serviceAddrs = map[string]string{}
	for _, kv := range strings.Split(os.Getenv("TENURE_SERVICE_ADDRS"), ",") {
		if name, addr, ok := strings.Cut(strings.TrimSpace(kv), "="); ok {
			c.serviceAddrs[name] = addr
		}
	}
	fs.StringVar(&c.dataDir, "data", envOr("TENURE_DATA_DIR", "data"), "directory for etcd data and service databases (env TENURE_DATA_DIR)")
	fs.StringVar(&c.gatewayAddr, "gateway-addr", envOr("TENURE_GATEWAY_LISTEN", "127.0.0.1:8080"), "gateway HTTP listen address (env TENURE_GATEWAY_LISTEN)")
	fs.StringVar(&c.etcdAddr, "etcd-addr", envOr("TENURE_ETCD_ADDR", "127.0.0.1:2379"), "embedded etcd client address (env TENURE_ETCD_ADDR)")
	fs.Func("service-addr", "`name=host:port` gRPC listen address of one service, repeatable; default 127.0.0.1:0 (env TENURE_SERVICE_ADDRS, comma-separated)",
		func(s string) error {
			name, addr, ok := strings.Cut(s, "=")
			if !ok || name == "" || addr == "" {
				return fmt.Errorf("want name=host:port, got %q", s)
			}
			c.serviceAddrs[name] = addr
			return nil
		})
	fs.StringVar(&c.logLevel, "log-level", envOr("TENURE_LOG_LEVEL", "info"), "log level: debug, info, warn or error (env TENURE_LOG_LEVEL)")
	fs.StringVar(&c.logFormat, "log-format", envOr("TENURE_LOG_FORMAT", "text"), "log format: text or json (env TENURE_LOG_FORMAT)")
}

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// defaults returns a service config holding its flag defaults, including
// the service's own environment fallbacks.
func defaults[C any, P interface {
	*C
	RegisterFlags(*flag.FlagSet)
}]() *C {
	c := P(new(C))
	c.RegisterFlags(flag.NewFlagSet("defaults", flag.ContinueOnError))
	return c
}

// runner is what every service app and the gateway app provide.
type runner interface {
	Addr() string
	Run(ctx context.Context) error
}

// service is one backend: its name (also its discovery name) and how to
// build it.
type service struct {
	name  string
	start func(ctx context.Context, env env) (runner, func(), error)
}

// env is what tenured hands a component when building it.
type env struct {
	listen    string
	sqliteDSN string
	logLevel  string
	logger    *slog.Logger
	telemetry *telemetry.Providers
	etcd      *clientv3.Client
}

// started adapts an app constructor's results to runner.
func started[A runner](a A, cleanup func(), err error) (runner, func(), error) {
	if err != nil {
		return nil, nil, err
	}
	return a, cleanup, nil
}

// component is a started app running in its own goroutine.
type component struct {
	name    string
	log     *slog.Logger
	cancel  context.CancelFunc
	done    chan struct{}
	err     error
	cleanup func()
}

// stop cancels the component, waits for Run to return and releases it.
func (c *component) stop() error {
	c.cancel()
	<-c.done
	c.cleanup()
	c.log.Info("stopped")
	if c.err != nil {
		return fmt.Errorf("%s: %w", c.name, c.err)
	}
	return nil
}

// run starts etcd, the services and the gateway, and blocks until ctx is
// done or a component fails; then it stops the gateway, the services in
// reverse order and etcd. ready, if not nil, gets the gateway address once
// everything has started.
func run(ctx context.Context, cfg config, logw io.Writer, ready func(gatewayAddr string)) (err error) {
	level, err := telemetry.ParseLevel(cfg.logLevel)
	if err != nil {
		return fmt.Errorf("log level: %w", err)
	}
	var newLogger func(name string) *slog.Logger
	switch cfg.logFormat {
	case "json":
		newLogger = func(name string) *slog.Logger { return telemetry.NewLogger(logw, name, level) }
	case "text":
		h := slog.NewTextHandler(logw, &slog.HandlerOptions{Level: level})
		newLogger = func(name string) *slog.Logger { return slog.New(h).With("service", name) }
	default:
		return fmt.Errorf("log format %q: want text or json", cfg.logFormat)
	}
	log := newLogger("tenured")

	etcdDir := filepath.Join(cfg.dataDir, "etcd")
	if err := os.MkdirAll(etcdDir, 0o700); err != nil {
		return err
	}
	etcd, err := embedetcd.Start(ctx, embedetcd.Config{Dir: etcdDir, ClientAddr: cfg.etcdAddr, Logger: newLogger("etcd")})
	if err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	defer func() {
		etcd.Close()
		log.Info("etcd stopped")
	}()
	cli, err := clientv3.New(clientv3.Config{Endpoints: etcd.Endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return fmt.Errorf("etcd client: %w", err)
	}
	defer cli.Close()
	log.Info("etcd ready", "endpoints", strings.Join(etcd.Endpoints(), ","), "dir", etcdDir)

	// Components stop in reverse start order: the gateway, then the services.
	var running []*component
	exited := make(chan string, len(services())+1)
	defer func() {
		for i := len(running) - 1; i >= 0; i-- {
			err = errors.Join(err, running[i].stop())
		}
	}()
	startOne := func(name string, build func(context.Context, env) (runner, func(), error), e env) (runner, error) {
		tel, shutdownTel, err := telemetry.Setup(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("%s telemetry: %w", name, err)
		}
		e.logger, e.telemetry, e.etcd, e.logLevel = newLogger(name), tel, cli, cfg.logLevel
		r, cleanup, err := build(ctx, e)
		if err != nil {
			_ = shutdownTel(context.Background())
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		c := &component{name: name, log: e.logger, cancel: cancel, done: make(chan struct{}), cleanup: func() {
			cleanup()
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = shutdownTel(sctx)
		}}
		go func() {
			defer close(c.done)
			c.err = r.Run(rctx)
			exited <- name
		}()
		running = append(running, c)
		return r, nil
	}

	if err := os.MkdirAll(cfg.dataDir, 0o700); err != nil {
		return err
	}
	for _, s := range services() {
		addr := cfg.serviceAddrs[s.name]
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		dsn := "sqlite:" + filepath.Join(cfg.dataDir, s.name+".db")
		r, err := startOne(s.name, s.start, env{listen: addr, sqliteDSN: dsn})
		if err != nil {
			return err
		}
		if err := waitRegistered(ctx, cli, s.name); err != nil {
			return err
		}
		log.Info("service started", "name", s.name, "grpc", r.Addr(), "db", dsn)
	}
	gw, err := startOne("gateway", gateway, env{listen: cfg.gatewayAddr})
	if err != nil {
		return err
	}
	if w, ok := gw.(interface{ WaitReady(context.Context) error }); ok {
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := w.WaitReady(wctx)
		cancel()
		if err != nil {
			return err
		}
	}
	log.Info("tenured ready, Ctrl-C to stop", "gateway", "http://"+gw.Addr())
	if ready != nil {
		ready(gw.Addr())
	}

	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case name := <-exited:
		log.Error("component exited, shutting down", "name", name)
		return fmt.Errorf("%s exited unexpectedly", name)
	}
	return nil
}

// waitRegistered blocks until service has an endpoint in discovery, so the
// gateway starts with every backend reachable.
func waitRegistered(ctx context.Context, cli *clientv3.Client, service string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	prefix := discovery.KeyPrefix + service + "/"
	resp, err := cli.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return fmt.Errorf("%s: wait for registration: %w", service, err)
	}
	if resp.Count > 0 {
		return nil
	}
	for wr := range cli.Watch(ctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1)) {
		for _, ev := range wr.Events {
			if ev.Type == clientv3.EventTypePut {
				return nil
			}
		}
	}
	return fmt.Errorf("%s: not registered in discovery: %w", service, context.Cause(ctx))
}
