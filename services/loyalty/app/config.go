package app

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/tenurehq/tenure/services/platform/bootstrap"
)

// Config is the loyalty service's configuration: the settings every
// service shares plus its own, backed by TENURE_LOYALTY_* environment
// variables. See README.md for the table.
type Config struct {
	bootstrap.Config
	// JobInterval is how often the elected replica runs the jobs (expire
	// points, evaluate tiers, birthday points) as of the start of the
	// current interval; 0 disables the schedule.
	JobInterval time.Duration
	// ProfileService is the discovery name of the profile service whose
	// event stream feeds the ledger.
	ProfileService string
}

// RegisterFlags sets c to the defaults, overridden by the environment, and
// registers flags that override both.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	env := bootstrap.NewEnv(ServiceName)
	c.Config.RegisterFlags(fs, env, bootstrap.Defaults{
		ListenAddr: "127.0.0.1:9103",
		DSN:        "sqlite:data/loyalty.db",
	})
	fs.DurationVar(&c.JobInterval, "job-interval", env.Duration("JOB_INTERVAL", time.Hour),
		env.Help("how often the elected replica runs the expiry, tier and birthday jobs, e.g. 1h; 0 disables", "JOB_INTERVAL"))
	fs.StringVar(&c.ProfileService, "profile-service", env.String("PROFILE_SERVICE", "profile"),
		env.Help("discovery name of the profile service", "PROFILE_SERVICE"))
}

// Validate reports every problem with c.
func (c Config) Validate() error {
	errs := c.Problems()
	if c.JobInterval < 0 {
		errs = append(errs, fmt.Errorf("job interval must not be negative, got %s", c.JobInterval))
	}
	if c.ProfileService == "" {
		errs = append(errs, errors.New("profile service name is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("loyalty: config: %w", err)
	}
	return nil
}
