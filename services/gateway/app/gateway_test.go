package app_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	feedbackv1 "github.com/tenurehq/tenure/gen/tenure/feedback/v1"
	loyaltyv1 "github.com/tenurehq/tenure/gen/tenure/loyalty/v1"
	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	"github.com/tenurehq/tenure/services/platform/discovery"
	"github.com/tenurehq/tenure/services/platform/etcdtest"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
)

// rpcStatus is google.rpc.Status as the gateway renders it.
type rpcStatus struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Details []struct {
		Type   string `json:"@type"`
		Reason string `json:"reason"`
		Domain string `json:"domain"`
	} `json:"details"`
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

type money struct {
	CurrencyCode string `json:"currencyCode"`
	AmountMinor  string `json:"amountMinor"`
}

type customer struct {
	Name       string   `json:"name"`
	CustomerID string   `json:"customerId"`
	FullName   string   `json:"fullName"`
	Email      string   `json:"email"`
	Country    string   `json:"country"`
	Tags       []string `json:"tags"`
	Features   struct {
		OrderCount       string `json:"orderCount"`
		GrossSpend       money  `json:"grossSpend"`
		NetSpend         money  `json:"netSpend"`
		PreferredChannel string `json:"preferredChannel"`
	} `json:"features"`
}

// TestCustomerJourney drives the public JSON contract end to end through the
// gateway and the real profile service.
// Its length is the table of steps, each working on the state the ones
// before it left.
func TestCustomerJourney(t *testing.T) {
	s := startStack(t, stackOptions{})

	steps := []struct {
		name   string
		method string
		path   string
		body   string
		// makeBody, when set, builds the body at the time of the step.
		makeBody func(t *testing.T) string
		want     int
		check    func(t *testing.T, body []byte)
	}{
		{
			name: "create", method: http.MethodPost, path: "/v1/customers?customerId=c1",
			body: `{"fullName":"Ada Lovelace","email":"ada@example.com","country":"GB","tags":["newsletter"]}`,
			want: http.StatusOK,
			check: func(t *testing.T, b []byte) {
				c := decode[struct{ Customer customer }](t, b).Customer
				if c.Name != "customers/c1" || c.CustomerID != "c1" || c.FullName != "Ada Lovelace" {
					t.Errorf("created %+v, want customers/c1 Ada Lovelace", c)
				}
				if strings.Contains(string(b), "customer_id") || strings.Contains(string(b), "full_name") {
					t.Errorf("JSON uses proto names, want lowerCamel: %s", b)
				}
			},
		},
		{
			name: "get", method: http.MethodGet, path: "/v1/customers/c1", want: http.StatusOK,
			check: func(t *testing.T, b []byte) {
				if c := decode[struct{ Customer customer }](t, b).Customer; c.Email != "ada@example.com" {
					t.Errorf("email = %q, want ada@example.com", c.Email)
				}
			},
		},
		{
			name: "patch with update mask", method: http.MethodPatch, path: "/v1/customers/c1?updateMask=email",
			body: `{"email":"ada@lovelace.example","fullName":"ignored"}`, want: http.StatusOK,
			check: func(t *testing.T, b []byte) {
				c := decode[struct{ Customer customer }](t, b).Customer
				if c.Email != "ada@lovelace.example" || c.FullName != "Ada Lovelace" {
					t.Errorf("after patch %+v, want new email and unchanged name", c)
				}
			},
		},
		{
			// A frontend reads a customer, edits one field and PATCHes the
			// whole object back: the mask the gateway derives then names
			// output-only fields too, which are ignored (AIP-203).
			name: "patch back the whole object", method: http.MethodPatch, path: "/v1/customers/c1",
			makeBody: func(t *testing.T) string {
				code, b := s.do(t, http.MethodGet, "/v1/customers/c1", nil, nil)
				if code != http.StatusOK {
					t.Fatalf("get = %d %s", code, b)
				}
				c := decode[struct{ Customer map[string]any }](t, b).Customer
				for _, f := range []string{"createTime", "updateTime", "state", "etag", "customerId"} {
					if _, ok := c[f]; !ok {
						t.Fatalf("customer %s lacks %s; the round trip would not send it", b, f)
					}
				}
				c["fullName"] = "Ada King"
				out, err := json.Marshal(c)
				if err != nil {
					t.Fatal(err)
				}
				return string(out)
			},
			want: http.StatusOK,
			check: func(t *testing.T, b []byte) {
				c := decode[struct{ Customer customer }](t, b).Customer
				if c.FullName != "Ada King" || c.Email != "ada@lovelace.example" {
					t.Errorf("after whole-object patch %+v, want the new name and the unchanged email", c)
				}
			},
		},
		{
			name: "get after whole-object patch", method: http.MethodGet, path: "/v1/customers/c1", want: http.StatusOK,
			check: func(t *testing.T, b []byte) {
				c := decode[struct{ Customer customer }](t, b).Customer
				if c.FullName != "Ada King" || c.Email != "ada@lovelace.example" || !slices.Equal(c.Tags, []string{"newsletter"}) {
					t.Errorf("saved %+v, want Ada King with the email and tags unchanged", c)
				}
			},
		},
		{
			name: "create second", method: http.MethodPost, path: "/v1/customers?customerId=c2",
			body: `{"fullName":"Charles Babbage"}`, want: http.StatusOK,
		},
		{
			name: "list", method: http.MethodGet, path: "/v1/customers?pageSize=1", want: http.StatusOK,
			check: func(t *testing.T, b []byte) {
				page := decode[struct {
					Customers     []customer
					NextPageToken string
				}](t, b)
				if len(page.Customers) != 1 || page.Customers[0].CustomerID != "c1" || page.NextPageToken == "" {
					t.Errorf("page %+v, want c1 and a next page token", page)
				}
			},
		},
		{
			name: "list by tag", method: http.MethodGet, path: "/v1/customers?tag=newsletter", want: http.StatusOK,
			check: func(t *testing.T, b []byte) {
				page := decode[struct{ Customers []customer }](t, b)
				if len(page.Customers) != 1 || page.Customers[0].CustomerID != "c1" {
					t.Errorf("customers %+v, want only c1", page.Customers)
				}
			},
		},
		{
			name: "batch record", method: http.MethodPost, path: "/v1/events:batchRecord",
			body: `{"events":[
				{"eventId":"e1","customerId":"c1","occurredAt":"2011-01-02T10:00:00Z",
				 "orderPlaced":{"orderId":"o1","channel":"web",
				  "lines":[{"sku":"A","category":"tea","quantity":"3","unitPrice":{"currencyCode":"GBP","amountMinor":"85"}}],
				  "total":{"currencyCode":"GBP","amountMinor":"255"}}},
				{"eventId":"e1","customerId":"c1","occurredAt":"2011-01-02T10:00:00Z",
				 "orderPlaced":{"orderId":"o1","channel":"web",
				  "lines":[{"sku":"A","category":"tea","quantity":"3","unitPrice":{"currencyCode":"GBP","amountMinor":"85"}}],
				  "total":{"currencyCode":"GBP","amountMinor":"255"}}}
			]}`,
			want: http.StatusOK,
			check: func(t *testing.T, b []byte) {
				r := decode[struct {
					AcceptedCount  int
					DuplicateCount int
					Results        []struct{ Outcome string }
				}](t, b)
				if r.AcceptedCount != 1 || r.DuplicateCount != 1 || len(r.Results) != 2 || r.Results[0].Outcome != "EVENT_OUTCOME_ACCEPTED" {
					t.Errorf("batch result %s, want 1 accepted and 1 duplicate", b)
				}
			},
		},
		{
			name: "features", method: http.MethodGet, path: "/v1/customers/c1", want: http.StatusOK,
			check: func(t *testing.T, b []byte) {
				f := decode[struct{ Customer customer }](t, b).Customer.Features
				want := money{CurrencyCode: "GBP", AmountMinor: "255"}
				if f.OrderCount != "1" || f.GrossSpend != want || f.NetSpend != want || f.PreferredChannel != "web" {
					t.Errorf("features %+v, want 1 order, GBP 255 gross and net, channel web", f)
				}
			},
		},
		{
			name: "export", method: http.MethodGet, path: "/v1/customers/c1:export", want: http.StatusOK,
			check: func(t *testing.T, b []byte) {
				e := decode[struct {
					Customer   customer
					Events     []struct{ EventID string }
					ExportTime string
				}](t, b)
				// The customer_updated events of its creation and update
				// come before e1.
				n := len(e.Events)
				if e.Customer.CustomerID != "c1" || n == 0 || e.Events[n-1].EventID != "e1" || e.ExportTime == "" {
					t.Errorf("export %s, want c1 ending with event e1 and an export time", b)
				}
			},
		},
		{name: "delete", method: http.MethodDelete, path: "/v1/customers/c2", want: http.StatusOK},
		{
			name: "get deleted", method: http.MethodGet, path: "/v1/customers/c2", want: http.StatusNotFound,
			check: func(t *testing.T, b []byte) {
				st := decode[rpcStatus](t, b)
				if st.Code != 5 || st.Message == "" || len(st.Details) == 0 {
					t.Fatalf("error %s, want google.rpc.Status NOT_FOUND with details", b)
				}
				d := st.Details[0]
				if d.Type != "type.googleapis.com/google.rpc.ErrorInfo" || d.Reason != "CUSTOMER_NOT_FOUND" || d.Domain != "profile.tenure.dev" {
					t.Errorf("detail %+v, want ErrorInfo CUSTOMER_NOT_FOUND in domain profile.tenure.dev", d)
				}
			},
		},
		{
			name: "invalid argument", method: http.MethodPost, path: "/v1/customers?customerId=c3",
			body: `{"fullName":"x","notAField":1}`, want: http.StatusBadRequest,
			check: func(t *testing.T, b []byte) {
				st := decode[rpcStatus](t, b)
				if st.Code != 3 || len(st.Details) != 1 || st.Details[0].Reason != "MALFORMED_REQUEST" || st.Details[0].Domain != "gateway.tenure.dev" {
					t.Fatalf("error %s, want INVALID_ARGUMENT with ErrorInfo MALFORMED_REQUEST in gateway.tenure.dev", b)
				}
				if want := `request body is not valid JSON for "customer": unknown field "notAField"`; st.Message != want {
					t.Errorf("message = %q, want %q", st.Message, want)
				}
			},
		},
	}
	for _, st := range steps {
		ok := t.Run(st.name, func(t *testing.T) {
			var body *strings.Reader
			if st.makeBody != nil {
				body = strings.NewReader(st.makeBody(t))
			} else if st.body != "" {
				body = strings.NewReader(st.body)
			}
			var code int
			var b []byte
			if body != nil {
				code, b = s.do(t, st.method, st.path, body, nil)
			} else {
				code, b = s.do(t, st.method, st.path, nil, nil)
			}
			if code != st.want {
				t.Fatalf("status = %d, want %d; body %s", code, st.want, b)
			}
			if st.check != nil {
				st.check(t, b)
			}
		})
		if !ok {
			break // later steps depend on earlier ones
		}
	}
}

func TestBodyTooLarge(t *testing.T) {
	s := startStack(t, stackOptions{maxBodyBytes: 4096})
	big := `{"fullName":"` + strings.Repeat("x", 8192) + `"}`
	code, b := s.do(t, http.MethodPost, "/v1/customers?customerId=big", strings.NewReader(big), nil)
	if code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d, want 413; body %s", code, b)
	}
	st := decode[rpcStatus](t, b)
	if st.Code != 8 || len(st.Details) != 1 || st.Details[0].Reason != "BODY_TOO_LARGE" {
		t.Errorf("error %s, want RESOURCE_EXHAUSTED with reason BODY_TOO_LARGE", b)
	}
	// The customer was not created.
	if code, _ := s.do(t, http.MethodGet, "/v1/customers/big", nil, nil); code != http.StatusNotFound {
		t.Errorf("GET after refused create: status %d, want 404", code)
	}
}

func TestHealthAndOpenAPI(t *testing.T) {
	s := startStack(t, stackOptions{})
	// The gateway learns of the backends' replicas a moment after it starts.
	waitReady(t, s, http.StatusOK)
	tests := []struct {
		path  string
		want  int
		check func(t *testing.T, b []byte)
	}{
		{"/healthz", http.StatusOK, nil},
		{"/readyz", http.StatusOK, func(t *testing.T, b []byte) {
			if r := decode[struct{ Ready bool }](t, b); !r.Ready {
				t.Errorf("readyz %s, want ready", b)
			}
		}},
		{"/openapi.json", http.StatusOK, func(t *testing.T, b []byte) {
			doc := decode[struct {
				Swagger string
				Paths   map[string]json.RawMessage
			}](t, b)
			if doc.Swagger != "2.0" {
				t.Errorf("swagger = %q, want 2.0", doc.Swagger)
			}
			if _, ok := doc.Paths["/v1/customers"]; !ok {
				t.Errorf("paths %v lack /v1/customers", keys(doc.Paths))
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			code, b := s.do(t, http.MethodGet, tt.path, nil, nil)
			if code != tt.want {
				t.Fatalf("status = %d, want %d; body %s", code, tt.want, b)
			}
			if tt.check != nil {
				tt.check(t, b)
			}
		})
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// fakeProfile is a stand-in profile backend that records the metadata each
// call arrives with.
type fakeProfile struct {
	profilev1.UnimplementedProfileServiceServer
	mu sync.Mutex
	md metadata.MD
}

func (f *fakeProfile) GetCustomer(ctx context.Context, req *profilev1.GetCustomerRequest) (*profilev1.GetCustomerResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	f.mu.Lock()
	f.md = md
	f.mu.Unlock()
	return &profilev1.GetCustomerResponse{Customer: &profilev1.Customer{Name: req.GetName()}}, nil
}

// fakeLoyalty is a stand-in loyalty backend: every method is
// unimplemented.
type fakeLoyalty struct {
	loyaltyv1.UnimplementedLoyaltyServiceServer
}

// fakeSegmentation is a stand-in segmentation backend that only answers
// readiness: every method is unimplemented.
type fakeSegmentation struct {
	segmentationv1.UnimplementedSegmentationServiceServer
}

// TestBackendRegistration checks readiness against discovery — the gateway
// is ready only when every backend (profile, segmentation, loyalty,
// feedback and promotion) has an endpoint — and that callers cannot inject gRPC metadata,
// with fake backends that come and go.
func TestBackendRegistration(t *testing.T) {
	cli := etcdtest.Client(t, etcdtest.Start(t))
	s := startStack(t, stackOptions{noBackends: true, etcd: cli})

	readyz := func(t *testing.T, want int, missing ...string) {
		t.Helper()
		waitReady(t, s, want, missing...)
		if code, _ := s.do(t, http.MethodGet, "/healthz", nil, nil); code != http.StatusOK {
			t.Errorf("healthz = %d, want 200 regardless of backends", code)
		}
	}
	readyz(t, http.StatusServiceUnavailable, "profile", "segmentation", "loyalty", "feedback", "promotion")

	// One gRPC server plays every backend; each registers separately.
	fake := &fakeProfile{}
	srv := grpc.NewServer()
	profilev1.RegisterProfileServiceServer(srv, fake)
	segmentationv1.RegisterSegmentationServiceServer(srv, fakeSegmentation{})
	loyaltyv1.RegisterLoyaltyServiceServer(srv, fakeLoyalty{})
	feedbackv1.RegisterFeedbackServiceServer(srv, feedbackv1.UnimplementedFeedbackServiceServer{})
	promotionv1.RegisterPromotionServiceServer(srv, promotionv1.UnimplementedPromotionServiceServer{})
	lis := listen(t)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	reg, err := discovery.Register(context.Background(), cli, "profile", lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	readyz(t, http.StatusServiceUnavailable, "segmentation", "loyalty", "feedback", "promotion")
	segReg, err := discovery.Register(context.Background(), cli, "segmentation", lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	readyz(t, http.StatusServiceUnavailable, "loyalty", "feedback", "promotion")
	if _, err := discovery.Register(context.Background(), cli, "loyalty", lis.Addr().String()); err != nil {
		t.Fatal(err)
	}
	readyz(t, http.StatusServiceUnavailable, "feedback", "promotion")
	feedbackReg, err := discovery.Register(context.Background(), cli, "feedback", lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	readyz(t, http.StatusServiceUnavailable, "promotion")
	if _, err := discovery.Register(context.Background(), cli, "promotion", lis.Addr().String()); err != nil {
		t.Fatal(err)
	}
	readyz(t, http.StatusOK)

	// Routed to the fake segmentation backend: its UNIMPLEMENTED comes back
	// as HTTP 501, proving the route reaches the segmentation connection.
	if code, b := s.do(t, http.MethodGet, "/v1/segmentation/report", nil, nil); code != http.StatusNotImplemented {
		t.Errorf("GET /v1/segmentation/report = %d %s, want 501 from the fake backend", code, b)
	}

	code, b := s.do(t, http.MethodGet, "/v1/customers/c1", nil, http.Header{
		"X-Request-Id":                {"req-42"},
		"Grpc-Metadata-X-Tenant":      {"someone-else"},
		"Grpc-Metadata-Authorization": {"Bearer forged"},
		"Authorization":               {stacktest.AuthHeader()},
		"Cookie":                      {"session=secret"},
	})
	if code != http.StatusOK {
		t.Fatalf("GET = %d %s, want 200", code, b)
	}
	fake.mu.Lock()
	md := fake.md
	fake.mu.Unlock()
	if got := md.Get("x-request-id"); len(got) != 1 || got[0] != "req-42" {
		t.Errorf("x-request-id = %q, want [req-42]", got)
	}
	// The backend gets the caller's checked credentials, once, and not the
	// forged Grpc-Metadata-Authorization.
	if got := md.Get("authorization"); len(got) != 1 || got[0] != stacktest.AuthHeader() {
		t.Errorf("authorization metadata = %q, want only the caller's", got)
	}
	for _, k := range []string{"x-tenant", "cookie", "grpcgateway-cookie", "grpc-metadata-x-tenant"} {
		if v := md.Get(k); len(v) > 0 {
			t.Errorf("metadata %s = %q reached the backend", k, v)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := reg.Deregister(ctx); err != nil {
		t.Fatal(err)
	}
	readyz(t, http.StatusServiceUnavailable, "profile")
	if err := segReg.Deregister(ctx); err != nil {
		t.Fatal(err)
	}
	readyz(t, http.StatusServiceUnavailable, "profile", "segmentation")
	if err := feedbackReg.Deregister(ctx); err != nil {
		t.Fatal(err)
	}
	readyz(t, http.StatusServiceUnavailable, "profile", "segmentation", "feedback")
}

// spanSink hands every ended span to a channel, so the test can wait for
// the spans it expects instead of sleeping.
type spanSink struct{ ch chan sdktrace.ReadOnlySpan }

func (s spanSink) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (s spanSink) OnEnd(sp sdktrace.ReadOnlySpan)                  { s.ch <- sp }
func (s spanSink) Shutdown(context.Context) error                  { return nil }
func (s spanSink) ForceFlush(context.Context) error                { return nil }

// TestOneTracePerRequest: a request through gateway → profile yields the
// gateway's HTTP server span, its gRPC client span and profile's gRPC server
// span, all in one trace and parented in that order.
func TestOneTracePerRequest(t *testing.T) {
	sink := spanSink{ch: make(chan sdktrace.ReadOnlySpan, 1024)}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sink))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	s := startStack(t, stackOptions{tracer: tp})

	if code, b := s.do(t, http.MethodPost, "/v1/customers?customerId=t1", strings.NewReader(`{"fullName":"Trace"}`), nil); code != http.StatusOK {
		t.Fatalf("create = %d %s", code, b)
	}
	// Forget spans from the setup request.
	for drained := false; !drained; {
		select {
		case <-sink.ch:
		default:
			drained = true
		}
	}
	if code, b := s.do(t, http.MethodGet, "/v1/customers/t1", nil, nil); code != http.StatusOK {
		t.Fatalf("get = %d %s", code, b)
	}

	const rpc = "tenure.profile.v1.ProfileService/GetCustomer"
	var httpSpan, clientSpan, serverSpan sdktrace.ReadOnlySpan
	timeout := time.After(10 * time.Second)
	for httpSpan == nil || clientSpan == nil || serverSpan == nil {
		select {
		case sp := <-sink.ch:
			switch {
			case sp.SpanKind() == trace.SpanKindServer && sp.Name() == rpc:
				serverSpan = sp
			case sp.SpanKind() == trace.SpanKindClient && sp.Name() == rpc:
				clientSpan = sp
			case sp.SpanKind() == trace.SpanKindServer && strings.HasPrefix(sp.Name(), "GET "):
				httpSpan = sp
			}
		case <-timeout:
			t.Fatalf("spans: http %v, grpc client %v, grpc server %v; want all three", httpSpan != nil, clientSpan != nil, serverSpan != nil)
		}
	}
	tid := httpSpan.SpanContext().TraceID()
	for _, sp := range []sdktrace.ReadOnlySpan{clientSpan, serverSpan} {
		if got := sp.SpanContext().TraceID(); got != tid {
			t.Errorf("span %s (%s) trace id %s, want %s", sp.Name(), sp.SpanKind(), got, tid)
		}
	}
	if clientSpan.Parent().SpanID() != httpSpan.SpanContext().SpanID() {
		t.Errorf("grpc client span's parent is not the gateway HTTP span")
	}
	if serverSpan.Parent().SpanID() != clientSpan.SpanContext().SpanID() {
		t.Errorf("profile server span's parent is not the gateway client span")
	}
	if got, want := httpSpan.Name(), "GET /v1/{name=customers/*}"; got != want {
		t.Errorf("HTTP span name = %q, want %q", got, want)
	}
}

// TestBackendDeadline: a backend that never answers does not hang the
// request. Unary calls get the default deadline, and a caller's shorter
// Grpc-Timeout wins over it.
func TestBackendDeadline(t *testing.T) {
	const timeout = 2 * time.Second
	s := startStack(t, stackOptions{noBackends: true, backendTimeout: timeout})
	// The registered profile replica accepts connections and never speaks,
	// so calls wait for it to connect. (With no replica registered at all
	// they would fail at once.)
	silent := listen(t)
	t.Cleanup(func() { _ = silent.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				_ = c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	reg, err := discovery.Register(t.Context(), s.etcd, "profile", silent.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Deregister(context.Background()) })
	waitReady(t, s, http.StatusServiceUnavailable, "segmentation", "loyalty", "feedback", "promotion") // profile known
	tests := []struct {
		name     string
		header   http.Header
		min, max time.Duration
	}{
		{"default deadline", nil, timeout, timeout + 5*time.Second},
		{"caller's shorter deadline", http.Header{"Grpc-Timeout": {"100m"}}, 0, timeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			code, b := s.do(t, http.MethodGet, "/v1/customers/c1", nil, tt.header)
			took := time.Since(start)
			if took < tt.min || took > tt.max {
				t.Errorf("answered after %s, want between %s and %s", took, tt.min, tt.max)
			}
			if code != http.StatusGatewayTimeout && code != http.StatusServiceUnavailable {
				t.Fatalf("status = %d %s, want 504 or 503", code, b)
			}
			st := decode[rpcStatus](t, b)
			if len(st.Details) != 1 || st.Details[0].Domain != "gateway.tenure.dev" ||
				(st.Details[0].Reason != "DEADLINE_EXCEEDED" && st.Details[0].Reason != "BACKEND_UNAVAILABLE") {
				t.Errorf("error %s, want ErrorInfo DEADLINE_EXCEEDED or BACKEND_UNAVAILABLE in gateway.tenure.dev", b)
			}
			if !strings.HasPrefix(st.Message, "the profile service ") {
				t.Errorf("message = %q, want one naming the profile service", st.Message)
			}
		})
	}
}
