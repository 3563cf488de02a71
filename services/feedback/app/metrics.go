package app

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/tenurehq/tenure/services/feedback/internal/feedback"
)

// metrics records the domain's counts as OpenTelemetry counters:
// tenure.feedback.sla.breaches, the SLA targets missed, by target
// (first_reply or resolution), counted when the first reply or the solve
// is recorded after its due time; and tenure.feedback.escalation.steps,
// the escalation steps sweeps applied.
type metrics struct {
	breaches metric.Int64Counter
	steps    metric.Int64Counter
}

var _ feedback.Metrics = metrics{}

// newMetrics creates the counters on m; a counter that cannot be created
// is logged and dropped.
func newMetrics(m metric.Meter, log *slog.Logger) metrics {
	breaches, err := m.Int64Counter("tenure.feedback.sla.breaches", metric.WithUnit("{ticket}"),
		metric.WithDescription("SLA targets missed, by target, counted when the late reply or solve is recorded"))
	if err != nil {
		log.Warn("feedback: SLA breach metric", "error", err)
		breaches = noop.Int64Counter{}
	}
	steps, err := m.Int64Counter("tenure.feedback.escalation.steps", metric.WithUnit("{step}"),
		metric.WithDescription("escalation steps applied by sweeps"))
	if err != nil {
		log.Warn("feedback: escalation step metric", "error", err)
		steps = noop.Int64Counter{}
	}
	return metrics{breaches: breaches, steps: steps}
}

// SLABreached implements feedback.Metrics.
func (m metrics) SLABreached(ctx context.Context, target feedback.SLATarget) {
	m.breaches.Add(ctx, 1, metric.WithAttributes(attribute.String("target", string(target))))
}

// EscalationSteps implements feedback.Metrics.
func (m metrics) EscalationSteps(ctx context.Context, n int64) {
	m.steps.Add(ctx, n)
}
