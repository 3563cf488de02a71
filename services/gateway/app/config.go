package app

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/tenurehq/tenure/services/gateway/internal/edge"
	"github.com/tenurehq/tenure/services/platform/auth"
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
	rateErr           error
	// RateLimits are the token buckets per principal, by role.
	RateLimits map[auth.Role]edge.Rate
	// CORSOrigins are the browser origins allowed to call the API.
	CORSOrigins []string
}

// The gateway's own defaults.
const (
	defaultMaxBodyBytes   = 4 << 20
	defaultBackendTimeout = 30 * time.Second
	// defaultRateLimits: requests per second and burst per principal, by
	// role; admin and service are not limited.
	defaultRateLimits = "storefront=100/200,operator=50/100,analyst=20/40,privacy=5/10"
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
	c.RateLimits, c.rateErr = ParseRateLimits(env.String("RATE_LIMITS", defaultRateLimits))
	fs.Func("rate-limits", env.Help(`requests per second and burst per principal by role, "role=rate/burst,…"; a role not listed is not limited (default "`+defaultRateLimits+`")`, "RATE_LIMITS"), func(s string) error {
		var err error
		c.RateLimits, err = ParseRateLimits(s)
		c.rateErr = nil
		return err
	})
	c.CORSOrigins = env.List("CORS_ORIGINS", "")
	fs.Func("cors-origins", env.Help("comma-separated browser origins allowed to call the API (CORS), e.g. https://shop.example; empty: none", "CORS_ORIGINS"), func(s string) error {
		c.CORSOrigins = nil
		for _, o := range strings.Split(s, ",") {
			if o = strings.TrimSpace(o); o != "" {
				c.CORSOrigins = append(c.CORSOrigins, o)
			}
		}
		return nil
	})
}

// ParseRateLimits reads "role=rate/burst,…" (burst defaults to twice the
// rate, at least 1).
func ParseRateLimits(s string) (map[auth.Role]edge.Rate, error) {
	out := map[auth.Role]edge.Rate{}
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		name, spec, ok := strings.Cut(item, "=")
		role, known := auth.ParseRole(name)
		if !ok || !known {
			return nil, fmt.Errorf("rate limits: %q: want role=rate/burst with a role of %v", item, auth.Roles)
		}
		rateS, burstS, hasBurst := strings.Cut(spec, "/")
		perSecond, err := strconv.ParseFloat(rateS, 64)
		if err != nil || perSecond < 0 {
			return nil, fmt.Errorf("rate limits: %q: rate must be a number of requests per second", item)
		}
		burst := max(int(2*perSecond), 1)
		if hasBurst {
			if burst, err = strconv.Atoi(burstS); err != nil || burst < 1 {
				return nil, fmt.Errorf("rate limits: %q: burst must be a positive whole number", item)
			}
		}
		out[role] = edge.Rate{PerSecond: perSecond, Burst: burst}
	}
	return out, nil
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
	if c.rateErr != nil {
		errs = append(errs, c.rateErr)
	}
	for _, o := range c.CORSOrigins {
		if o != "*" && !strings.HasPrefix(o, "https://") && !strings.HasPrefix(o, "http://") {
			errs = append(errs, fmt.Errorf("cors origin %q: want scheme://host[:port] or *", o))
		}
	}
	if c.BackendTimeout <= 0 {
		errs = append(errs, fmt.Errorf("backend timeout %s: must be positive", c.BackendTimeout))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("gateway: config: %w", err)
	}
	return nil
}
