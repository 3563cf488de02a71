package engine_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"github.com/tenurehq/tenure/services/segmentation/internal/engine"
	"github.com/tenurehq/tenure/services/segmentation/internal/rules"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
	"github.com/tenurehq/tenure/services/segmentation/internal/store"
)

// TestRecomputeMetric: a recompute is recorded with its outcome.
func TestRecomputeMetric(t *testing.T) {
	ctx := context.Background()
	st := store.New(sqlstoretest.SQLite(t))
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	env, err := rules.NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	reader := sdkmetric.NewManualReader()
	e := engine.New(engine.Config{Store: st, Settings: segmentation.SettingsSource{Store: st}, Rules: env,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Meter: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)).Meter("engine")})
	t.Cleanup(e.Close)
	if _, err := e.Start(ctx, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), segmentation.TriggerAPI); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the recompute recorded as succeeded", func() bool { return recomputes(t, reader) == 1 })
}

// recomputes is the count of tenure.segmentation.recompute.duration with
// outcome "succeeded".
func recomputes(t *testing.T, reader *sdkmetric.ManualReader) uint64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			h, ok := m.Data.(metricdata.Histogram[float64])
			if m.Name != "tenure.segmentation.recompute.duration" || !ok {
				continue
			}
			for _, dp := range h.DataPoints {
				if v, _ := dp.Attributes.Value(attribute.Key("outcome")); v.AsString() == "succeeded" {
					return dp.Count
				}
			}
		}
	}
	return 0
}
