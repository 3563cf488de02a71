package app

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/tenurehq/tenure/services/platform/telemetry"
)

// EnvPrefix prefixes the environment variables that back the flags.
const EnvPrefix = "TENURE_SEGMENTATION_"

// Config is the segmentation service's configuration. See README.md for the
// table of flags and environment variables.
type Config struct {
	// ListenAddr is the gRPC listen address.
	ListenAddr string
	// AdvertiseAddr is the address registered in etcd; empty means the
	// listener's address.
	AdvertiseAddr string
	// EtcdEndpoints, when set, makes the service register in etcd.
	EtcdEndpoints []string
	// DSN names the database: "sqlite:PATH" or "postgres://…".
	DSN string
	// LogLevel is debug, info, warn or error.
	LogLevel string
	// ShutdownTimeout bounds draining on shutdown.
	ShutdownTimeout time.Duration
	// RecomputeInterval is how often the elected replica starts a
	// recompute; 0 disables the schedule.
	RecomputeInterval time.Duration
	// ProfileService is the discovery name of the profile service whose
	// event stream feeds the inputs.
	ProfileService string

	envErrs []error
}

// RegisterFlags sets c to the defaults, overridden by TENURE_SEGMENTATION_*
// environment variables, and registers flags that override both.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	c.envErrs = nil
	fs.StringVar(&c.ListenAddr, "listen", c.env("LISTEN", "127.0.0.1:9102"), "gRPC listen address (env "+EnvPrefix+"LISTEN)")
	fs.StringVar(&c.AdvertiseAddr, "advertise", c.env("ADVERTISE", ""), "address registered in etcd; default the listener's (env "+EnvPrefix+"ADVERTISE)")
	c.EtcdEndpoints = splitList(c.env("ETCD_ENDPOINTS", ""))
	fs.Func("etcd-endpoints", "comma-separated etcd endpoints; empty disables registration (env "+EnvPrefix+"ETCD_ENDPOINTS)", func(s string) error {
		c.EtcdEndpoints = splitList(s)
		return nil
	})
	fs.StringVar(&c.DSN, "dsn", c.env("DSN", "sqlite:data/segmentation.db"), `database: "sqlite:PATH" or "postgres://…" (env `+EnvPrefix+"DSN)")
	fs.StringVar(&c.LogLevel, "log-level", c.env("LOG_LEVEL", "info"), "debug, info, warn or error (env "+EnvPrefix+"LOG_LEVEL)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.envDuration("SHUTDOWN_TIMEOUT", 10*time.Second), "how long to drain on shutdown (env "+EnvPrefix+"SHUTDOWN_TIMEOUT)")
	fs.DurationVar(&c.RecomputeInterval, "recompute-interval", c.envDuration("RECOMPUTE_INTERVAL", 0), "scheduled recompute interval on the elected replica, e.g. 1h; 0 disables (env "+EnvPrefix+"RECOMPUTE_INTERVAL)")
	fs.StringVar(&c.ProfileService, "profile-service", c.env("PROFILE_SERVICE", "profile"), "discovery name of the profile service (env "+EnvPrefix+"PROFILE_SERVICE)")
}

func (c *Config) env(name, def string) string {
	if v, ok := os.LookupEnv(EnvPrefix + name); ok {
		return v
	}
	return def
}

func (c *Config) envDuration(name string, def time.Duration) time.Duration {
	v := c.env(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		c.envErrs = append(c.envErrs, fmt.Errorf("%s%s: %w", EnvPrefix, name, err))
		return def
	}
	return d
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

// Validate reports every problem with c.
func (c Config) Validate() error {
	errs := append([]error(nil), c.envErrs...)
	if c.ListenAddr == "" {
		errs = append(errs, errors.New("listen address is required"))
	}
	if c.DSN == "" {
		errs = append(errs, errors.New("dsn is required"))
	}
	if _, err := telemetry.ParseLevel(c.LogLevel); err != nil {
		errs = append(errs, fmt.Errorf("log level: %w", err))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("shutdown timeout must be positive, got %s", c.ShutdownTimeout))
	}
	if c.RecomputeInterval < 0 {
		errs = append(errs, fmt.Errorf("recompute interval must not be negative, got %s", c.RecomputeInterval))
	}
	if c.ProfileService == "" {
		errs = append(errs, errors.New("profile service name is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("segmentation: config: %w", err)
	}
	return nil
}
