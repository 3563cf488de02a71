package app

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

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
	// LogLevel is debug, info, warn or error.
	LogLevel string

	// envErr records an unparsable environment variable; Validate reports it.
	envErr error
}

// Defaults.
const (
	DefaultListenAddr      = "127.0.0.1:8080"
	DefaultEtcdEndpoints   = "http://127.0.0.1:2379"
	DefaultMaxBodyBytes    = 4 << 20
	DefaultShutdownTimeout = 10 * time.Second
	DefaultLogLevel        = "info"
)

const envPrefix = "TENURE_GATEWAY_"

// RegisterFlags defines the gateway flags on fs. A flag's default comes
// from its environment variable when that is set.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	c.ListenAddr = envString("LISTEN", DefaultListenAddr)
	c.EtcdEndpoints = splitList(envString("ETCD_ENDPOINTS", DefaultEtcdEndpoints))
	c.MaxBodyBytes = envParse(c, "MAX_BODY_BYTES", int64(DefaultMaxBodyBytes), func(s string) (int64, error) {
		return strconv.ParseInt(s, 10, 64)
	})
	c.ShutdownTimeout = envParse(c, "SHUTDOWN_TIMEOUT", DefaultShutdownTimeout, time.ParseDuration)
	c.LogLevel = envString("LOG_LEVEL", DefaultLogLevel)

	fs.StringVar(&c.ListenAddr, "listen", c.ListenAddr, "HTTP listen address (env "+envPrefix+"LISTEN)")
	fs.Func("etcd-endpoints", "comma-separated etcd client URLs (env "+envPrefix+"ETCD_ENDPOINTS, default "+DefaultEtcdEndpoints+")",
		func(s string) error { c.EtcdEndpoints = splitList(s); return nil })
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", c.MaxBodyBytes, "largest accepted request body in bytes (env "+envPrefix+"MAX_BODY_BYTES)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "how long to drain in-flight requests on shutdown (env "+envPrefix+"SHUTDOWN_TIMEOUT)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn or error (env "+envPrefix+"LOG_LEVEL)")
}

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	if c.envErr != nil {
		errs = append(errs, c.envErr)
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
	if _, err := telemetry.ParseLevel(c.LogLevel); err != nil {
		errs = append(errs, fmt.Errorf("log level %q: %w", c.LogLevel, err))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("gateway: invalid config: %w", err)
	}
	return nil
}

func envString(name, def string) string {
	if v, ok := os.LookupEnv(envPrefix + name); ok {
		return v
	}
	return def
}

func envParse[T any](c *Config, name string, def T, parse func(string) (T, error)) T {
	v, ok := os.LookupEnv(envPrefix + name)
	if !ok {
		return def
	}
	x, err := parse(v)
	if err != nil {
		c.envErr = errors.Join(c.envErr, fmt.Errorf("%s%s=%q: %w", envPrefix, name, v, err))
		return def
	}
	return x
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
