package app

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"time"

	"github.com/tenurehq/tenure/services/platform/bootstrap"
	"github.com/tenurehq/tenure/services/platform/telemetry"
)

// Config is the gateway's configuration. Every field has a flag and a
// TENURE_GATEWAY_* environment fallback; see README.md.
type Config struct {
	// ListenAddr is the HTTP listen address.
	ListenAddr string
	// EtcdEndpoints are the etcd client URLs used for discovery. Ignored
	// when Deps.Etcd is set.
	EtcdEndpoints []string
	// MaxBodyBytes limits request bodies; larger ones get HTTP 413.
	MaxBodyBytes int64
	// ShutdownTimeout bounds the drain of in-flight requests on shutdown.
	ShutdownTimeout time.Duration
	// BackendTimeout is the deadline of a unary backend call when the
	// caller's Grpc-Timeout header asks for none or a longer one. Streaming
	// calls have no default deadline.
	BackendTimeout time.Duration
	// LogLevel is debug, info, warn or error.
	LogLevel string

	// env remembers unparsable environment variables; Validate reports them.
	env *bootstrap.Env
}

// Defaults.
const (
	DefaultListenAddr      = "127.0.0.1:8080"
	DefaultEtcdEndpoints   = "http://127.0.0.1:2379"
	DefaultMaxBodyBytes    = 4 << 20
	DefaultShutdownTimeout = 10 * time.Second
	DefaultBackendTimeout  = 30 * time.Second
	DefaultLogLevel        = "info"
)

// RegisterFlags defines the gateway flags on fs. A flag's default comes
// from its TENURE_GATEWAY_* environment variable when that is set.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	env := bootstrap.NewEnv(ServiceName)
	c.env = env
	c.EtcdEndpoints = env.List("ETCD_ENDPOINTS", DefaultEtcdEndpoints)
	fs.StringVar(&c.ListenAddr, "listen", env.String("LISTEN", DefaultListenAddr), env.Help("HTTP listen address", "LISTEN"))
	fs.Func("etcd-endpoints", env.Help("comma-separated etcd client URLs, default "+DefaultEtcdEndpoints, "ETCD_ENDPOINTS"),
		func(s string) error { c.EtcdEndpoints = bootstrap.SplitList(s); return nil })
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", env.Int64("MAX_BODY_BYTES", DefaultMaxBodyBytes), env.Help("largest accepted request body in bytes", "MAX_BODY_BYTES"))
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", env.Duration("SHUTDOWN_TIMEOUT", DefaultShutdownTimeout), env.Help("how long to drain in-flight requests on shutdown", "SHUTDOWN_TIMEOUT"))
	fs.DurationVar(&c.BackendTimeout, "backend-timeout", env.Duration("BACKEND_TIMEOUT", DefaultBackendTimeout), env.Help("deadline of a unary backend call unless the caller's Grpc-Timeout is shorter", "BACKEND_TIMEOUT"))
	fs.StringVar(&c.LogLevel, "log-level", env.String("LOG_LEVEL", DefaultLogLevel), env.Help("log level: debug, info, warn or error", "LOG_LEVEL"))
}

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	if c.env != nil {
		if err := c.env.Err(); err != nil {
			errs = append(errs, err)
		}
	}
	if _, _, err := net.SplitHostPort(c.ListenAddr); err != nil {
		errs = append(errs, fmt.Errorf("listen address %q: %w", c.ListenAddr, err))
	}
	if c.MaxBodyBytes <= 0 {
		errs = append(errs, fmt.Errorf("max body bytes %d: must be positive", c.MaxBodyBytes))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("shutdown timeout %s: must be positive", c.ShutdownTimeout))
	}
	if c.BackendTimeout <= 0 {
		errs = append(errs, fmt.Errorf("backend timeout %s: must be positive", c.BackendTimeout))
	}
	if _, err := telemetry.ParseLevel(c.LogLevel); err != nil {
		errs = append(errs, fmt.Errorf("log level %q: %w", c.LogLevel, err))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("gateway: invalid config: %w", err)
	}
	return nil
}
