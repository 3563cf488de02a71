package feedback

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
)

// metrics are the service's domain counters.
type metrics struct {
	breaches metric.Int64Counter // by target: first_reply, resolution
	steps    metric.Int64Counter
}

// WithMeter sets where the service records its counters (default
// nowhere): tenure.feedback.sla.breaches, the SLA targets missed, by
// target (first_reply or resolution), counted when the first reply or the
// solve is recorded after its due time; and
// tenure.feedback.escalation.steps, the escalation steps sweeps applied.
func WithMeter(m metric.Meter) Option { return func(s *Service) { s.meter = m } }

func newMetrics(m metric.Meter, log interface{ Warn(string, ...any) }) metrics {
	if m == nil {
		m = noop.Meter{}
	}
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

var (
	targetFirstReply = metric.WithAttributes(attribute.String("target", "first_reply"))
	targetResolution = metric.WithAttributes(attribute.String("target", "resolution"))
)

// countBreaches counts the targets a committed change missed: a first
// reply or a solve it recorded after the due time. firstReply and solve
// are the ticket's times before the change.
func (m metrics) countBreaches(ctx context.Context, firstReply, solve time.Time, t *Ticket) {
	if firstReply.IsZero() && !t.FirstReplyTime.IsZero() && t.FirstReplyState(t.FirstReplyTime) == SLABreached {
		m.breaches.Add(ctx, 1, targetFirstReply)
	}
	if !t.SolveTime.Equal(solve) && !t.ResolutionDue.IsZero() && t.SolveTime.After(t.ResolutionDue) {
		m.breaches.Add(ctx, 1, targetResolution)
	}
}
