package app

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/tenurehq/tenure/services/platform/bootstrap"
)

// Config is the promotion service's configuration: the settings every
// service shares plus its own, backed by TENURE_PROMOTION_* environment
// variables. See README.md for the table.
type Config struct {
	bootstrap.Config
	// ProfileService, SegmentationService and LoyaltyService are the
	// discovery names of the services it follows and asks.
	ProfileService      string
	SegmentationService string
	LoyaltyService      string
	// RefreshInterval is how often a replica checks the catalogue version
	// to recompile its active promotions after another replica's change.
	RefreshInterval time.Duration
	// AudienceTimeout bounds the audience calls of one cart evaluation.
	AudienceTimeout time.Duration
	// SharedUsageTTL is how long cart evaluations reuse the promotions'
	// counters and campaigns' budgets used (0: read on every call).
	SharedUsageTTL time.Duration
	// Outreach configures journeys' dispatch (outreach.go).
	Outreach OutreachConfig
}

// RegisterFlags sets c to the defaults, overridden by the environment, and
// registers flags that override both.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	env := bootstrap.NewEnv(ServiceName)
	c.Config.RegisterFlags(fs, env, bootstrap.Defaults{
		ListenAddr: "127.0.0.1:9104",
		DSN:        "sqlite:data/promotion.db",
	})
	fs.StringVar(&c.ProfileService, "profile-service", env.String("PROFILE_SERVICE", "profile"),
		env.Help("discovery name of the profile service", "PROFILE_SERVICE"))
	fs.StringVar(&c.SegmentationService, "segmentation-service", env.String("SEGMENTATION_SERVICE", "segmentation"),
		env.Help("discovery name of the segmentation service", "SEGMENTATION_SERVICE"))
	fs.StringVar(&c.LoyaltyService, "loyalty-service", env.String("LOYALTY_SERVICE", "loyalty"),
		env.Help("discovery name of the loyalty service", "LOYALTY_SERVICE"))
	fs.DurationVar(&c.RefreshInterval, "refresh-interval", env.Duration("REFRESH_INTERVAL", time.Second),
		env.Help("how often a replica checks for campaign and promotion changes made elsewhere, e.g. 1s", "REFRESH_INTERVAL"))
	fs.DurationVar(&c.AudienceTimeout, "audience-timeout", env.Duration("AUDIENCE_TIMEOUT", 300*time.Millisecond),
		env.Help("deadline of the segmentation and loyalty calls of one cart evaluation, e.g. 300ms", "AUDIENCE_TIMEOUT"))
	fs.DurationVar(&c.SharedUsageTTL, "shared-usage-ttl", env.Duration("SHARED_USAGE_TTL", 200*time.Millisecond),
		env.Help("how long cart evaluations reuse the promotions' counters and campaign budgets read by another evaluation; 0 reads them every time", "SHARED_USAGE_TTL"))
	c.Outreach.registerFlags(fs, env)
}

// Validate reports every problem with c.
func (c Config) Validate() error {
	errs := c.Problems()
	if c.RefreshInterval <= 0 {
		errs = append(errs, fmt.Errorf("refresh interval must be positive, got %s", c.RefreshInterval))
	}
	if c.AudienceTimeout <= 0 {
		errs = append(errs, fmt.Errorf("audience timeout must be positive, got %s", c.AudienceTimeout))
	}
	if c.SharedUsageTTL < 0 {
		errs = append(errs, fmt.Errorf("shared usage TTL must not be negative, got %s", c.SharedUsageTTL))
	}
	if _, err := c.Outreach.parse(); err != nil {
		errs = append(errs, err)
	}
	if c.ProfileService == "" || c.SegmentationService == "" || c.LoyaltyService == "" {
		errs = append(errs, errors.New("profile, segmentation and loyalty service names are required"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("promotion: config: %w", err)
	}
	return nil
}
