package app

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"time"

	"github.com/tenurehq/tenure/services/platform/bootstrap"
)

// Config is the gateway's configuration: the settings every service shares
// (without a database or an advertised address: the gateway has neither),
// plus its own. Every field has a flag and a TENURE_GATEWAY_* environment
// fallback; see README.md.
type Config struct {
	bootstrap.Config
	// MaxBodyBytes limits request bodies; larger ones get HTTP 413.
	MaxBodyBytes int64
	// BackendTimeout is the deadline of a unary backend call when the
	// caller's Grpc-Timeout header asks for none or a longer one. Streaming
	// calls have no default deadline.
	BackendTimeout time.Duration
	// UnsubscribeSecret checks the tokens of one-click unsubscribe links
	// (the promotion service signs them with the same secret); empty
	// serves no unsubscribe route.
	UnsubscribeSecret string
}

// The gateway's own defaults.
const (
	defaultMaxBodyBytes   = 4 << 20
	defaultBackendTimeout = 30 * time.Second
)

// RegisterFlags sets c to the defaults, overridden by the environment, and
// registers flags that override both.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	env := bootstrap.NewEnv(ServiceName)
	c.Config.RegisterFlags(fs, env, bootstrap.Defaults{
		ListenAddr:    "127.0.0.1:8080",
		EtcdEndpoints: "http://127.0.0.1:2379",
		Edge:          true,
	})
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", env.Int64("MAX_BODY_BYTES", defaultMaxBodyBytes), env.Help("largest accepted request body in bytes", "MAX_BODY_BYTES"))
	fs.StringVar(&c.UnsubscribeSecret, "unsubscribe-secret", env.String("UNSUBSCRIBE_SECRET", ""),
		env.Help("secret of one-click unsubscribe links (shared with promotion); empty serves no /v1/unsubscribe", "UNSUBSCRIBE_SECRET"))
	fs.DurationVar(&c.BackendTimeout, "backend-timeout", env.Duration("BACKEND_TIMEOUT", defaultBackendTimeout), env.Help("deadline of a unary backend call unless the caller's Grpc-Timeout is shorter", "BACKEND_TIMEOUT"))
}

// Validate reports every problem with c.
func (c Config) Validate() error {
	errs := c.Problems()
	if _, _, err := net.SplitHostPort(c.ListenAddr); c.ListenAddr != "" && err != nil {
		errs = append(errs, fmt.Errorf("listen address %q: %w", c.ListenAddr, err))
	}
	if c.MaxBodyBytes <= 0 {
		errs = append(errs, fmt.Errorf("max body bytes %d: must be positive", c.MaxBodyBytes))
	}
	if c.BackendTimeout <= 0 {
		errs = append(errs, fmt.Errorf("backend timeout %s: must be positive", c.BackendTimeout))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("gateway: config: %w", err)
	}
	return nil
}
