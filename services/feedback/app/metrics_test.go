package app

import (
	"context"
	"log/slog"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/tenurehq/tenure/services/feedback/internal/feedback"
)

// TestMetricsRecordCounters: the domain's counts reach the OpenTelemetry
// counters, breaches by target.
func TestMetricsRecordCounters(t *testing.T) {
	ctx := context.Background()
	reader := sdkmetric.NewManualReader()
	m := newMetrics(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)).Meter("feedback"), slog.New(slog.DiscardHandler))
	m.SLABreached(ctx, feedback.TargetFirstReply)
	m.SLABreached(ctx, feedback.TargetResolution)
	m.SLABreached(ctx, feedback.TargetResolution)
	m.EscalationSteps(ctx, 3)

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, mt := range sm.Metrics {
			sum, ok := mt.Data.(metricdata.Sum[int64])
			if !ok {
				continue
			}
			for _, dp := range sum.DataPoints {
				target, _ := dp.Attributes.Value(attribute.Key("target"))
				got[mt.Name+" "+target.AsString()] += dp.Value
			}
		}
	}
	want := map[string]int64{"tenure.feedback.sla.breaches first_reply": 1, "tenure.feedback.sla.breaches resolution": 2,
		"tenure.feedback.escalation.steps ": 3}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %d, want %d (all: %v)", k, got[k], v, got)
		}
	}
}
