package app

import (
	"context"
	"flag"

	"github.com/tenurehq/tenure/services/platform/stack"
)

// Component is the feedback service as a part of a stack (tenured,
// tenure-bench, tests). It starts from the configuration cmd/feedback
// has without flags (defaults and TENURE_FEEDBACK_* variables), takes
// the stack's listen address, database, log level, logger, telemetry, etcd
// client and clock, then lets configure, if not nil, adjust both. It finds
// the profile, segmentation, loyalty and promotion services through the stack's
// discovery, so add it after them.
func Component(configure func(*Config, *Deps)) stack.Component {
	return stack.Component{Name: ServiceName, Start: func(ctx context.Context, env stack.Env) (stack.Runner, func(), error) {
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
