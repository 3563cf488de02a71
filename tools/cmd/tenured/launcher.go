package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tenurehq/tenure/services/platform/auth"
	"github.com/tenurehq/tenure/services/platform/bootstrap"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/stack"
	"github.com/tenurehq/tenure/services/platform/telemetry"
)

// config is tenured's own configuration. Each service also reads its own
// TENURE_<SERVICE>_* variables for everything tenured does not set.
type config struct {
	dataDir      string
	gatewayAddr  string
	etcdAddr     string
	serviceAddrs map[string]string // service name → gRPC listen address, when not the service's own
	logLevel     string
	logFormat    string
}

func (c *config) registerFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.dataDir, "data", envOr("TENURE_DATA_DIR", "data"), "directory for etcd data and service databases (env TENURE_DATA_DIR)")
	fs.StringVar(&c.gatewayAddr, "gateway-addr", envOr("TENURE_GATEWAY_LISTEN", "127.0.0.1:8080"), "gateway HTTP listen address (env TENURE_GATEWAY_LISTEN)")
	fs.StringVar(&c.etcdAddr, "etcd-addr", envOr("TENURE_ETCD_ADDR", "127.0.0.1:2379"), "embedded etcd client address (env TENURE_ETCD_ADDR)")
	c.serviceAddrs = map[string]string{}
	for _, svc := range services() {
		name := svc.Name
		fs.Func(name+"-addr", fmt.Sprintf("%s gRPC listen address, host:port (default the service's own: env %s, else its fixed port)",
			name, bootstrap.NewEnv(name).Name("LISTEN")),
			func(s string) error {
				if _, _, err := net.SplitHostPort(s); err != nil {
					return fmt.Errorf("want host:port, e.g. 127.0.0.1:9101, got %q", s)
				}
				c.serviceAddrs[name] = s
				return nil
			})
	}
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

// place puts service s at the gRPC listen address given for it, if any
// (else the service's own: TENURE_<SERVICE>_LISTEN or its fixed port), and
// in its SQLite file under the data directory, unless TENURE_<SERVICE>_DSN
// names a database of its own (for example PostgreSQL), which the service
// reads itself.
func (c config) place(s stack.Component) stack.Component {
	s.ListenAddr = c.serviceAddrs[s.Name]
	if dsn, ok := os.LookupEnv(bootstrap.NewEnv(s.Name).Name("DSN")); ok {
		s.DSN = dsn
	} else {
		s.DSN = "sqlite:" + filepath.Join(c.dataDir, s.Name+".db")
	}
	return s
}

// listener is one line of the table run prints once everything is ready:
// what listens where, and for a service, its database.
type listener struct {
	name, protocol, addr, db string
}

// run starts etcd, the services and the gateway, and blocks until ctx is
// done or a component fails; then it stops the gateway, the services in
// reverse order and etcd. Once everything has started it writes a table of
// what listens where to out and calls ready, if not nil, with the gateway
// address.
func run(ctx context.Context, cfg config, logw, out io.Writer, ready func(gatewayAddr string)) (err error) {
	newLogger, err := cfg.loggers(logw)
	if err != nil {
		return err
	}
	log := newLogger("tenured")
	if err := os.MkdirAll(cfg.dataDir, 0o700); err != nil {
		return err
	}
	authCfg, created, err := auth.EnsureLocalKeys(cfg.dataDir, time.Now())
	if err != nil {
		return err
	}
	adminKey := filepath.Join(cfg.dataDir, auth.LocalAdminKeyFile)
	if created {
		log.Info("created a local admin API key", "file", adminKey, "keys", authCfg.KeysFile)
	}
	s, err := stack.Start(ctx, stack.Config{EtcdDir: filepath.Join(cfg.dataDir, "etcd"), EtcdAddr: cfg.etcdAddr,
		Log: log, Logger: newLogger, LogLevel: cfg.logLevel, Auth: &authCfg})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, s.Close()) }()

	var table []listener
	for _, svc := range services() {
		c := cfg.place(svc)
		r, err := s.Add(ctx, c)
		if err != nil {
			return err
		}
		db := sqlstore.RedactDSN(c.DSN)
		log.Info("service started", "name", c.Name, "grpc", r.Addr(), "db", db)
		table = append(table, listener{c.Name, "gRPC", r.Addr(), db})
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
	table = append([]listener{
		{"gateway", "HTTP", "http://" + r.Addr(), ""},
		{"etcd", "etcd", strings.Join(s.Etcd().Endpoints(), ","), filepath.Join(cfg.dataDir, "etcd")},
	}, table...)
	if err := printListeners(out, table, adminKey); err != nil {
		log.Warn("cannot print the listener table", "error", err) // the logs still say it all
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

// printListeners writes the table of what listens where, and where the
// admin API key is.
func printListeners(w io.Writer, table []listener, adminKey string) error {
	fmt.Fprintln(w, "\nTenure is running; Ctrl-C stops it.")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COMPONENT\tPROTOCOL\tADDRESS\tDATA")
	for _, l := range table {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", l.name, l.protocol, l.addr, l.db)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nAdmin API key: %s (tenurectl finds it there; curl: -H \"Authorization: Bearer $(cat %s)\")\n\n", adminKey, adminKey)
	return err
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
