package grpcserver_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	"github.com/tenurehq/tenure/services/platform/apierr"
	"github.com/tenurehq/tenure/services/platform/discovery"
	"github.com/tenurehq/tenure/services/platform/etcdtest"
	"github.com/tenurehq/tenure/services/platform/grpcserver"
	"github.com/tenurehq/tenure/services/platform/internal/testlog"
	"github.com/tenurehq/tenure/services/platform/telemetry"
)

var errNoCustomer = errors.New("test: customer not found")

// testService acts on the request payload: "ok", "panic", "domain",
// "secret" (an unmapped error) or "block" (waits for release).
type testService struct {
	testpb.UnimplementedTestServiceServer
	started chan struct{} // receives when a "block" call starts
	release chan struct{} // closed to let "block" calls finish
}

func newTestService() *testService {
	return &testService{started: make(chan struct{}, 10), release: make(chan struct{})}
}

func (s *testService) UnaryCall(ctx context.Context, req *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	cmd := string(req.GetPayload().GetBody())
	switch cmd {
	case "panic":
		panic("boom")
	case "domain":
		return nil, fmt.Errorf("lookup c1: %w", errNoCustomer)
	case "secret":
		return nil, errors.New("dial db: password=hunter2 refused")
	case "block":
		s.started <- struct{}{}
		select {
		case <-s.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return &testpb.SimpleResponse{Payload: &testpb.Payload{Body: []byte(cmd)}}, nil
}

func (s *testService) StreamingOutputCall(req *testpb.StreamingOutputCallRequest, stream grpc.ServerStreamingServer[testpb.StreamingOutputCallResponse]) error {
	switch string(req.GetPayload().GetBody()) {
	case "panic":
		panic("stream boom")
	case "domain":
		return errNoCustomer
	}
	for range 2 {
		if err := stream.Send(&testpb.StreamingOutputCallResponse{}); err != nil {
			return err
		}
	}
	return nil
}

// fieldErr is an apierr.FieldViolation.
type fieldErr struct{ field string }

func (e fieldErr) Error() string { return e.field + " must not be negative" }
func (e fieldErr) Field() string { return e.field }

// validate rejects a negative response size on both request types.
func validate(_ context.Context, _ string, req any) error {
	switch r := req.(type) {
	case *testpb.SimpleRequest:
		if r.GetResponseSize() < 0 {
			return fieldErr{"response_size"}
		}
	case *testpb.StreamingOutputCallRequest:
		if r.GetResponseType() == testpb.PayloadType(-1) {
			return fieldErr{"response_type"}
		}
	}
	return nil
}

type harness struct {
	srv   *grpcserver.Server
	svc   *testService
	conn  *grpc.ClientConn
	logs  *testlog.Buffer
	runc  chan error // Run's result
	stop  context.CancelFunc
	calls *[]string // methods the extra interceptor saw
}

func start(t *testing.T, mutate func(*grpcserver.Config)) *harness {
	t.Helper()
	logs := &testlog.Buffer{}
	log := telemetry.NewLogger(logs, "test", slog.LevelDebug)
	var mu sync.Mutex
	calls := []string{}
	extra := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		mu.Lock()
		calls = append(calls, info.FullMethod)
		mu.Unlock()
		return h(ctx, req)
	}
	cfg := grpcserver.Config{
		Service:   "test",
		Logger:    log,
		Telemetry: telemetry.NewProviders(sdktrace.NewTracerProvider()),
		Errors: &apierr.Table{Domain: "test.tenure.dev", Logger: log, Rules: []apierr.Rule{
			{Err: errNoCustomer, Code: codes.NotFound, Reason: "CUSTOMER_NOT_FOUND"},
		}},
		Validate:          validate,
		UnaryInterceptors: []grpc.UnaryServerInterceptor{extra},
		ShutdownTimeout:   5 * time.Second,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := grpcserver.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	svc := newTestService()
	testpb.RegisterTestServiceServer(srv.GRPC(), svc)

	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{srv: srv, svc: svc, logs: logs, runc: make(chan error, 1), stop: cancel, calls: &calls}
	go func() { h.runc <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-h.runc:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return")
		}
	})

	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	h.conn = conn
	return h
}

// waitServing waits until health reports SERVING for svc, i.e. Run started.
func waitServing(t *testing.T, conn *grpc.ClientConn, svc string) {
	t.Helper()
	hc := healthpb.NewHealthClient(conn)
	testlog.Eventually(t, 5*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		resp, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
		if err != nil {
			return err
		}
		if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			return fmt.Errorf("health(%q) = %v, want SERVING", svc, resp.GetStatus())
		}
		return nil
	})
}

func unary(ctx context.Context, conn *grpc.ClientConn, body string, size int32) error {
	_, err := testpb.NewTestServiceClient(conn).UnaryCall(ctx, &testpb.SimpleRequest{
		ResponseSize: size, Payload: &testpb.Payload{Body: []byte(body)},
	})
	return err
}

func stream(ctx context.Context, conn *grpc.ClientConn, body string, typ testpb.PayloadType) error {
	st, err := testpb.NewTestServiceClient(conn).StreamingOutputCall(ctx, &testpb.StreamingOutputCallRequest{
		ResponseType: typ, Payload: &testpb.Payload{Body: []byte(body)},
	})
	if err != nil {
		return err
	}
	for {
		if _, err := st.Recv(); err != nil {
			if err.Error() == "EOF" {
				return nil
			}
			return err
		}
	}
}

func TestInterceptorChain(t *testing.T) {
	h := start(t, nil)
	const (
		unaryMethod  = "/grpc.testing.TestService/UnaryCall"
		streamMethod = "/grpc.testing.TestService/StreamingOutputCall"
	)
	tests := []struct {
		name       string
		call       func(ctx context.Context) error
		method     string
		wantCode   codes.Code
		wantMsg    string
		wantReason string
		wantField  string
		wantExtra  bool // the extra interceptor ran
		wantPanic  bool
	}{
		{name: "unary ok", method: unaryMethod, wantCode: codes.OK, wantExtra: true,
			call: func(ctx context.Context) error { return unary(ctx, h.conn, "ok", 0) }},
		{name: "unary panic", method: unaryMethod, wantCode: codes.Internal, wantMsg: "internal error", wantReason: "INTERNAL", wantExtra: true, wantPanic: true,
			call: func(ctx context.Context) error { return unary(ctx, h.conn, "panic", 0) }},
		{name: "unary domain error", method: unaryMethod, wantCode: codes.NotFound, wantMsg: "lookup c1: test: customer not found", wantReason: "CUSTOMER_NOT_FOUND", wantExtra: true,
			call: func(ctx context.Context) error { return unary(ctx, h.conn, "domain", 0) }},
		{name: "unary unknown error", method: unaryMethod, wantCode: codes.Internal, wantMsg: "internal error", wantReason: "INTERNAL", wantExtra: true,
			call: func(ctx context.Context) error { return unary(ctx, h.conn, "secret", 0) }},
		{name: "unary invalid", method: unaryMethod, wantCode: codes.InvalidArgument, wantMsg: "response_size must not be negative", wantReason: "INVALID_ARGUMENT", wantField: "response_size",
			call: func(ctx context.Context) error { return unary(ctx, h.conn, "ok", -1) }},
		{name: "stream ok", method: streamMethod, wantCode: codes.OK,
			call: func(ctx context.Context) error { return stream(ctx, h.conn, "ok", 0) }},
		{name: "stream panic", method: streamMethod, wantCode: codes.Internal, wantMsg: "internal error", wantReason: "INTERNAL", wantPanic: true,
			call: func(ctx context.Context) error { return stream(ctx, h.conn, "panic", 0) }},
		{name: "stream domain error", method: streamMethod, wantCode: codes.NotFound, wantMsg: "test: customer not found", wantReason: "CUSTOMER_NOT_FOUND",
			call: func(ctx context.Context) error { return stream(ctx, h.conn, "domain", 0) }},
		{name: "stream invalid", method: streamMethod, wantCode: codes.InvalidArgument, wantMsg: "response_type must not be negative", wantReason: "INVALID_ARGUMENT", wantField: "response_type",
			call: func(ctx context.Context) error { return stream(ctx, h.conn, "ok", -1) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(*h.calls)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := tt.call(ctx)
			st := status.Convert(err)
			if st.Code() != tt.wantCode {
				t.Fatalf("code = %v (%v), want %v", st.Code(), err, tt.wantCode)
			}
			if tt.wantCode == codes.OK {
				// fallthrough to the log and interceptor checks
			} else if st.Message() != tt.wantMsg {
				t.Errorf("message = %q, want %q", st.Message(), tt.wantMsg)
			}
			var reason, field string
			for _, d := range st.Details() {
				switch d := d.(type) {
				case *errdetails.ErrorInfo:
					reason = d.GetReason()
					if d.GetDomain() != "test.tenure.dev" {
						t.Errorf("domain = %q, want test.tenure.dev", d.GetDomain())
					}
				case *errdetails.BadRequest:
					field = d.GetFieldViolations()[0].GetField()
				}
			}
			if reason != tt.wantReason || field != tt.wantField {
				t.Errorf("reason, field = %q, %q; want %q, %q", reason, field, tt.wantReason, tt.wantField)
			}
			if ran := len(*h.calls) > before; ran != tt.wantExtra {
				t.Errorf("extra interceptor ran = %v, want %v", ran, tt.wantExtra)
			}
			if strings.Contains(fmt.Sprint(st.Proto()), "hunter2") {
				t.Errorf("status leaks the internal error: %v", st.Proto())
			}

			// The logging interceptor recorded the call with its trace id
			// (panics are logged by the recovery interceptor instead).
			if tt.wantPanic {
				line := h.logs.Find("panic in handler", map[string]string{"method": tt.method})
				if line == nil || !strings.Contains(fmt.Sprint(line["stack"]), "goroutine") {
					t.Errorf("no panic log with a stack for %s; logs:\n%s", tt.method, h.logs)
				}
				return
			}
			testlog.Eventually(t, 2*time.Second, func() error {
				line := h.logs.Find("rpc", map[string]string{"method": tt.method, "code": tt.wantCode.String()})
				if line == nil {
					return fmt.Errorf("no rpc log line for %s %v", tt.method, tt.wantCode)
				}
				if s, _ := line["trace_id"].(string); len(s) != 32 {
					return fmt.Errorf("rpc log line without trace_id: %v", line)
				}
				if _, ok := line["duration"]; !ok {
					return fmt.Errorf("rpc log line without duration: %v", line)
				}
				return nil
			})
		})
	}

	// The process survived the panics and keeps serving.
	if err := unary(context.Background(), h.conn, "ok", 0); err != nil {
		t.Fatalf("call after panics: %v", err)
	}
	// The unmapped error's detail is in the log.
	if !strings.Contains(h.logs.String(), "hunter2") {
		t.Error("unmapped error detail not logged")
	}
}

func TestHealthAndReflection(t *testing.T) {
	h := start(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, svc := range []string{"", "test"} {
		waitServing(t, h.conn, svc)
	}

	rc, err := reflectionpb.NewServerReflectionClient(h.conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	resp, err := rc.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	got := strings.Join(names, ",")
	for _, want := range []string{"grpc.health.v1.Health", "grpc.testing.TestService"} {
		if !strings.Contains(got, want) {
			t.Errorf("reflection lists %s, want %s", got, want)
		}
	}
	_ = rc.CloseSend()
}

// TestShutdownOrder checks that on cancel the replica leaves discovery
// before health turns NOT_SERVING, that both happen while an in-flight RPC
// is still running, and that the RPC then completes during the drain.
func TestShutdownOrder(t *testing.T) {
	cli := etcdtest.Client(t, etcdtest.Start(t))
	h := start(t, func(c *grpcserver.Config) {
		c.Etcd = cli
		c.RegisterTTL = 2
		c.ShutdownTimeout = 10 * time.Second
	})
	ctx := context.Background()
	testlog.Eventually(t, 5*time.Second, func() error {
		eps, err := discovery.Endpoints(ctx, cli, "test")
		if err != nil || len(eps) != 1 || eps[0] != h.srv.Addr() {
			return fmt.Errorf("endpoints = %v, %v; want [%s]", eps, err, h.srv.Addr())
		}
		return nil
	})

	// Watch health before shutdown starts.
	wctx, wcancel := context.WithCancel(ctx)
	defer wcancel()
	watch, err := healthpb.NewHealthClient(h.conn).Watch(wctx, &healthpb.HealthCheckRequest{Service: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := watch.Recv(); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("first health status = %v, %v; want SERVING", resp.GetStatus(), err)
	}

	// An RPC in flight when shutdown begins.
	inflight := make(chan error, 1)
	go func() { inflight <- unary(ctx, h.conn, "block", 0) }()
	select {
	case <-h.svc.started:
	case <-time.After(5 * time.Second):
		t.Fatal("blocking RPC did not start")
	}

	h.stop()

	resp, err := watch.Recv()
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("health after cancel = %v, %v; want NOT_SERVING", resp.GetStatus(), err)
	}
	// By the time health says NOT_SERVING the key is already gone ...
	if eps, err := discovery.Endpoints(ctx, cli, "test"); err != nil || len(eps) != 0 {
		t.Errorf("endpoints when NOT_SERVING = %v, %v; want none (deregister first)", eps, err)
	}
	// ... and the server has not stopped: the in-flight RPC is still running.
	select {
	case err := <-inflight:
		t.Fatalf("in-flight RPC finished before the drain: %v", err)
	case err := <-h.runc:
		t.Fatalf("Run returned before the in-flight RPC finished: %v", err)
	default:
	}
	wcancel() // a watching client would otherwise hold the drain open

	close(h.svc.release)
	select {
	case err := <-inflight:
		if err != nil {
			t.Fatalf("in-flight RPC during drain: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("in-flight RPC did not complete")
	}
	select {
	case err := <-h.runc:
		if err != nil {
			t.Fatalf("Run = %v, want nil", err)
		}
		h.runc <- nil // for the cleanup
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after the drain")
	}
	if err := unary(ctx, h.conn, "ok", 0); status.Code(err) != codes.Unavailable {
		t.Errorf("call after shutdown: %v, want Unavailable", err)
	}

	// The logger already carries the service: no line repeats it.
	if h.logs.Find("serving", map[string]string{"service": "test"}) == nil {
		t.Errorf("no serving line with service=test; logs:\n%s", h.logs.String())
	}
	for _, line := range strings.Split(h.logs.String(), "\n") {
		if n := strings.Count(line, `"service":`); n > 1 {
			t.Errorf("log line has %d service attributes, want 1: %s", n, line)
		}
	}
}

func TestShutdownTimeoutStopsHard(t *testing.T) {
	h := start(t, func(c *grpcserver.Config) { c.ShutdownTimeout = 200 * time.Millisecond })
	inflight := make(chan error, 1)
	go func() { inflight <- unary(context.Background(), h.conn, "block", 0) }()
	select {
	case <-h.svc.started:
	case <-time.After(5 * time.Second):
		t.Fatal("blocking RPC did not start")
	}
	began := time.Now()
	h.stop()
	select {
	case err := <-h.runc:
		if err != nil {
			t.Fatalf("Run = %v, want nil", err)
		}
		h.runc <- nil
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after the shutdown timeout")
	}
	if took := time.Since(began); took < 200*time.Millisecond {
		t.Errorf("Run returned after %v, before the 200ms drain limit", took)
	}
	if err := <-inflight; err == nil {
		t.Error("RPC cut by the hard stop succeeded, want an error")
	}
}

func TestRunTwice(t *testing.T) {
	h := start(t, nil)
	waitServing(t, h.conn, "")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.srv.Run(ctx); !errors.Is(err, grpcserver.ErrRunTwice) {
		t.Fatalf("second Run = %v, want ErrRunTwice", err)
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  grpcserver.Config
	}{
		{"no service", grpcserver.Config{}},
		{"bad address", grpcserver.Config{Service: "x", ListenAddr: "127.0.0.1:-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := grpcserver.New(tt.cfg); err == nil {
				t.Fatal("New succeeded, want an error")
			}
		})
	}
}
