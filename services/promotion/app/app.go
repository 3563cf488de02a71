// Package app assembles the promotion service: storage, the compiled set of
// active promotions kept current on every replica, the audience clients,
// the profile event consumer, the gRPC API and the server lifecycle.
// cmd/promotion and the tenured launcher run it. More APIs of the service
// register in build, next to PromotionService.
package app

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	loyaltyv1 "github.com/tenurehq/tenure/gen/tenure/loyalty/v1"
	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	"github.com/tenurehq/tenure/services/platform/bootstrap"
	"github.com/tenurehq/tenure/services/platform/eventlog"
	"github.com/tenurehq/tenure/services/platform/grpcserver"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/promotion/internal/clients"
	"github.com/tenurehq/tenure/services/promotion/internal/consumer"
	"github.com/tenurehq/tenure/services/promotion/internal/grpcapi"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
	"github.com/tenurehq/tenure/services/promotion/internal/promotion"
	"github.com/tenurehq/tenure/services/promotion/internal/store"
	"google.golang.org/grpc"
)

// ServiceName is the name the service registers under in discovery.
const ServiceName = "promotion"

// Deps are optional shared dependencies (logger, telemetry, etcd client,
// clock), the same for every service; New creates what is missing.
type Deps = bootstrap.Deps

// App is a running promotion service.
type App struct {
	cfg      Config
	logger   *slog.Logger
	srv      *grpcserver.Server
	svc      *promotion.Service
	store    *store.Store
	consumer *eventlog.Consumer
	outreach *outreachJob // nil without etcd or with no outreach interval
	// engagements records outreach engagements; metrics counts outreach
	// attempts.
	engagements *outreach.Engagements
	reports     outreach.Reports
	metrics     *outreachMetrics
	adminAddr   string
}

// New builds the service: it opens and migrates the database and listens.
// The cleanup function releases what New opened; call it after Run returns.
func New(ctx context.Context, cfg Config, deps Deps) (*App, func(), error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	var st *store.Store
	rt, err := bootstrap.Start(ctx, ServiceName, cfg.Config, deps, func(ctx context.Context, db *sqlstore.DB) error {
		st = store.New(db)
		return st.Migrate(ctx)
	})
	if err != nil {
		return nil, nil, err
	}
	a := &App{cfg: cfg, logger: rt.Logger, store: st}
	if err := a.build(ctx, rt); err != nil {
		rt.Close()
		return nil, nil, err
	}
	return a, rt.Close, nil
}

// build wires the audience clients and the event consumer (when there is
// etcd to find the other services) and the API.
func (a *App) build(ctx context.Context, rt *bootstrap.Runtime) error {
	var audiences promotion.Audiences
	var err error
	if a.metrics, err = newOutreachMetrics(rt.Telemetry.Meter(meterName)); err != nil {
		return err
	}
	a.engagements, a.reports = a.newEngagements(rt, nil)
	a.adminAddr = rt.AdminAddr()
	if rt.Etcd != nil {
		conns := map[string]*grpc.ClientConn{}
		for _, name := range []string{a.cfg.ProfileService, a.cfg.SegmentationService, a.cfg.LoyaltyService} {
			conn, err := rt.Dial(name)
			if err != nil {
				return err
			}
			conns[name] = conn
		}
		audiences = clients.Audiences{Segmentation: segmentationv1.NewSegmentationServiceClient(conns[a.cfg.SegmentationService]),
			Loyalty: loyaltyv1.NewLoyaltyServiceClient(conns[a.cfg.LoyaltyService]), Timeout: a.cfg.AudienceTimeout,
			Reachable: func(service string) bool {
				name := map[string]string{"segmentation": a.cfg.SegmentationService, "loyalty": a.cfg.LoyaltyService}[service]
				return len(rt.Discovery.Endpoints(name)) > 0
			}}
		a.svc = promotion.NewService(a.store, audiences, rt.Clock, rt.Logger)
		a.engagements, a.reports = a.newEngagements(rt, profilev1.NewProfileServiceClient(conns[a.cfg.ProfileService]))
		if a.cfg.Outreach.Interval > 0 {
			if a.outreach, err = a.newOutreachJob(rt, conns); err != nil {
				return err
			}
		}
		a.consumer, err = eventlog.New(eventlog.Config{Client: profilev1.NewProfileServiceClient(conns[a.cfg.ProfileService]),
			Handler: consumer.New(a.svc, a.store), Logger: a.logger})
		if err != nil {
			return err
		}
	} else {
		a.logger.Warn("promotion: no etcd, so no profile to follow and no audiences to check")
		a.svc = promotion.NewService(a.store, nil, rt.Clock, rt.Logger)
	}
	a.svc.SetUsageTTL(a.cfg.SharedUsageTTL)
	if err := a.svc.Refresh(ctx); err != nil {
		return err
	}
	srv, err := rt.NewServer(grpcapi.ErrorTable(a.logger))
	if err != nil {
		return err
	}
	grpcapi.New(a.svc, rt.Clock).Register(srv.GRPC())
	grpcapi.NewOutreach(outreach.Journeys{Store: a.store, Pools: a.store, Clock: rt.Clock}, a.store, outreach.CustomerMessages{Store: a.store},
		outreach.Inbox{Store: a.store, Clock: rt.Clock}).SetEngagement(a.engagements, a.reports).Register(srv.GRPC())
	a.srv = srv
	return nil
}

// AdminAddr is the address of the admin server (Prometheus /metrics);
// empty when there is none.
func (a *App) AdminAddr() string { return a.adminAddr }

// Addr is the address the gRPC server listens on.
func (a *App) Addr() string { return a.srv.Addr() }

// Cursor returns the sequence of the last profile event applied.
func (a *App) Cursor(ctx context.Context) (int64, error) { return a.store.Cursor(ctx) }

// CatalogVersion is the catalogue version of this replica's compiled set.
func (a *App) CatalogVersion() int64 { return a.svc.Version() }

// Run serves until ctx is done: the gRPC API, the event consumer, the
// refresh of the active promotions and background code generations. Then
// it shuts down cleanly.
func (a *App) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a.svc.SetBackground(ctx)
	var wg sync.WaitGroup
	if a.consumer != nil {
		wg.Go(func() { _ = a.consumer.Run(ctx) })
	}
	wg.Go(func() { a.refresh(ctx) })
	if a.outreach != nil {
		wg.Go(func() { a.runOutreach(ctx) })
	}
	err := a.srv.Run(ctx)
	cancel()
	wg.Wait()
	a.svc.WaitBackground()
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// refresh recompiles the active promotions whenever another replica
// changed the catalogue, checking its version every RefreshInterval.
func (a *App) refresh(ctx context.Context) {
	tick := time.NewTicker(a.cfg.RefreshInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := a.svc.Refresh(ctx); err != nil && ctx.Err() == nil {
			a.logger.Warn("promotion: refreshing the active promotions", "error", err)
		}
	}
}
