package main

import (
	"context"

	gatewayapp "github.com/tenurehq/tenure/services/gateway/app"
	profileapp "github.com/tenurehq/tenure/services/profile/app"
	segmentationapp "github.com/tenurehq/tenure/services/segmentation/app"
)

// services lists every backend tenured runs, in start order; they stop in
// reverse order after the gateway. Adding a service is one entry.
func services() []service {
	return []service{
		{"profile", func(ctx context.Context, env env) (runner, func(), error) {
			cfg := defaults[profileapp.Config]()
			cfg.ListenAddr, cfg.DSN, cfg.LogLevel = env.listen, env.sqliteDSN, env.logLevel
			return started(profileapp.New(ctx, *cfg, profileapp.Deps{Logger: env.logger, Telemetry: env.telemetry, Etcd: env.etcd}))
		}},
		// After profile: it consumes profile's event stream.
		{"segmentation", func(ctx context.Context, env env) (runner, func(), error) {
			cfg := defaults[segmentationapp.Config]()
			cfg.ListenAddr, cfg.DSN, cfg.LogLevel = env.listen, env.sqliteDSN, env.logLevel
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
