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

	"github.com/tenurehq/tenure/services/platform/bootstrap"
	"github.com/tenurehq/tenure/services/platform/stack"
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

// loggers returns a constructor of the named loggers of cfg's level and
// format, writing to w.
func (c config) loggers(w io.Writer) (func(name string) *slog.Logger, error) {
	level, err := telemetry.ParseLevel(c.logLevel)
	if err != nil {
		return nil, fmt.Errorf("log level: %w", err)
	}
	switch c.logFormat {
	case "json":
		return func(name string) *slog.Logger { return telemetry.NewLogger(w, name, level) }, nil
	case "text":
		h := slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})
		return func(name string) *slog.Logger { return slog.New(h).With("service", name) }, nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", c.logFormat)
}

// place puts service s at its listen address (default 127.0.0.1:0) and in
// its SQLite file under the data directory, unless TENURE_<SERVICE>_DSN
// names a database of its own (for example PostgreSQL).
func (c config) place(s stack.Component) stack.Component {
	s.ListenAddr = c.serviceAddrs[s.Name]
	if s.ListenAddr == "" {
		s.ListenAddr = "127.0.0.1:0"
	}
	if _, ok := os.LookupEnv(bootstrap.NewEnv(s.Name).Name("DSN")); !ok {
		s.DSN = "sqlite:" + filepath.Join(c.dataDir, s.Name+".db")
	}
	return s
}

// run starts etcd, the services and the gateway, and blocks until ctx is
// done or a component fails; then it stops the gateway, the services in
// reverse order and etcd. ready, if not nil, gets the gateway address once
// everything has started.
func run(ctx context.Context, cfg config, logw io.Writer, ready func(gatewayAddr string)) (err error) {
	newLogger, err := cfg.loggers(logw)
	if err != nil {
		return err
	}
	log := newLogger("tenured")
	if err := os.MkdirAll(cfg.dataDir, 0o700); err != nil {
		return err
	}
	s, err := stack.Start(ctx, stack.Config{EtcdDir: filepath.Join(cfg.dataDir, "etcd"), EtcdAddr: cfg.etcdAddr,
		Log: log, Logger: newLogger, LogLevel: cfg.logLevel})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, s.Close()) }()

	for _, svc := range services() {
		svc = cfg.place(svc)
		r, err := s.Add(ctx, svc)
		if err != nil {
			return err
		}
		log.Info("service started", "name", svc.Name, "grpc", r.Addr(), "db", svc.DSN)
	}
	gw := gateway()
	gw.ListenAddr = cfg.gatewayAddr
	r, err := s.Add(ctx, gw)
	if err != nil {
		return err
	}
	if err := waitReady(ctx, r.Runner); err != nil {
		return err
	}
	log.Info("tenured ready, Ctrl-C to stop", "gateway", "http://"+r.Addr())
	if ready != nil {
		ready(r.Addr())
	}
	if err := s.Wait(ctx); err != nil {
		return err
	}
	log.Info("shutting down")
	return nil
}

// waitReady waits, for up to 30 s, until the gateway can serve, if it can
// tell: discovery delivers a newly registered replica to it a moment after
// the replica registers.
func waitReady(ctx context.Context, gw stack.Runner) error {
	w, ok := gw.(interface{ WaitReady(context.Context) error })
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return w.WaitReady(ctx)
}
