package feedback

import (
	"context"
	"time"
)

// Metrics receives the service's domain counts; app records them as
// OpenTelemetry counters. The default, NoMetrics, drops them.
type Metrics interface {
	// SLABreached counts one SLA target missed, when the late first reply
	// or solve is recorded.
	SLABreached(ctx context.Context, target SLATarget)
	// EscalationSteps counts n escalation steps a sweep applied.
	EscalationSteps(ctx context.Context, n int64)
}

// SLATarget names an SLA target in the counts.
type SLATarget string

// The SLA targets.
const (
	TargetFirstReply SLATarget = "first_reply"
	TargetResolution SLATarget = "resolution"
)

// NoMetrics drops every count.
type NoMetrics struct{}

// SLABreached implements Metrics.
func (NoMetrics) SLABreached(context.Context, SLATarget) {}

// EscalationSteps implements Metrics.
func (NoMetrics) EscalationSteps(context.Context, int64) {}

// WithMetrics sets where the service counts SLA breaches and escalation
// steps (default NoMetrics).
func WithMetrics(m Metrics) Option { return func(s *Service) { s.metrics = m } }

// countBreaches counts the targets a committed change missed: a first
// reply or a solve it recorded after the due time. firstReply and solve
// are the ticket's times before the change.
func countBreaches(ctx context.Context, m Metrics, firstReply, solve time.Time, t *Ticket) {
	if firstReply.IsZero() && !t.FirstReplyTime.IsZero() && t.FirstReplyState(t.FirstReplyTime) == SLABreached {
		m.SLABreached(ctx, TargetFirstReply)
	}
	if !t.SolveTime.Equal(solve) && !t.ResolutionDue.IsZero() && t.SolveTime.After(t.ResolutionDue) {
		m.SLABreached(ctx, TargetResolution)
	}
}
