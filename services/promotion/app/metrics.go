package app

import (
	"context"

	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// meterName is the instrumentation scope of the promotion counters.
const meterName = "github.com/tenurehq/tenure/services/promotion"

// outreachMetrics counts the dispatcher's recorded attempts
// (outreach.Observer): on the admin port's /metrics as
// tenure_promotion_outreach_messages_sent_total{channel} and so on.
type outreachMetrics struct {
	sent, failed, suppressed metric.Int64Counter
}

// newOutreachMetrics creates the counters on m.
func newOutreachMetrics(m metric.Meter) (*outreachMetrics, error) {
	var om outreachMetrics
	for _, c := range []struct {
		dst        *metric.Int64Counter
		name, desc string
	}{
		{&om.sent, "tenure.promotion.outreach.messages.sent", "Outreach messages handed to a channel's provider, by channel."},
		{&om.failed, "tenure.promotion.outreach.messages.failed", "Failed outreach attempts, by channel and whether the message is dead (final) or will be retried."},
		{&om.suppressed, "tenure.promotion.outreach.messages.suppressed", "Outreach messages suppressed, by reason and the journey's first channel."},
	} {
		var err error
		if *c.dst, err = m.Int64Counter(c.name, metric.WithUnit("{message}"), metric.WithDescription(c.desc)); err != nil {
			return nil, err
		}
	}
	return &om, nil
}

// Attempted implements outreach.Observer.
func (m *outreachMetrics) Attempted(ctx context.Context, ch outreach.Channel, next outreach.Message) {
	channel := attribute.String("channel", ch.String())
	switch next.State {
	case outreach.StateSent:
		m.sent.Add(ctx, 1, metric.WithAttributes(channel))
	case outreach.StateFailed, outreach.StateDead:
		m.failed.Add(ctx, 1, metric.WithAttributes(channel, attribute.Bool("final", next.State == outreach.StateDead)))
	case outreach.StateSuppressed:
		m.suppressed.Add(ctx, 1, metric.WithAttributes(channel, attribute.String("reason", next.Reason.String())))
	}
}
