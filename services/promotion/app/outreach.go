package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	"github.com/tenurehq/tenure/services/platform/bootstrap"
	"github.com/tenurehq/tenure/services/platform/election"
	"github.com/tenurehq/tenure/services/platform/webhook"
	"github.com/tenurehq/tenure/services/promotion/internal/channel"
	"github.com/tenurehq/tenure/services/promotion/internal/clients"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
)

// OutreachConfig configures outreach: how often the elected replica reads
// the triggers and dispatches due messages, the channels' providers, the
// unsubscribe links, the programme's quiet hours, time zone and caps.
type OutreachConfig struct {
	Interval                       time.Duration // 0: no dispatcher on this replica
	WebhookURL, WebhookSecret      string
	SMTPHost                       string
	SMTPPort                       int
	SMTPUsername, SMTPPassword     string
	SMTPFrom, SMTPTLS              string
	UnsubscribeURL, UnsubscribeKey string
	QuietHours, TimeZone, Caps     string
	RetryMin                       time.Duration // first retry's delay; it doubles up to 30 min

	// TrackingURL is the gateway's base URL for open-pixel and click
	// links, which TrackingKey signs; CallbackKey checks engagement
	// callbacks.
	TrackingURL, TrackingKey, CallbackKey string
	PointsInterval                        time.Duration // how often points-expiring journeys read loyalty
}

func (c *OutreachConfig) registerFlags(fs *flag.FlagSet, env *bootstrap.Env) {
	str := func(p *string, name, envName, def, help string) {
		fs.StringVar(p, name, env.String(envName, def), env.Help(help, envName))
	}
	fs.DurationVar(&c.Interval, "outreach-interval", env.Duration("OUTREACH_INTERVAL", 5*time.Second),
		env.Help("how often the elected replica reads outreach triggers and sends due messages; 0 disables", "OUTREACH_INTERVAL"))
	fs.DurationVar(&c.RetryMin, "outreach-retry-min", env.Duration("OUTREACH_RETRY_MIN", 30*time.Second),
		env.Help("delay before a failed message's first retry; it doubles (jittered) up to 30m, 6 tries in all", "OUTREACH_RETRY_MIN"))
	fs.DurationVar(&c.PointsInterval, "outreach-points-interval", env.Duration("OUTREACH_POINTS_INTERVAL", time.Hour),
		env.Help("how often points-expiring journeys read loyalty's expiring points", "OUTREACH_POINTS_INTERVAL"))
	str(&c.WebhookURL, "outreach-webhook-url", "OUTREACH_WEBHOOK_URL", "", "the shop's endpoint for SMS, push and webhook messages; empty: none")
	str(&c.WebhookSecret, "outreach-webhook-secret", "OUTREACH_WEBHOOK_SECRET", "", "secret that signs outreach webhooks")
	str(&c.SMTPHost, "outreach-smtp-host", "OUTREACH_SMTP_HOST", "", "SMTP relay for email; empty: no email")
	fs.IntVar(&c.SMTPPort, "outreach-smtp-port", int(env.Int64("OUTREACH_SMTP_PORT", 587)), env.Help("SMTP relay port", "OUTREACH_SMTP_PORT"))
	str(&c.SMTPUsername, "outreach-smtp-username", "OUTREACH_SMTP_USERNAME", "", "SMTP username (PLAIN auth); empty: no auth")
	str(&c.SMTPPassword, "outreach-smtp-password", "OUTREACH_SMTP_PASSWORD", "", "SMTP password")
	str(&c.SMTPFrom, "outreach-smtp-from", "OUTREACH_SMTP_FROM", "", "sender address of outreach email")
	str(&c.SMTPTLS, "outreach-smtp-tls", "OUTREACH_SMTP_TLS", "starttls", "starttls (required), opportunistic or none")
	str(&c.UnsubscribeURL, "outreach-unsubscribe-url", "OUTREACH_UNSUBSCRIBE_URL", "", "the gateway's /v1/unsubscribe URL for one-click links; empty: none")
	str(&c.UnsubscribeKey, "outreach-unsubscribe-secret", "OUTREACH_UNSUBSCRIBE_SECRET", "", "secret of the unsubscribe links (the gateway's -unsubscribe-secret)")
	str(&c.TrackingURL, "outreach-tracking-url", "OUTREACH_TRACKING_URL", "", "the gateway's base URL (https://api.shop.example.com) for signed open-pixel and click links; empty: none")
	str(&c.TrackingKey, "outreach-tracking-secret", "OUTREACH_TRACKING_SECRET", "", "secret that signs open-pixel and click links")
	str(&c.CallbackKey, "outreach-callback-secret", "OUTREACH_CALLBACK_SECRET", "", "secret of signed engagement callbacks (delivery, open, click); empty: callbacks are refused")
	str(&c.QuietHours, "outreach-quiet-hours", "OUTREACH_QUIET_HOURS", "22:00-08:00", "local hours in which marketing messages wait, e.g. 22:00-08:00; empty: none")
	str(&c.TimeZone, "outreach-time-zone", "OUTREACH_TIME_ZONE", "UTC", "time zone of customers whose profile has none")
	str(&c.Caps, "outreach-caps", "OUTREACH_CAPS", "", "frequency caps across journeys: channel:N/window, comma separated, e.g. email:2/168h,sms:1/day")
}

// outreachRules are the parsed programme rules.
type outreachRules struct {
	quiet outreach.QuietHours
	zone  *time.Location
	caps  []outreach.Cap
}

func (c OutreachConfig) parse() (outreachRules, error) {
	var r outreachRules
	var errs []error
	if c.Interval < 0 {
		errs = append(errs, fmt.Errorf("outreach interval must not be negative, got %s", c.Interval))
	}
	if c.PointsInterval <= 0 {
		errs = append(errs, fmt.Errorf("outreach points interval must be positive, got %s", c.PointsInterval))
	}
	if c.RetryMin <= 0 || c.RetryMin > outreach.DefaultRetryPolicy.Max {
		errs = append(errs, fmt.Errorf("outreach retry delay must be from 1ns to %s, got %s", outreach.DefaultRetryPolicy.Max, c.RetryMin))
	}
	if c.QuietHours != "" {
		from, to, ok := strings.Cut(c.QuietHours, "-")
		start, err1 := clockMinute(from)
		end, err2 := clockMinute(to)
		if !ok || err1 != nil || err2 != nil {
			errs = append(errs, fmt.Errorf("outreach quiet hours %q: want HH:MM-HH:MM", c.QuietHours))
		}
		r.quiet = outreach.QuietHours{Start: start, End: end}
	}
	var err error
	if r.zone, err = time.LoadLocation(c.TimeZone); err != nil {
		errs = append(errs, fmt.Errorf("outreach time zone %q: %w", c.TimeZone, err))
	}
	for i, s := range strings.Split(c.Caps, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		cp, err := parseCap(s)
		if err == nil {
			err = cp.Check(fmt.Sprintf("caps[%d]", i))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("outreach cap %q: %w", s, err))
		}
		r.caps = append(r.caps, cp)
	}
	if c.UnsubscribeURL != "" && c.UnsubscribeKey == "" {
		errs = append(errs, errors.New("outreach unsubscribe URL needs a secret"))
	}
	if c.TrackingURL != "" && c.TrackingKey == "" {
		errs = append(errs, errors.New("outreach tracking URL needs a secret"))
	}
	return r, errors.Join(errs...)
}

func clockMinute(s string) (int, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	return t.Hour()*60 + t.Minute(), err
}

// parseCap reads "channel:N/window", window a duration or "day".
func parseCap(s string) (outreach.Cap, error) {
	name, rest, ok1 := strings.Cut(s, ":")
	n, window, ok2 := strings.Cut(rest, "/")
	ch, ok3 := outreach.ParseChannel(name)
	limit, err := strconv.Atoi(n)
	if !ok1 || !ok2 || !ok3 || err != nil {
		return outreach.Cap{}, errors.New("want channel:N/window, such as email:2/168h or sms:1/day")
	}
	c := outreach.Cap{Channel: ch, Limit: limit}
	if window == "day" {
		c.PerLocalDay = true
		return c, nil
	}
	c.Window, err = time.ParseDuration(window)
	return c, err
}

// outreachJob reads the triggers and dispatches due messages every
// interval on the elected replica.
type outreachJob struct {
	triggers   *outreach.AudienceTriggers
	events     *outreach.EventTriggers
	dates      dateTriggers
	dispatcher *outreach.Dispatcher
	etcd       *clientv3.Client // nil: lead alone
}

// newOutreachJob wires the dispatcher to profile, the providers and the
// store, and the audience triggers to segmentation.
func (a *App) newOutreachJob(rt *bootstrap.Runtime, conns map[string]*grpc.ClientConn) (*outreachJob, error) {
	rules, err := a.cfg.Outreach.parse()
	if err != nil {
		return nil, err
	}
	c := a.cfg.Outreach
	providers := map[outreach.Channel]channel.Provider{outreach.ChannelInApp: channel.InApp{Inbox: a.store}}
	if c.WebhookURL != "" {
		hook := channel.Webhook{URL: c.WebhookURL, Sender: &webhook.Sender{Secret: []byte(c.WebhookSecret), Clock: rt.Clock}}
		for _, ch := range []outreach.Channel{outreach.ChannelSMS, outreach.ChannelPush, outreach.ChannelWebhook} {
			providers[ch] = hook
		}
	}
	if c.SMTPHost != "" {
		mode := map[string]channel.TLSMode{"starttls": channel.TLSStartTLSMandatory, "opportunistic": channel.TLSStartTLSOpportunistic,
			"none": channel.TLSNone}[c.SMTPTLS]
		email, err := channel.NewEmail(channel.EmailConfig{Host: c.SMTPHost, Port: c.SMTPPort, Username: c.SMTPUsername,
			Password: c.SMTPPassword, From: c.SMTPFrom, TLS: mode})
		if err != nil {
			return nil, err
		}
		providers[outreach.ChannelEmail] = email
	}
	j := &outreachJob{etcd: rt.Etcd, dispatcher: &outreach.Dispatcher{
		Store: a.store, Journeys: outreach.Journeys{Store: a.store, Pools: a.store, Clock: rt.Clock},
		Contacts:    a.contacts(conns),
		Sender:      &channel.Router{Providers: providers, UnsubscribeBase: c.UnsubscribeURL, Secret: []byte(c.UnsubscribeKey), Clock: rt.Clock},
		Batch:       500,
		Recommender: clients.Recommendations{Client: segmentationv1.NewRecommendationServiceClient(conns[a.cfg.SegmentationService])},
		Caps:        rules.caps, Quiet: rules.quiet, Zone: rules.zone, Retry: outreach.RetryPolicy{MaxAttempts: outreach.DefaultRetryPolicy.MaxAttempts, Min: c.RetryMin,
			Max: outreach.DefaultRetryPolicy.Max}, Clock: rt.Clock,
	}}
	j.dispatcher.Observer = a.metrics
	j.dispatcher.Links = outreach.LinkSigner{Base: strings.TrimSuffix(c.TrackingURL, "/"), Secret: []byte(c.TrackingKey)}
	j.dates = a.newDateTriggers(rt, conns, rules)
	j.triggers = &outreach.AudienceTriggers{Journeys: a.store, Messages: j.dates.filtered, Cursors: a.store, Clock: rt.Clock,
		Changes: clients.AudienceChanges{Client: segmentationv1.NewAudienceChangeServiceClient(conns[a.cfg.SegmentationService])}}
	j.events = a.eventTriggers(rt.Clock, profilev1.NewProfileServiceClient(conns[a.cfg.ProfileService]))
	j.events.Messages = j.dates.filtered // the audience filter holds for event journeys too
	return j, nil
}

// runOutreach runs the job under the election (alone without etcd) until
// ctx is done.
func (a *App) runOutreach(ctx context.Context) {
	id := a.cfg.AdvertiseAddr
	if id == "" {
		id = a.srv.Addr()
	}
	lead := func(ctx context.Context) {
		tick := time.NewTicker(a.cfg.Outreach.Interval)
		defer tick.Stop()
		for {
			if n, err := a.outreach.triggers.RunOnce(ctx); err != nil && ctx.Err() == nil {
				a.logger.Warn("promotion: outreach audience triggers", "error", err, "created", n)
			}
			a.runEventTriggers(ctx)
			a.outreach.dates.run(ctx, a.logger)
			if _, err := a.outreach.dispatcher.RunOnce(ctx); err != nil && ctx.Err() == nil {
				a.logger.Warn("promotion: outreach dispatch", "error", err)
			}
			if _, err := a.engagements.ReportPending(ctx, 500); err != nil && ctx.Err() == nil {
				a.logger.Warn("promotion: engagements to profile", "error", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}
	if err := election.RunOrAlone(ctx, a.outreach.etcd, "promotion-outreach", id, a.logger, lead); err != nil && ctx.Err() == nil {
		a.logger.Error("promotion: outreach election", "error", err)
	}
}
