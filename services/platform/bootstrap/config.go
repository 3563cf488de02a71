package bootstrap

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/tenurehq/tenure/services/platform/auth"
	"github.com/tenurehq/tenure/services/platform/grpcserver"
	"github.com/tenurehq/tenure/services/platform/telemetry"
)

// Config is the configuration every service and the gateway share. Each
// embeds it in its own Config and adds its settings.
type Config struct {
	// ListenAddr is the gRPC listen address (the gateway's HTTP one).
	ListenAddr string
	// AdvertiseAddr is the address registered in etcd; empty means the
	// listener's address.
	AdvertiseAddr string
	// EtcdEndpoints, when set, makes the service register in etcd and dial
	// other services through it.
	EtcdEndpoints []string
	// DSN names the database: "sqlite:PATH" or "postgres://…"; the
	// gateway has none.
	DSN string
	// LogLevel is debug, info, warn or error.
	LogLevel string
	// ShutdownTimeout bounds draining on shutdown (default
	// grpcserver.DefaultShutdownTimeout, for the gateway too).
	ShutdownTimeout time.Duration
	// EtcdCAFile, EtcdCertFile and EtcdKeyFile configure TLS to etcd: the
	// CA that signed its certificates and, for client certificate
	// authentication, this process's certificate and key (PEM files).
	// All empty: plain connections.
	EtcdCAFile, EtcdCertFile, EtcdKeyFile string
	// AdminAddr is the listen address of the admin HTTP server, which
	// serves Prometheus metrics on /metrics; empty disables it.
	AdminAddr string
	// Auth configures who may call: API keys, tokens, the service's own
	// key for its calls. Authentication is on unless Auth.Disabled.
	Auth auth.Config
	// ServiceKeyFile holds this service's own API key (read at Start into
	// Auth.ServiceKey when that is empty).
	ServiceKeyFile string
	// TLS names the certificate files of the gRPC server (the gateway's
	// HTTP server) and of calls to other services.
	TLS auth.TLSConfig

	env  *Env
	edge bool
}

// Defaults are a service's own defaults for the shared settings.
type Defaults struct {
	ListenAddr string
	DSN        string
	// EtcdEndpoints is the comma-separated default of -etcd-endpoints;
	// empty disables registration.
	EtcdEndpoints string
	// AdminAddr is the default of -admin-listen; empty: no admin server.
	AdminAddr string
	// Edge marks the gateway: it serves HTTP, has no database and does
	// not register in etcd, so it has no -dsn or -advertise flag and
	// needs no DSN.
	Edge bool
}

// RegisterFlags sets c to def, overridden by the environment, and registers
// the shared flags on fs, which override both.
func (c *Config) RegisterFlags(fs *flag.FlagSet, env *Env, def Defaults) {
	c.env, c.edge = env, def.Edge
	listen := "gRPC listen address"
	if def.Edge {
		listen = "HTTP listen address"
	}
	fs.StringVar(&c.ListenAddr, "listen", env.String("LISTEN", def.ListenAddr), env.Help(listen, "LISTEN"))
	if !def.Edge {
		fs.StringVar(&c.AdvertiseAddr, "advertise", env.String("ADVERTISE", ""), env.Help("address registered in etcd; default the listener's", "ADVERTISE"))
	}
	c.EtcdEndpoints = env.List("ETCD_ENDPOINTS", def.EtcdEndpoints)
	etcdHelp := "comma-separated etcd endpoints; empty disables registration"
	if def.Edge {
		etcdHelp = "comma-separated etcd client URLs used for discovery, default " + def.EtcdEndpoints
	}
	fs.Func("etcd-endpoints", env.Help(etcdHelp, "ETCD_ENDPOINTS"), func(s string) error {
		c.EtcdEndpoints = splitList(s)
		return nil
	})
	fs.StringVar(&c.EtcdCAFile, "etcd-ca-file", env.String("ETCD_CA_FILE", ""), env.Help("CA certificate (PEM) of etcd's TLS; empty: plain connections", "ETCD_CA_FILE"))
	fs.StringVar(&c.EtcdCertFile, "etcd-cert-file", env.String("ETCD_CERT_FILE", ""), env.Help("client certificate (PEM) for etcd's TLS", "ETCD_CERT_FILE"))
	fs.StringVar(&c.EtcdKeyFile, "etcd-key-file", env.String("ETCD_KEY_FILE", ""), env.Help("key (PEM) of the client certificate for etcd", "ETCD_KEY_FILE"))
	fs.StringVar(&c.AdminAddr, "admin-listen", env.String("ADMIN_LISTEN", def.AdminAddr), env.Help("admin HTTP listen address serving Prometheus metrics on /metrics; empty disables it", "ADMIN_LISTEN"))
	if !def.Edge {
		fs.StringVar(&c.DSN, "dsn", env.String("DSN", def.DSN), env.Help(`database: "sqlite:PATH" or "postgres://…"`, "DSN"))
	}
	fs.StringVar(&c.LogLevel, "log-level", env.String("LOG_LEVEL", "info"), env.Help("debug, info, warn or error", "LOG_LEVEL"))
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", env.Duration("SHUTDOWN_TIMEOUT", grpcserver.DefaultShutdownTimeout),
		env.Help("how long to drain in-flight requests on shutdown", "SHUTDOWN_TIMEOUT"))
	c.registerSecurityFlags(fs, env, def)
}

// Problems lists what is wrong with the shared settings and with the
// environment variables read through RegisterFlags. A service's Validate
// adds its own problems and joins them.
func (c Config) Problems() []error {
	var errs []error
	if c.env != nil {
		if err := c.env.Err(); err != nil {
			errs = append(errs, err)
		}
	}
	if c.ListenAddr == "" {
		errs = append(errs, errors.New("listen address is required"))
	}
	if c.DSN == "" && !c.edge {
		errs = append(errs, errors.New("dsn is required"))
	}
	if _, err := telemetry.ParseLevel(c.LogLevel); err != nil {
		errs = append(errs, fmt.Errorf("log level: %w", err))
	}
	if (c.EtcdCertFile == "") != (c.EtcdKeyFile == "") {
		errs = append(errs, errors.New("etcd cert file and key file go together: set both or neither"))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("shutdown timeout must be positive, got %s", c.ShutdownTimeout))
	}
	return append(errs, c.securityProblems()...)
}
