// Package app assembles the feedback service: storage, the domain with its
// clients of profile, segmentation and loyalty, the gRPC API, the escalation
// schedule on the elected replica, the consumer of profile's log (for
// erasures) and the server lifecycle. cmd/feedback
// and the tenured launcher run it.
package app

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	loyaltyv1 "github.com/tenurehq/tenure/gen/tenure/loyalty/v1"
	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	"github.com/tenurehq/tenure/services/feedback/internal/clients"
	feedbackconsumer "github.com/tenurehq/tenure/services/feedback/internal/consumer"
	"github.com/tenurehq/tenure/services/feedback/internal/feedback"
	"github.com/tenurehq/tenure/services/feedback/internal/grpcapi"
	"github.com/tenurehq/tenure/services/feedback/internal/rules"
	"github.com/tenurehq/tenure/services/feedback/internal/store"
	"github.com/tenurehq/tenure/services/platform/backoff"
	"github.com/tenurehq/tenure/services/platform/bootstrap"
	"github.com/tenurehq/tenure/services/platform/election"
	"github.com/tenurehq/tenure/services/platform/eventlog"
	"github.com/tenurehq/tenure/services/platform/grpcserver"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/webhook"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// ServiceName is the name the service registers under in discovery.
const ServiceName = "feedback"

// electionName is the election the escalation schedule runs under;
// lockName the lock every sweep holds.
const (
	electionName = "feedback-escalation"
	lockName     = "feedback-escalation"
)

// contactRetryBatch is how many unconfirmed profile contacts the schedule
// retries per tick; rewardRetryBatch how many promoters' thanks;
// inviteBatch how many survey invitations it sends, and how many solved
// tickets' invitations it creates again.
const (
	contactRetryBatch = 500
	rewardRetryBatch  = 500
	inviteBatch       = 500
)

// rewardRetryMax caps the delay between retries of a promoter's thanks,
// inviteRetryMax between retries of an invitation.
const (
	rewardRetryMax = time.Hour
	inviteRetryMax = time.Hour
)

// Deps are optional shared dependencies (logger, telemetry, etcd client,
// clock), the same for every service; New creates what is missing.
type Deps = bootstrap.Deps

// App is a running feedback service.
type App struct {
	cfg    Config
	logger *slog.Logger
	etcd   *clientv3.Client
	srv    *grpcserver.Server
	svc    *feedback.Service
	// consumer follows profile's log for erasures; nil without etcd.
	consumer *eventlog.Consumer
	// leading is whether this replica runs the schedule; sweeps counts the
	// sweeps its schedule ran.
	leading atomic.Bool
	sweeps  atomic.Int64
}

// New builds the service: it opens and migrates the database and listens.
// The cleanup function releases what New opened; call it after Run returns.
func New(ctx context.Context, cfg Config, deps Deps) (*App, func(), error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	rt, err := bootstrap.Start(ctx, ServiceName, cfg.Config, deps,
		func(ctx context.Context, db *sqlstore.DB) error { return store.New(db).Migrate(ctx) })
	if err != nil {
		return nil, nil, err
	}
	a, err := build(cfg, rt)
	if err != nil {
		rt.Close()
		return nil, nil, err
	}
	return a, rt.Close, nil
}

// build wires the service over rt: the store, the rule compiler, the
// clients of the other services (when there is etcd), the use cases and
// the API.
func build(cfg Config, rt *bootstrap.Runtime) (*App, error) {
	compiler, err := rules.New()
	if err != nil {
		return nil, err
	}
	st := store.New(rt.DB)
	opts := []feedback.Option{feedback.WithClock(rt.Clock), feedback.WithLogger(rt.Logger),
		feedback.WithMetrics(newMetrics(rt.Telemetry.Meter("github.com/tenurehq/tenure/services/feedback/internal/feedback"), rt.Logger)),
		feedback.WithNotifier(clients.Webhooks{Sender: &webhook.Sender{Secret: []byte(cfg.WebhookSecret)}}),
		// Thanks that loyalty could not take are retried by the schedule,
		// no more often than it runs.
		feedback.WithRewardRetry(backoff.Backoff{Min: cfg.EscalationInterval, Max: rewardRetryMax}.Attempt),
		feedback.WithInvitationRetry(backoff.Backoff{Min: cfg.EscalationInterval, Max: inviteRetryMax}.Attempt)}
	var profile profilev1.ProfileServiceClient
	if rt.Etcd != nil {
		more, p, err := remoteOptions(cfg, rt)
		if err != nil {
			return nil, err
		}
		opts, profile = append(opts, more...), p
	} else {
		// Promoters are not rewarded: their answers say
		// REWARD_STATE_UNAVAILABLE (feedback.NoRewards, the default);
		// invitations stay pending (feedback.NoOutreach).
		rt.Logger.Warn("feedback: no etcd, so no profile, segmentation, loyalty or promotion to call")
	}
	svc := feedback.NewService(st, compiler, opts...)
	var consumer *eventlog.Consumer
	if profile != nil {
		if consumer, err = eventlog.New(eventlog.Config{Client: profile, Handler: feedbackconsumer.New(st, svc), Logger: rt.Logger}); err != nil {
			return nil, err
		}
	}
	srv, err := rt.NewServer(grpcapi.ErrorTable(rt.Logger))
	if err != nil {
		return nil, err
	}
	grpcapi.New(svc).Register(srv.GRPC())
	return &App{cfg: cfg, logger: rt.Logger, etcd: rt.Etcd, srv: srv, svc: svc, consumer: consumer}, nil
}

// remoteOptions dials profile, segmentation, loyalty and promotion through discovery
// and takes the cluster-wide escalation lock; it returns the profile client
// for the event consumer too.
func remoteOptions(cfg Config, rt *bootstrap.Runtime) ([]feedback.Option, profilev1.ProfileServiceClient, error) {
	profileConn, err := rt.Dial(cfg.ProfileService)
	if err != nil {
		return nil, nil, err
	}
	segConn, err := rt.Dial(cfg.SegmentationService)
	if err != nil {
		return nil, nil, err
	}
	loyaltyConn, err := rt.Dial(cfg.LoyaltyService)
	if err != nil {
		return nil, nil, err
	}
	promotionConn, err := rt.Dial(cfg.PromotionService)
	if err != nil {
		return nil, nil, err
	}
	locker, err := election.NewLocker(rt.Etcd, lockName)
	if err != nil {
		return nil, nil, err
	}
	profile := profilev1.NewProfileServiceClient(profileConn)
	loyalty := clients.Loyalty{Client: loyaltyv1.NewLoyaltyServiceClient(loyaltyConn)}
	return []feedback.Option{
		feedback.WithContacts(clients.Profile{Client: profile}),
		feedback.WithCustomers(clients.Customers{Segmentation: segmentationv1.NewSegmentationServiceClient(segConn), Loyalty: loyalty}),
		feedback.WithRewards(loyalty),
		feedback.WithOutreach(clients.Outreach{Client: promotionv1.NewOutreachServiceClient(promotionConn)}, cfg.SurveyLinkBase),
		feedback.WithLocker(lockerOf{locker}),
	}, profile, nil
}

// lockerOf makes election.ErrLocked an ErrEscalationInProgress.
type lockerOf struct{ l *election.Locker }

func (l lockerOf) TryLock(ctx context.Context) (func(), error) {
	unlock, err := l.l.TryLock(ctx)
	if errors.Is(err, election.ErrLocked) {
		return nil, feedback.ErrEscalationInProgress
	}
	return unlock, err
}

// Leading reports whether this replica runs the escalation schedule.
func (a *App) Leading() bool { return a.leading.Load() }

// ScheduledSweeps returns how many sweeps this replica's schedule ran.
func (a *App) ScheduledSweeps() int64 { return a.sweeps.Load() }

// Addr is the address the gRPC server listens on.
func (a *App) Addr() string { return a.srv.Addr() }

// Run serves until ctx is done: the gRPC API and, on the elected replica,
// the escalation schedule. Then it shuts down cleanly.
func (a *App) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	if a.cfg.EscalationInterval > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); a.runSchedule(ctx) }()
	}
	if a.consumer != nil {
		wg.Add(1)
		go func() { defer wg.Done(); _ = a.consumer.Run(ctx) }()
	}
	err := a.srv.Run(ctx)
	cancel()
	wg.Wait()
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// runSchedule runs the schedule, under the election when there is etcd.
func (a *App) runSchedule(ctx context.Context) {
	id := a.cfg.AdvertiseAddr
	if id == "" {
		id = a.srv.Addr()
	}
	if err := election.RunOrAlone(ctx, a.etcd, electionName, id, a.logger, a.schedule); err != nil && ctx.Err() == nil {
		a.logger.Error("feedback: escalation election", "error", err)
	}
}

// sendInvitations creates the invitations solved tickets still lack and
// sends the due ones.
func (a *App) sendInvitations(ctx context.Context) {
	if err := a.svc.RetryTicketInvites(ctx, inviteBatch); err != nil && ctx.Err() == nil {
		a.logger.Warn("feedback: create solved tickets' invitations", "error", err)
	}
	if err := a.svc.SendInvitations(ctx, inviteBatch); err != nil && ctx.Err() == nil {
		a.logger.Warn("feedback: send survey invitations", "error", err)
	}
}

// schedule sweeps every interval, retries unconfirmed profile contacts
// and promoters' thanks, and sends survey invitations, until ctx is done.
func (a *App) schedule(ctx context.Context) {
	a.logger.Info("feedback: leading the escalation schedule", "interval", a.cfg.EscalationInterval)
	a.leading.Store(true)
	defer a.leading.Store(false)
	tick := time.NewTicker(a.cfg.EscalationInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if _, err := a.svc.Escalate(ctx, time.Time{}, true); err != nil && ctx.Err() == nil {
			a.logger.Warn("feedback: scheduled escalation", "error", err)
		}
		a.sweeps.Add(1)
		if err := a.svc.RetryContacts(ctx, contactRetryBatch); err != nil && ctx.Err() == nil {
			a.logger.Warn("feedback: retry profile contacts", "error", err)
		}
		if err := a.svc.RetryRewards(ctx, rewardRetryBatch); err != nil && ctx.Err() == nil {
			a.logger.Warn("feedback: retry promoters' thanks", "error", err)
		}
		a.sendInvitations(ctx)
	}
}
