package telemetry_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/tenurehq/tenure/services/platform/internal/testlog"
	"github.com/tenurehq/tenure/services/platform/telemetry"
)

func waitSpans(t *testing.T, rec *tracetest.SpanRecorder, n int) []sdktrace.ReadOnlySpan {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		spans := rec.Ended()
		if len(spans) >= n {
			return spans
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d ended spans, want %d", len(spans), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestGRPCTracePropagationAndLogs(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	p := telemetry.NewProviders(tp)

	var logs testlog.Buffer
	log := telemetry.NewLogger(&logs, "profile", slog.LevelInfo)
	logCalls := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		log.InfoContext(ctx, "handling", "method", info.FullMethod)
		return h(ctx, req)
	}

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.StatsHandler(p.ServerHandler()), grpc.UnaryInterceptor(logCalls))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)

	conn, err := grpc.NewClient(lis.Addr().String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(p.ClientHandler()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })

	if _, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatalf("Check: %v", err)
	}

	spans := waitSpans(t, rec, 2)
	var client, server sdktrace.ReadOnlySpan
	for _, s := range spans {
		switch s.SpanKind() {
		case trace.SpanKindClient:
			client = s
		case trace.SpanKindServer:
			server = s
		}
	}
	if client == nil || server == nil {
		t.Fatalf("want a client and a server span, got %d spans", len(spans))
	}
	if client.SpanContext().TraceID() != server.SpanContext().TraceID() {
		t.Errorf("client trace %s, server trace %s: want one trace", client.SpanContext().TraceID(), server.SpanContext().TraceID())
	}
	if server.Parent().SpanID() != client.SpanContext().SpanID() {
		t.Errorf("server span parent = %s, want client span %s", server.Parent().SpanID(), client.SpanContext().SpanID())
	}

	lines := logs.Lines(t)
	if len(lines) != 1 {
		t.Fatalf("got %d log lines, want 1", len(lines))
	}
	line := lines[0]
	if line["trace_id"] != server.SpanContext().TraceID().String() || line["span_id"] != server.SpanContext().SpanID().String() {
		t.Errorf("log line %v: want trace_id %s span_id %s", line, server.SpanContext().TraceID(), server.SpanContext().SpanID())
	}
	if line["service"] != "profile" {
		t.Errorf("log service = %v, want profile", line["service"])
	}
}

func TestHTTPHandlerContinuesTrace(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	p := telemetry.NewProviders(tp)

	var seen trace.SpanContext
	h := p.HTTPHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = trace.SpanContextFromContext(r.Context())
	}), "gateway")
	srv := httptest.NewServer(h)
	defer srv.Close()

	ctx, parent := tp.Tracer("test").Start(context.Background(), "caller")
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/v1/customers", nil)
	p.Propagator.Inject(ctx, propagation.HeaderCarrier(req.Header))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	parent.End()

	if seen.TraceID() != parent.SpanContext().TraceID() {
		t.Errorf("handler trace = %s, want %s", seen.TraceID(), parent.SpanContext().TraceID())
	}
	waitSpans(t, rec, 2)
}

func TestLoggerWithoutSpan(t *testing.T) {
	var buf testlog.Buffer
	log := telemetry.NewLogger(&buf, "gateway", slog.LevelWarn)
	log.InfoContext(context.Background(), "dropped")
	log.With("k", "v").WarnContext(context.Background(), "kept")
	lines := buf.Lines(t)
	if len(lines) != 1 {
		t.Fatalf("got %d lines, want 1 (info is below warn)", len(lines))
	}
	if _, ok := lines[0]["trace_id"]; ok {
		t.Errorf("trace_id present without a span: %v", lines[0])
	}
	if lines[0]["k"] != "v" || lines[0]["service"] != "gateway" {
		t.Errorf("line = %v, want k=v service=gateway", lines[0])
	}
}

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in      string
		want    slog.Level
		wantErr bool
	}{
		{"", slog.LevelInfo, false},
		{"debug", slog.LevelDebug, false},
		{"INFO", slog.LevelInfo, false},
		{"warn", slog.LevelWarn, false},
		{" error ", slog.LevelError, false},
		{"info+2", slog.LevelInfo + 2, false},
		{"verbose", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := telemetry.ParseLevel(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("ParseLevel(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestSetup(t *testing.T) {
	t.Run("no endpoint: no-op", func(t *testing.T) {
		t.Setenv(telemetry.EnvEndpoint, "")
		p, shutdown, err := telemetry.Setup(context.Background(), "profile")
		if err != nil {
			t.Fatal(err)
		}
		_, span := p.TracerProvider.Tracer("x").Start(context.Background(), "op")
		if span.SpanContext().IsValid() {
			t.Error("no-op tracer produced a recording span")
		}
		span.End()
		if err := shutdown(context.Background()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	t.Run("endpoint: sdk providers", func(t *testing.T) {
		t.Setenv(telemetry.EnvEndpoint, "http://127.0.0.1:1")
		p, shutdown, err := telemetry.Setup(context.Background(), "profile")
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := p.TracerProvider.(*sdktrace.TracerProvider); !ok {
			t.Errorf("TracerProvider is %T, want *sdktrace.TracerProvider", p.TracerProvider)
		}
		if !p.Enabled() {
			t.Error("Enabled() = false with an exporter configured")
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = shutdown(ctx) // nothing listens on the endpoint; only check it returns
	})
}

func TestDisabledProvidersAddNoInstrumentation(t *testing.T) {
	t.Setenv(telemetry.EnvEndpoint, "")
	off, shutdown, err := telemetry.Setup(context.Background(), "svc")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = shutdown(context.Background()) }()
	h := http.NotFoundHandler()
	for name, p := range map[string]*telemetry.Providers{
		"nil":                nil,
		"NewProviders(nil)":  telemetry.NewProviders(nil),
		"Setup, no exporter": off,
		"empty":              {},
	} {
		if p.Enabled() {
			t.Errorf("%s: Enabled() = true", name)
		}
		if p.ServerHandler() != nil || p.ClientHandler() != nil {
			t.Errorf("%s: disabled providers must yield no stats handlers", name)
		}
		if got := p.HTTPHandler(h, "x"); fmt.Sprintf("%p", got) != fmt.Sprintf("%p", h) {
			t.Errorf("%s: HTTPHandler wrapped the handler although disabled", name)
		}
	}
	on := telemetry.NewProviders(sdktrace.NewTracerProvider())
	if !on.Enabled() || on.ServerHandler() == nil || on.ClientHandler() == nil {
		t.Error("NewProviders(tp) must be enabled and yield stats handlers")
	}
}
