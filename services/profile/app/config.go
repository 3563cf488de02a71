package app

import (
	"errors"
	"flag"
	"fmt"

	"github.com/tenurehq/tenure/services/platform/bootstrap"
)

// Config is the profile service's configuration: the settings every
// service shares, backed by TENURE_PROFILE_* environment variables. See
// README.md for the table.
type Config struct {
	bootstrap.Config
}

// RegisterFlags sets c to the defaults, overridden by the environment, and
// registers flags that override both.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	c.Config.RegisterFlags(fs, bootstrap.NewEnv(ServiceName), bootstrap.Defaults{
		ListenAddr: "127.0.0.1:9101",
		DSN:        "sqlite:data/profile.db",
	})
}

// Validate reports every problem with c.
func (c Config) Validate() error {
	if err := errors.Join(c.Problems()...); err != nil {
		return fmt.Errorf("profile: config: %w", err)
	}
	return nil
}
