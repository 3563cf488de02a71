package main

import (
	"context"
	"os"

	gatewayapp "github.com/tenurehq/tenure/services/gateway/app"
	"github.com/tenurehq/tenure/services/platform/bootstrap"
	profileapp "github.com/tenurehq/tenure/services/profile/app"
	segmentationapp "github.com/tenurehq/tenure/services/segmentation/app"
)

// services lists every backend tenured runs, in start order; they stop in
// reverse order after the gateway. Adding a service is one entry.
func services() []service {
	return []service{
		{"profile", func(ctx context.Context, env env) (runner, func(), error) {
			cfg := defaults[profileapp.Config]()
			env.configure(&cfg.Config, "profile")
			return started(profileapp.New(ctx, *cfg, profileapp.Deps{Logger: env.logger, Telemetry: env.telemetry, Etcd: env.etcd}))
		}},
		// After profile: it consumes profile's event stream.
		{"segmentation", func(ctx context.Context, env env) (runner, func(), error) {
			cfg := defaults[segmentationapp.Config]()
			env.configure(&cfg.Config, "segmentation")
			return started(segmentationapp.New(ctx, *cfg, segmentationapp.Deps{Logger: env.logger, Telemetry: env.telemetry, Etcd: env.etcd}))
		}},
	}
}

// gateway builds the JSON gateway in front of the services.
func gateway(ctx context.Context, env env) (runner, func(), error) {
	cfg := defaults[gatewayapp.Config]()
	cfg.ListenAddr, cfg.LogLevel = env.listen, env.logLevel
	return started(gatewayapp.New(ctx, *cfg, gatewayapp.Deps{Logger: env.logger, Telemetry: env.telemetry, Etcd: env.etcd}))
}

// configure points a service at tenured's listen address, log level and
// SQLite file, unless TENURE_<SERVICE>_DSN names a database of its own (for
// example PostgreSQL).
func (e env) configure(c *bootstrap.Config, service string) {
	c.ListenAddr, c.LogLevel = e.listen, e.logLevel
	if _, ok := os.LookupEnv(bootstrap.NewEnv(service).Name("DSN")); !ok {
		c.DSN = e.sqliteDSN
	}
}
