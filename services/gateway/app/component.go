package app

import (
	"context"
	"flag"

	"github.com/tenurehq/tenure/services/platform/stack"
)

// Component is the gateway as the edge of a stack (tenured, tests). It
// starts from the configuration cmd/gateway has without flags (defaults and
// TENURE_GATEWAY_* variables), takes the stack's listen address, log level,
// logger, telemetry, etcd client and clock, then lets configure, if not
// nil, adjust both. Add it after the services it routes to.
func Component(configure func(*Config, *Deps)) stack.Component {
	return stack.Component{Name: ServiceName, Edge: true, Start: func(ctx context.Context, env stack.Env) (stack.Runner, func(), error) {
		var cfg Config
		cfg.RegisterFlags(flag.NewFlagSet(ServiceName, flag.ContinueOnError))
		env.Configure(&cfg.Config)
		deps := Deps{Logger: env.Logger, Telemetry: env.Telemetry, Etcd: env.Etcd, Clock: env.Clock}
		if configure != nil {
			configure(&cfg, &deps)
		}
		return stack.Started(New(ctx, cfg, deps))
	}}
}
