package eventlog_test

import (
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/tenurehq/tenure/services/platform/eventlog"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
)

// TestMetrics: the consumer counts the events it applied and records the
// last applied sequence, across reconnects.
func TestMetrics(t *testing.T) {
	log, client, stopLog := startLogServer()
	t.Cleanup(stopLog)
	log.breakAfter = 7
	last := log.append(30)
	reader := sdkmetric.NewManualReader()
	meter := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)).Meter("eventlog")
	rec := newRecorder(t, sqlstoretest.SQLite(t))
	run(t, newConsumer(t, eventlog.Config{Client: client, Handler: rec, Meter: meter}))
	waitCaughtUp(t, client, rec)

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(t.Context(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				got[m.Name] = d.DataPoints[0].Value
			case metricdata.Gauge[int64]:
				got[m.Name] = d.DataPoints[0].Value
			}
		}
	}
	if got["tenure.eventlog.events"] != 30 || got["tenure.eventlog.cursor"] != last {
		t.Errorf("metrics %v, want tenure.eventlog.events 30 and tenure.eventlog.cursor %d", got, last)
	}
}
