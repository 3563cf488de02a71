// Package app assembles the profile service: storage, domain, gRPC API and
// server lifecycle. cmd/profile and the tenured launcher run it.
package app

import (
	"context"
	"errors"

	"github.com/tenurehq/tenure/services/platform/auth"
	"github.com/tenurehq/tenure/services/platform/bootstrap"
	"github.com/tenurehq/tenure/services/platform/grpcserver"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/profile/internal/grpcapi"
	"github.com/tenurehq/tenure/services/profile/internal/profile"
	"github.com/tenurehq/tenure/services/profile/internal/store"
)

// ServiceName is the name the service registers under in discovery.
const ServiceName = "profile"

// Deps are optional shared dependencies (logger, telemetry, etcd client,
// clock), the same for every service; New creates what is missing.
type Deps = bootstrap.Deps

// App is a running profile service.
type App struct {
	srv *grpcserver.Server
	api *grpcapi.Server
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
	audit := profile.NewAudit(st, rt.Clock)
	api := grpcapi.New(profile.NewService(st, rt.Clock), audit)
	// Exports and erasures are recorded here, in profile's own database,
	// besides the structured log every service writes.
	rt.PersistAudit = func(ctx context.Context, r auth.Record) error {
		return audit.Record(ctx, profile.AuditRecord{Principal: r.Principal, KeyID: r.KeyID, Method: r.Method,
			Resource: r.Resource, RequestID: r.RequestID, Outcome: r.Outcome, CreateTime: r.At})
	}
	srv, err := rt.NewServer(grpcapi.ErrorTable(rt.Logger))
	if err != nil {
		rt.Close()
		return nil, nil, err
	}
	api.Register(srv.GRPC())
	return &App{srv: srv, api: api}, rt.Close, nil
}

// Addr is the address the gRPC server listens on.
func (a *App) Addr() string { return a.srv.Addr() }

// Run serves until ctx is done, then shuts down cleanly: it ends the
// following event streams, deregisters, drains and stops.
func (a *App) Run(ctx context.Context) error {
	stop := context.AfterFunc(ctx, a.api.Stop)
	defer stop()
	if err := a.srv.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
