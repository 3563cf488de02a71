// Package app assembles the loyalty service: storage, the profile event
// consumer, the job schedule on the elected replica, the gRPC API and the
// server lifecycle. cmd/loyalty and the tenured launcher run it.
package app

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/loyalty/internal/consumer"
	"github.com/tenurehq/tenure/services/loyalty/internal/grpcapi"
	"github.com/tenurehq/tenure/services/loyalty/internal/loyalty"
	"github.com/tenurehq/tenure/services/loyalty/internal/store"
	"github.com/tenurehq/tenure/services/platform/bootstrap"
	"github.com/tenurehq/tenure/services/platform/election"
	"github.com/tenurehq/tenure/services/platform/eventlog"
	"github.com/tenurehq/tenure/services/platform/grpcserver"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// ServiceName is the name the service registers under in discovery.
const ServiceName = "loyalty"

// electionName is the election the job schedule runs under.
const electionName = "loyalty-jobs"

// Deps are optional shared dependencies (logger, telemetry, etcd client,
// clock), the same for every service; New creates what is missing.
type Deps = bootstrap.Deps

// App is a running loyalty service.
type App struct {
	cfg      Config
	logger   *slog.Logger
	etcd     *clientv3.Client
	clock    func() time.Time
	srv      *grpcserver.Server
	svc      *loyalty.Service
	store    *store.Store
	consumer *eventlog.Consumer
	// adminAddr serves /metrics; empty without -admin-listen.
	adminAddr string
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
	a := &App{cfg: cfg, logger: rt.Logger, etcd: rt.Etcd, clock: rt.Clock, store: st, svc: loyalty.NewService(st, rt.Clock)}
	if err := a.build(rt); err != nil {
		rt.Close()
		return nil, nil, err
	}
	return a, rt.Close, nil
}

// build wires the event consumer (when there is a profile service to
// follow) and the API.
func (a *App) build(rt *bootstrap.Runtime) error {
	if rt.Etcd != nil {
		conn, err := rt.Dial(a.cfg.ProfileService)
		if err != nil {
			return err
		}
		a.consumer, err = eventlog.New(eventlog.Config{Client: profilev1.NewProfileServiceClient(conn),
			Handler: consumer.New(a.svc, a.store), PageSize: consumer.PageSize, Logger: a.logger})
		if err != nil {
			return err
		}
	} else {
		a.logger.Warn("loyalty: no etcd, so no profile service to consume events from")
	}
	if rt.Etcd != nil {
		a.svc.SetProgrammeNotifier(programmeNotifier{a})
	}
	m, err := newLedgerMetrics(rt.Telemetry.Meter(meterName))
	if err != nil {
		return err
	}
	a.svc.SetMetrics(m)
	a.adminAddr = rt.AdminAddr()
	srv, err := rt.NewServer(grpcapi.ErrorTable(a.logger))
	if err != nil {
		return err
	}
	grpcapi.New(a.svc).Register(srv.GRPC())
	a.srv = srv
	return nil
}

// Addr is the address the gRPC server listens on.
func (a *App) Addr() string { return a.srv.Addr() }

// AdminAddr is the address of the admin server (Prometheus /metrics);
// empty without one.
func (a *App) AdminAddr() string { return a.adminAddr }

// Cursor returns the sequence of the last profile event applied.
func (a *App) Cursor(ctx context.Context) (int64, error) { return a.store.Cursor(ctx) }

// Run serves until ctx is done: the gRPC API, the event consumer and the
// job schedule (on the elected replica). Then it shuts down cleanly.
func (a *App) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	if a.consumer != nil {
		wg.Go(func() { _ = a.consumer.Run(ctx) })
	}
	if a.cfg.JobInterval > 0 {
		wg.Go(func() { a.runSchedule(ctx) })
	}
	if a.etcd != nil {
		wg.Go(func() { a.watchProgramme(ctx) })
	}
	err := a.srv.Run(ctx)
	cancel()
	wg.Wait()
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// runSchedule runs the jobs on the elected replica (on this one without
// etcd).
func (a *App) runSchedule(ctx context.Context) {
	id := a.cfg.AdvertiseAddr
	if id == "" {
		id = a.srv.Addr()
	}
	if err := election.RunOrAlone(ctx, a.etcd, electionName, id, a.logger, a.schedule); err != nil && ctx.Err() == nil {
		a.logger.Error("loyalty: job election", "error", err)
	}
}

// schedule runs every job as of the start of the current interval, now and
// then once per interval, until ctx is done. Jobs are idempotent per as-of
// time, so a new leader repeating the current interval changes nothing.
func (a *App) schedule(ctx context.Context) {
	a.logger.Info("loyalty: leading the job schedule", "interval", a.cfg.JobInterval)
	tick := time.NewTicker(a.cfg.JobInterval)
	defer tick.Stop()
	for {
		// Operations whose runner stopped (a crash, a lost election) are
		// finished first, where they stopped.
		if err := a.svc.ResumeStale(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			a.logger.Warn("loyalty: resume stopped jobs", "error", err)
		}
		asOf := a.clock().UTC().Truncate(a.cfg.JobInterval)
		for _, kind := range []loyalty.JobKind{loyalty.JobMature, loyalty.JobExpire, loyalty.JobTiers, loyalty.JobBirthdays} {
			if op, err := a.svc.RunJob(ctx, kind, asOf, true); err != nil || op.State == loyalty.OpFailed {
				if ctx.Err() != nil {
					return
				}
				a.logger.Warn("loyalty: scheduled job", "job", kind, "error", err, "operation", op.Error)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
