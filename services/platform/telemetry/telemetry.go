// Package telemetry sets up OpenTelemetry tracing and metrics, gRPC and HTTP
// instrumentation, and the structured logger, so that every log line of a
// request carries the trace id of the request. Metrics go out over OTLP when
// it is configured and, with WithPrometheus, are also served for Prometheus
// to scrape: the same meters feed both.
//
// Nothing here touches the otel globals: providers are passed explicitly.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/grpc/stats"
)

// EnvEndpoint is the standard OTLP variable; export is enabled only when set.
const EnvEndpoint = "OTEL_EXPORTER_OTLP_ENDPOINT"

// Providers bundles the tracer and meter providers and the propagator a
// process uses. A nil *Providers, or one whose providers are nil or no-op,
// is disabled: see Enabled.
type Providers struct {
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	Propagator     propagation.TextMapPropagator
	// Metrics serves the meter provider's metrics in the Prometheus text
	// format, with the Go runtime's and the process's; nil unless Setup
	// was given WithPrometheus.
	Metrics http.Handler
}

// Option configures Setup.
type Option func(*options)

type options struct{ prometheus bool }

// WithPrometheus makes Setup record metrics even without OTLP export and
// serve them through Providers.Metrics.
func WithPrometheus() Option { return func(o *options) { o.prometheus = true } }

// Setup returns OTLP/gRPC-exporting providers when OTEL_EXPORTER_OTLP_ENDPOINT
// is set and OTEL_SDK_DISABLED is not true (the exporters read the other
// standard OTEL_* variables), and no-op providers otherwise. WithPrometheus
// adds a Prometheus reader to the meter provider, whether or not OTLP is on.
// The returned function flushes and shuts them down.
func Setup(ctx context.Context, service string, opts ...Option) (*Providers, func(context.Context) error, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	otlp := os.Getenv(EnvEndpoint) != "" && !strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true")
	if !otlp && !o.prometheus {
		return NewProviders(nil), func(context.Context) error { return nil }, nil
	}
	res, err := resource.New(ctx,
		resource.WithFromEnv(),
		resource.WithTelemetrySDK(),
		resource.WithAttributes(attribute.String("service.name", service)),
	)
	if err != nil {
		return nil, nil, fmt.Errorf("telemetry: resource: %w", err)
	}
	p := NewProviders(nil)
	var shutdowns []func(context.Context) error
	var mopts []sdkmetric.Option
	if otlp {
		traceExp, err := otlptracegrpc.New(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("telemetry: trace exporter: %w", err)
		}
		metricExp, err := otlpmetricgrpc.New(ctx)
		if err != nil {
			_ = traceExp.Shutdown(ctx)
			return nil, nil, fmt.Errorf("telemetry: metric exporter: %w", err)
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(traceExp), sdktrace.WithResource(res))
		p.TracerProvider = tp
		shutdowns = append(shutdowns, tp.Shutdown)
		mopts = append(mopts, sdkmetric.WithReader(sdkmetric.NewPeriodicReader(metricExp)))
	}
	if o.prometheus {
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		exp, err := otelprom.New(otelprom.WithRegisterer(reg))
		if err != nil {
			return nil, nil, errors.Join(fmt.Errorf("telemetry: prometheus exporter: %w", err), shutdownAll(ctx, shutdowns))
		}
		mopts = append(mopts, sdkmetric.WithReader(exp))
		p.Metrics = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	}
	mp := sdkmetric.NewMeterProvider(append(mopts, sdkmetric.WithResource(res))...)
	p.MeterProvider = mp
	shutdowns = append(shutdowns, mp.Shutdown)
	return p, func(ctx context.Context) error { return shutdownAll(ctx, shutdowns) }, nil
}

func shutdownAll(ctx context.Context, fs []func(context.Context) error) error {
	var errs []error
	for _, f := range fs {
		errs = append(errs, f(ctx))
	}
	return errors.Join(errs...)
}

// NewProviders returns providers around tp (no-op when nil), with a no-op
// meter provider and the W3C tracecontext and baggage propagator. Tests use it
// with an SDK tracer provider and a tracetest.SpanRecorder.
func NewProviders(tp trace.TracerProvider) *Providers {
	if tp == nil {
		tp = tracenoop.NewTracerProvider()
	}
	return &Providers{TracerProvider: tp, MeterProvider: metricnoop.NewMeterProvider(), Propagator: newPropagator()}
}

// Meter returns the meter called name (the instrumented package's import
// path) of p's meter provider; a no-op meter when p has none.
func (p *Providers) Meter(name string) metric.Meter {
	if p == nil || p.MeterProvider == nil {
		return metricnoop.Meter{}
	}
	return p.MeterProvider.Meter(name)
}

func newPropagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// Enabled reports whether p records anything: true for Setup with an
// exporter configured and for NewProviders with a tracer provider, false for
// a nil *Providers and for no-op (or nil) tracer and meter providers. When
// it is false the handlers below add no instrumentation at all, so that
// telemetry that is off costs nothing per request. (A trace context sent by
// a caller is then neither continued nor logged.)
func (p *Providers) Enabled() bool {
	if p == nil {
		return false
	}
	return !isNoopTracer(p.TracerProvider) || !isNoopMeter(p.MeterProvider)
}

func isNoopTracer(tp trace.TracerProvider) bool {
	switch tp.(type) {
	case nil, tracenoop.TracerProvider, *tracenoop.TracerProvider:
		return true
	}
	return false
}

func isNoopMeter(mp metric.MeterProvider) bool {
	switch mp.(type) {
	case nil, metricnoop.MeterProvider, *metricnoop.MeterProvider:
		return true
	}
	return false
}

func (p *Providers) orNoop() *Providers {
	q := *p
	if q.TracerProvider == nil {
		q.TracerProvider = tracenoop.NewTracerProvider()
	}
	if q.MeterProvider == nil {
		q.MeterProvider = metricnoop.NewMeterProvider()
	}
	if q.Propagator == nil {
		q.Propagator = newPropagator()
	}
	return &q
}

// ServerHandler returns the gRPC server stats handler that traces and
// measures every RPC, continuing the caller's trace. It returns nil when p
// is not Enabled; callers install no stats handler then.
func (p *Providers) ServerHandler() stats.Handler {
	if !p.Enabled() {
		return nil
	}
	q := p.orNoop()
	return otelgrpc.NewServerHandler(
		otelgrpc.WithTracerProvider(q.TracerProvider),
		otelgrpc.WithMeterProvider(q.MeterProvider),
		otelgrpc.WithPropagators(q.Propagator),
	)
}

// ClientHandler returns the gRPC client stats handler that traces and
// measures every RPC and propagates the trace to the server. It returns nil
// when p is not Enabled; callers install no stats handler then.
func (p *Providers) ClientHandler() stats.Handler {
	if !p.Enabled() {
		return nil
	}
	q := p.orNoop()
	return otelgrpc.NewClientHandler(
		otelgrpc.WithTracerProvider(q.TracerProvider),
		otelgrpc.WithMeterProvider(q.MeterProvider),
		otelgrpc.WithPropagators(q.Propagator),
	)
}

// HTTPHandler wraps h so that each request is traced and measured as
// operation, continuing a trace the caller propagated. It returns h itself
// when p is not Enabled.
func (p *Providers) HTTPHandler(h http.Handler, operation string) http.Handler {
	if !p.Enabled() {
		return h
	}
	q := p.orNoop()
	return otelhttp.NewHandler(h, operation,
		otelhttp.WithTracerProvider(q.TracerProvider),
		otelhttp.WithMeterProvider(q.MeterProvider),
		otelhttp.WithPropagators(q.Propagator),
	)
}
