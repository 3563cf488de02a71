package app

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"time"

	"github.com/tenurehq/tenure/services/feedback/internal/feedback"
	"github.com/tenurehq/tenure/services/platform/bootstrap"
)

// Config is the feedback service's configuration: the settings every
// service shares plus its own, backed by TENURE_FEEDBACK_* environment
// variables. See README.md for the table.
type Config struct {
	bootstrap.Config
	// EscalationInterval is how often the elected replica sweeps for due
	// escalation steps; 0 disables the schedule.
	EscalationInterval time.Duration
	// ProfileService, SegmentationService, LoyaltyService and
	// PromotionService are discovery names.
	ProfileService      string
	SegmentationService string
	LoyaltyService      string
	PromotionService    string
	// SurveyLinkBase is the base of the survey links invitations carry:
	// {base}/{survey_id}?customer=…&invitation=….
	SurveyLinkBase string
	// WebhookSecret signs escalation webhooks.
	WebhookSecret string
}

// RegisterFlags sets c to the defaults, overridden by the environment, and
// registers flags that override both.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	env := bootstrap.NewEnv(ServiceName)
	c.Config.RegisterFlags(fs, env, bootstrap.Defaults{
		ListenAddr: "127.0.0.1:9105",
		DSN:        "sqlite:data/feedback.db",
	})
	fs.DurationVar(&c.EscalationInterval, "escalation-interval", env.Duration("ESCALATION_INTERVAL", time.Minute),
		env.Help("escalation sweep interval on the elected replica; 0 disables", "ESCALATION_INTERVAL"))
	fs.StringVar(&c.ProfileService, "profile-service", env.String("PROFILE_SERVICE", "profile"),
		env.Help("discovery name of the profile service", "PROFILE_SERVICE"))
	fs.StringVar(&c.SegmentationService, "segmentation-service", env.String("SEGMENTATION_SERVICE", "segmentation"),
		env.Help("discovery name of the segmentation service", "SEGMENTATION_SERVICE"))
	fs.StringVar(&c.LoyaltyService, "loyalty-service", env.String("LOYALTY_SERVICE", "loyalty"),
		env.Help("discovery name of the loyalty service (promoters' points, loyalty tiers)", "LOYALTY_SERVICE"))
	fs.StringVar(&c.PromotionService, "promotion-service", env.String("PROMOTION_SERVICE", "promotion"),
		env.Help("discovery name of the promotion service (survey invitations through outreach)", "PROMOTION_SERVICE"))
	fs.StringVar(&c.SurveyLinkBase, "survey-link-base", env.String("SURVEY_LINK_BASE", feedback.DefaultLinkBase),
		env.Help("base URL of the survey links in invitations", "SURVEY_LINK_BASE"))
	fs.StringVar(&c.WebhookSecret, "webhook-secret", env.String("WEBHOOK_SECRET", ""),
		env.Help("secret that signs escalation webhooks (HMAC-SHA256)", "WEBHOOK_SECRET"))
}

// Validate reports every problem with c.
func (c Config) Validate() error {
	errs := c.Problems()
	if c.EscalationInterval < 0 {
		errs = append(errs, fmt.Errorf("escalation interval must not be negative, got %s", c.EscalationInterval))
	}
	if c.ProfileService == "" || c.SegmentationService == "" || c.LoyaltyService == "" || c.PromotionService == "" {
		errs = append(errs, errors.New("profile, segmentation, loyalty and promotion service names are required"))
	}
	if u, err := url.Parse(c.SurveyLinkBase); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("survey link base must be an http or https URL, got %q", c.SurveyLinkBase))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("feedback: config: %w", err)
	}
	return nil
}
