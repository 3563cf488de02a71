package app

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/tenurehq/tenure/services/platform/bootstrap"
)

// EnvPrefix prefixes the environment variables that back the flags.
const EnvPrefix = "TENURE_SEGMENTATION_"

// Config is the segmentation service's configuration: the settings every
// service shares plus its own, backed by TENURE_SEGMENTATION_* environment
// variables. See README.md for the table.
type Config struct {
	bootstrap.Config
	// RecomputeInterval is how often the elected replica starts a
	// recompute; 0 disables the schedule.
	RecomputeInterval time.Duration
	// ProfileService is the discovery name of the profile service whose
	// event stream feeds the inputs.
	ProfileService string
}

// RegisterFlags sets c to the defaults, overridden by the environment, and
// registers flags that override both.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	env := bootstrap.NewEnv(ServiceName)
	c.Config.RegisterFlags(fs, env, bootstrap.Defaults{
		ListenAddr: "127.0.0.1:9102",
		DSN:        "sqlite:data/segmentation.db",
	})
	fs.DurationVar(&c.RecomputeInterval, "recompute-interval", env.Duration("RECOMPUTE_INTERVAL", 0),
		env.Help("scheduled recompute interval on the elected replica, e.g. 1h; 0 disables", "RECOMPUTE_INTERVAL"))
	fs.StringVar(&c.ProfileService, "profile-service", env.String("PROFILE_SERVICE", "profile"),
		env.Help("discovery name of the profile service", "PROFILE_SERVICE"))
}

// Validate reports every problem with c.
func (c Config) Validate() error {
	errs := c.Problems()
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
