package edge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/gateway/internal/edge"
)

func TestIncomingHeader(t *testing.T) {
	tests := []struct {
		header string
		want   string
		ok     bool
	}{
		{"X-Request-Id", "x-request-id", true},
		{"x-request-id", "x-request-id", true},
		{"X-Correlation-Id", "x-correlation-id", true},
		{"Accept-Language", "accept-language", true},
		{"Grpc-Metadata-X-User", "", false},
		{"Grpc-Metadata-X-Request-Id", "", false},
		{"Grpcgateway-Host", "", false},
		{"Authorization", "", false},
		{"Cookie", "", false},
		{"Traceparent", "", false},
		{"Host", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			got, ok := edge.IncomingHeader(tt.header)
			if got != tt.want || ok != tt.ok {
				t.Errorf("IncomingHeader(%q) = %q, %v; want %q, %v", tt.header, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// recorder is an in-process ProfileService that records what reached it.
type recorder struct {
	profilev1.UnimplementedProfileServiceServer
	md       metadata.MD
	customer *profilev1.Customer
}

func (r *recorder) CreateCustomer(ctx context.Context, req *profilev1.CreateCustomerRequest) (*profilev1.CreateCustomerResponse, error) {
	r.md, _ = metadata.FromIncomingContext(ctx)
	r.customer = req.GetCustomer()
	return &profilev1.CreateCustomerResponse{Customer: &profilev1.Customer{
		Name: "customers/" + req.GetCustomerId(), CustomerId: req.GetCustomerId(), FullName: req.GetCustomer().GetFullName(),
	}}, nil
}

func (r *recorder) GetCustomer(ctx context.Context, req *profilev1.GetCustomerRequest) (*profilev1.GetCustomerResponse, error) {
	r.md, _ = metadata.FromIncomingContext(ctx)
	if req.GetName() == "customers/chatty" {
		// Response metadata a backend or its middleware might set.
		_ = grpc.SetHeader(ctx, metadata.Pairs("x-request-id", "req-9", "x-internal-shard", "7"))
		_ = grpc.SetTrailer(ctx, metadata.Pairs("x-internal-cost", "12", "x-request-id", "req-9"))
	}
	if err, ok := failures[req.GetName()]; ok {
		return nil, err
	}
	return &profilev1.GetCustomerResponse{Customer: &profilev1.Customer{Name: req.GetName()}}, nil
}

// failures are the errors GetCustomer answers for these names.
var failures = map[string]error{
	"customers/unavailable": status.Error(codes.Unavailable, "connection error: desc = \"transport: Error while dialing: dial tcp 10.0.0.9:7001: connect: connection refused\""),
	"customers/slow":        status.Error(codes.DeadlineExceeded, "context deadline exceeded"),
	"customers/broken":      status.Error(codes.Internal, "sqlite: database disk image is malformed (table customers)"),
	"customers/unknown":     errors.New("panic recovered: runtime error: index out of range [3] with length 3"),
	"customers/described":   describedNotFound(),
}

func describedNotFound() error {
	st, err := status.New(codes.NotFound, "profile: customer not found").
		WithDetails(&errdetails.ErrorInfo{Reason: "CUSTOMER_NOT_FOUND", Domain: "profile.tenure.dev"})
	if err != nil {
		panic(err)
	}
	return st.Err()
}

func newServer(t *testing.T, limit int64) (*httptest.Server, *recorder) {
	t.Helper()
	return newLoggingServer(t, limit, nil)
}

func newLoggingServer(t *testing.T, limit int64, log *slog.Logger) (*httptest.Server, *recorder) {
	t.Helper()
	rec := &recorder{}
	e := edge.New(edge.Options{MaxBodyBytes: limit, Logger: log})
	if err := profilev1.RegisterProfileServiceHandlerServer(context.Background(), e.Mux(), rec); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.Handler())
	t.Cleanup(srv.Close)
	return srv, rec
}

type rpcStatus struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Details []struct {
		Type     string            `json:"@type"`
		Reason   string            `json:"reason"`
		Domain   string            `json:"domain"`
		Metadata map[string]string `json:"metadata"`
	} `json:"details"`
}

func TestBodyLimit(t *testing.T) {
	const limit = 1024
	srv, _ := newServer(t, limit)
	small := `{"fullName":"Ada"}`
	big := `{"fullName":"` + strings.Repeat("a", 2*limit) + `"}`

	tests := []struct {
		name    string
		body    string
		chunked bool // hide the length so the limit is hit while reading
		want    int
	}{
		{"small", small, false, http.StatusOK},
		{"small chunked", small, true, http.StatusOK},
		{"declared too large", big, false, http.StatusRequestEntityTooLarge},
		{"chunked too large", big, true, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(tt.body)
			if tt.chunked {
				body = io.MultiReader(body) // not a known-length type: sent chunked
			}
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/customers?customerId=c1", body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.want {
				b, _ := io.ReadAll(resp.Body)
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tt.want, b)
			}
			if tt.want != http.StatusRequestEntityTooLarge {
				return
			}
			var st rpcStatus
			if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
				t.Fatal(err)
			}
			if st.Code != 8 || len(st.Details) != 1 || st.Details[0].Reason != edge.ReasonBodyTooLarge || st.Details[0].Domain != edge.Domain {
				t.Errorf("got %+v, want code 8 (RESOURCE_EXHAUSTED) with ErrorInfo %s/%s", st, edge.ReasonBodyTooLarge, edge.Domain)
			}
			if got := st.Details[0].Type; got != "type.googleapis.com/google.rpc.ErrorInfo" {
				t.Errorf("detail type = %q, want google.rpc.ErrorInfo", got)
			}
		})
	}
}

func TestHeadersForwarded(t *testing.T) {
	srv, rec := newServer(t, 1<<20)
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/customers?customerId=c1", strings.NewReader(`{"fullName":"Ada"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Request-Id", "req-1")
	req.Header.Set("Grpc-Metadata-X-Tenant", "evil")
	req.Header.Set("Grpc-Metadata-Authorization", "Bearer evil")
	req.Header.Set("Authorization", "Bearer token")
	req.Header.Set("Cookie", "session=1")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200", resp.StatusCode)
	}
	if got := rec.md.Get("x-request-id"); len(got) != 1 || got[0] != "req-1" {
		t.Errorf("x-request-id = %q, want [req-1]", got)
	}
	for _, k := range []string{"x-tenant", "authorization", "grpcgateway-cookie", "cookie", "grpc-metadata-x-tenant"} {
		if v := rec.md.Get(k); len(v) != 0 {
			t.Errorf("metadata %q = %q reached the backend, want absent", k, v)
		}
	}
	if rec.customer.GetFullName() != "Ada" {
		t.Errorf("full name = %q, want Ada", rec.customer.GetFullName())
	}
}

// TestForwardedHeaders pins what backends receive as x-forwarded-for and
// x-forwarded-host (see the README): the caller's X-Forwarded-For with the
// gateway's TCP peer appended, and the caller's X-Forwarded-Host, else its
// Host.
func TestForwardedHeaders(t *testing.T) {
	srv, rec := newServer(t, 1<<20)
	tests := []struct {
		name             string
		header           http.Header
		wantFor, wantHst string
	}{
		{"none", nil, "127.0.0.1", strings.TrimPrefix(srv.URL, "http://")},
		{"from a proxy", http.Header{"X-Forwarded-For": {"203.0.113.7, 10.0.0.2"}, "X-Forwarded-Host": {"shop.example"}},
			"203.0.113.7, 10.0.0.2, 127.0.0.1", "shop.example"},
		{"not ASCII", http.Header{"X-Forwarded-Host": {"sh\xffp.example"}}, "127.0.0.1", strings.TrimPrefix(srv.URL, "http://")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, srv.URL+"/v1/customers/c1", nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.header {
				req.Header[k] = v
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200", resp.StatusCode)
			}
			if got := rec.md.Get("x-forwarded-for"); len(got) != 1 || got[0] != tt.wantFor {
				t.Errorf("x-forwarded-for = %q, want [%s]", got, tt.wantFor)
			}
			if got := rec.md.Get("x-forwarded-host"); len(got) != 1 || got[0] != tt.wantHst {
				t.Errorf("x-forwarded-host = %q, want [%s]", got, tt.wantHst)
			}
		})
	}
}

func TestNoMethodGames(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		override    string
	}{
		{"method override header", "application/json", "GET"},
		{"form post as get", "application/x-www-form-urlencoded", ""},
		{"both", "application/x-www-form-urlencoded", "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, rec := newServer(t, 1<<20)
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/customers/c1", strings.NewReader(""))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", tt.contentType)
			if tt.override != "" {
				req.Header.Set("X-HTTP-Method-Override", tt.override)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusMethodNotAllowed || rec.md != nil {
				t.Errorf("status = %d (backend called: %v), want 405 and no call", resp.StatusCode, rec.md != nil)
			}
		})
	}
}

func TestRoutingErrors(t *testing.T) {
	srv, _ := newServer(t, 1<<20)
	tests := []struct {
		method, path string
		want         int
		reason       string
	}{
		{http.MethodGet, "/v1/nothing", http.StatusNotFound, edge.ReasonRouteNotFound},
		{http.MethodPut, "/v1/customers/c1", http.StatusMethodNotAllowed, edge.ReasonMethodNotAllowed},
		// The message quotes the path: escaped, so that it stays UTF-8.
		{http.MethodGet, "/v1/nothing%FF", http.StatusNotFound, edge.ReasonRouteNotFound},
		{http.MethodPut, "/v1/customers/c%FF", http.StatusMethodNotAllowed, edge.ReasonMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var st rpcStatus
			if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.want || len(st.Details) != 1 || st.Details[0].Reason != tt.reason {
				t.Errorf("got %d %+v, want %d with reason %s", resp.StatusCode, st, tt.want, tt.reason)
			}
		})
	}
}

// TestErrorDetails: every error the gateway answers carries an ErrorInfo.
// Statuses without one get a reason in the gateway's domain and, where the
// message would expose internals, a generic message; the detail is logged.
// Backend statuses with an ErrorInfo pass through untouched.
// Its length is the table.
func TestErrorDetails(t *testing.T) {
	var logs bytes.Buffer
	srv, _ := newLoggingServer(t, 1<<20, slog.New(slog.NewJSONHandler(&logs, nil)))
	tests := []struct {
		name         string
		method, path string
		body         string
		want         int
		code         codes.Code
		domain       string
		reason       string
		message      string
		field        string // the ErrorInfo's "field" metadata, if any
		header       http.Header
		logged       string // in the log, not in the response
	}{
		{
			name: "unknown body field", method: http.MethodPost, path: "/v1/customers?customerId=c1",
			body: `{"fullname":"Ada"}`, want: http.StatusBadRequest, code: codes.InvalidArgument,
			domain: edge.Domain, reason: edge.ReasonMalformedRequest,
			message: `request body is not valid JSON for "customer": unknown field "fullname"`,
		},
		{
			name: "body not JSON", method: http.MethodPost, path: "/v1/customers?customerId=c1",
			body: `{"fullName":`, want: http.StatusBadRequest, code: codes.InvalidArgument,
			domain: edge.Domain, reason: edge.ReasonMalformedRequest,
			message: `request body is not valid JSON for "customer": unexpected end of input`,
		},
		{
			name: "body bad token", method: http.MethodPost, path: "/v1/customers?customerId=c1",
			body: `{"fullName": x}`, want: http.StatusBadRequest, code: codes.InvalidArgument,
			domain: edge.Domain, reason: edge.ReasonMalformedRequest,
			message: `request body is not valid JSON for "customer": invalid character 'x' looking for beginning of value`,
		},
		{
			name: "body wrong type", method: http.MethodPost, path: "/v1/customers?customerId=c1",
			body: `{"fullName": 1}`, want: http.StatusBadRequest, code: codes.InvalidArgument,
			domain: edge.Domain, reason: edge.ReasonMalformedRequest,
			message: `request body is not valid JSON for "customer": invalid value for string field fullName: 1`,
		},
		{
			// Messages name what the caller sent, never a protobuf type.
			name: "body timestamp", method: http.MethodPost, path: "/v1/events",
			body: `{"eventId":"e1","occurredAt":"yesterday"}`, want: http.StatusBadRequest, code: codes.InvalidArgument,
			domain: edge.Domain, reason: edge.ReasonMalformedRequest,
			message: `request body is not valid JSON for "event": invalid timestamp "yesterday": use RFC 3339, such as "2024-01-31T12:00:00Z"`,
		},
		{
			name: "body timestamp out of range", method: http.MethodPost, path: "/v1/events",
			body: `{"occurredAt":"10000-01-01T00:00:00Z"}`, want: http.StatusBadRequest, code: codes.InvalidArgument,
			domain: edge.Domain, reason: edge.ReasonMalformedRequest,
			message: `request body is not valid JSON for "event": invalid timestamp "10000-01-01T00:00:00Z": use RFC 3339, such as "2024-01-31T12:00:00Z"`,
		},
		{
			name: "body two oneof fields", method: http.MethodPost, path: "/v1/events",
			body: `{"orderPlaced":{},"productViewed":{}}`, want: http.StatusBadRequest, code: codes.InvalidArgument,
			domain: edge.Domain, reason: edge.ReasonMalformedRequest,
			message: `request body is not valid JSON for "event": field "productViewed" cannot be set with another field of "payload"; set only one`,
		},
		{
			name: "body syntax error", method: http.MethodPost, path: "/v1/events:batchRecord",
			body: `{"events":{}}`, want: http.StatusBadRequest, code: codes.InvalidArgument,
			domain: edge.Domain, reason: edge.ReasonMalformedRequest,
			message: `request body is not valid JSON: unexpected token { at line 1, column 11`,
		},
		{
			name: "body invalid UTF-8", method: http.MethodPost, path: "/v1/customers?customerId=c1",
			body: "{\"fullName\":\"Ad\xe9\"}", want: http.StatusBadRequest, code: codes.InvalidArgument,
			domain: edge.Domain, reason: edge.ReasonInvalidText,
			message: `request body is not valid JSON for "customer": a string is not valid UTF-8 at line 1, column 13; encode text as UTF-8`,
		},
		{
			name: "path invalid UTF-8", method: http.MethodGet, path: "/v1/customers/c%FF",
			want: http.StatusBadRequest, code: codes.InvalidArgument,
			domain: edge.Domain, reason: edge.ReasonInvalidText, field: "name",
			message: `path parameter "name" is not valid UTF-8; percent-encode text as UTF-8`,
		},
		{
			name: "path invalid UTF-8 in a body route", method: http.MethodPatch, path: "/v1/customers/c%C3",
			body: `{"fullName":"Ada"}`, want: http.StatusBadRequest, code: codes.InvalidArgument,
			domain: edge.Domain, reason: edge.ReasonInvalidText, field: "customer.name",
			message: `path parameter "customer.name" is not valid UTF-8; percent-encode text as UTF-8`,
		},
		{
			name: "query invalid UTF-8", method: http.MethodGet, path: "/v1/customers?page_token=%FF",
			want: http.StatusBadRequest, code: codes.InvalidArgument,
			domain: edge.Domain, reason: edge.ReasonInvalidText, field: "pageToken",
			message: `query parameter "pageToken" is not valid UTF-8; percent-encode text as UTF-8`,
		},
		{
			name: "query name invalid UTF-8", method: http.MethodGet, path: "/v1/customers?page%FF=1",
			want: http.StatusBadRequest, code: codes.InvalidArgument,
			domain: edge.Domain, reason: edge.ReasonInvalidText, field: `"page\xff"`,
			message: `query parameter name "page\xff" is not valid UTF-8; percent-encode text as UTF-8`,
		},
		{
			name: "timeout header not UTF-8", method: http.MethodGet, path: "/v1/customers/c1",
			header: http.Header{"Grpc-Timeout": {"1\xffS"}}, want: http.StatusBadRequest, code: codes.InvalidArgument,
			domain: edge.Domain, reason: edge.ReasonMalformedRequest,
			message: `header "Grpc-Timeout" is not a valid timeout: use a positive integer and a unit (H, M, S, m, u or n), such as 30S`,
		},
		{
			name: "query given twice", method: http.MethodGet, path: "/v1/customers?pageToken=a&pageToken=b",
			want: http.StatusBadRequest, code: codes.InvalidArgument,
			domain: edge.Domain, reason: edge.ReasonMalformedRequest,
			message: `query parameter "pageToken" is given more than once; give it once`,
		},
		{
			name: "query integer", method: http.MethodGet, path: "/v1/customers?pageSize=abc",
			want: http.StatusBadRequest, code: codes.InvalidArgument,
			domain: edge.Domain, reason: edge.ReasonMalformedRequest,
			message: `query parameter "pageSize" must be an integer`,
		},
		{
			name: "query out of range", method: http.MethodGet, path: "/v1/customers?page_size=99999999999",
			want: http.StatusBadRequest, code: codes.InvalidArgument,
			domain: edge.Domain, reason: edge.ReasonMalformedRequest,
			message: `query parameter "pageSize" is out of range`,
		},
		{
			name: "backend unavailable", method: http.MethodGet, path: "/v1/customers/unavailable",
			want: http.StatusServiceUnavailable, code: codes.Unavailable,
			domain: edge.Domain, reason: edge.ReasonBackendUnavailable,
			message: "the profile service is unavailable, retry later", logged: "10.0.0.9:7001",
		},
		{
			name: "deadline exceeded", method: http.MethodGet, path: "/v1/customers/slow",
			want: http.StatusGatewayTimeout, code: codes.DeadlineExceeded,
			domain: edge.Domain, reason: edge.ReasonDeadlineExceeded,
			message: "the profile service did not answer in time", logged: "context deadline exceeded",
		},
		{
			name: "internal", method: http.MethodGet, path: "/v1/customers/broken",
			want: http.StatusInternalServerError, code: codes.Internal,
			domain: edge.Domain, reason: edge.ReasonInternal,
			message: "internal error", logged: "database disk image is malformed",
		},
		{
			name: "unknown", method: http.MethodGet, path: "/v1/customers/unknown",
			want: http.StatusInternalServerError, code: codes.Internal,
			domain: edge.Domain, reason: edge.ReasonInternal,
			message: "internal error", logged: "index out of range",
		},
		{
			name: "unimplemented", method: http.MethodGet, path: "/v1/customers",
			want: http.StatusNotImplemented, code: codes.Unimplemented,
			domain: edge.Domain, reason: "UNIMPLEMENTED",
			message: "method ListCustomers not implemented",
		},
		{
			name: "backend error passes through", method: http.MethodGet, path: "/v1/customers/described",
			want: http.StatusNotFound, code: codes.NotFound,
			domain: "profile.tenure.dev", reason: "CUSTOMER_NOT_FOUND",
			message: "profile: customer not found",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			for k, v := range tt.header {
				req.Header[k] = v
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			var st rpcStatus
			if err := json.Unmarshal(raw, &st); err != nil {
				t.Fatalf("body %s: %v", raw, err)
			}
			if resp.StatusCode != tt.want || codes.Code(st.Code) != tt.code {
				t.Errorf("got %d code %d, want %d code %d (%s); body %s", resp.StatusCode, st.Code, tt.want, tt.code, tt.code, raw)
			}
			if st.Message != tt.message {
				t.Errorf("message = %q, want %q", st.Message, tt.message)
			}
			if len(st.Details) != 1 || st.Details[0].Type != "type.googleapis.com/google.rpc.ErrorInfo" ||
				st.Details[0].Reason != tt.reason || st.Details[0].Domain != tt.domain {
				t.Errorf("details %+v, want one ErrorInfo %s in %s", st.Details, tt.reason, tt.domain)
			}
			if tt.field != "" && (len(st.Details) != 1 || st.Details[0].Metadata["field"] != tt.field) {
				t.Errorf("details %+v, want metadata field %q", st.Details, tt.field)
			}
			if tt.logged != "" {
				if strings.Contains(string(raw), tt.logged) {
					t.Errorf("body %s exposes %q", raw, tt.logged)
				}
				if !strings.Contains(logs.String(), tt.logged) {
					t.Errorf("log lacks %q:\n%s", tt.logged, logs.String())
				}
			}
		})
	}
}

// TestEmitDefaultValues: zero scalars are written out (an amount of 0 is
// not an absent amount), unset messages are not.
// TestOutgoingHeaders checks that backend response metadata stays at the
// gateway, apart from x-request-id, even for callers that accept trailers.
func TestOutgoingHeaders(t *testing.T) {
	srv, _ := newServer(t, 1<<20)
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/v1/customers/chatty", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("TE", "trailers")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200", resp.StatusCode)
	}
	if got := resp.Header.Values("X-Request-Id"); len(got) != 1 || got[0] != "req-9" {
		t.Errorf("X-Request-Id = %q, want [req-9]", got)
	}
	for _, h := range []http.Header{resp.Header, resp.Trailer} {
		for k, v := range h {
			lk := strings.ToLower(k)
			if strings.HasPrefix(lk, "grpc-") || strings.Contains(lk, "internal") {
				t.Errorf("backend metadata leaked: %s: %q", k, v)
			}
		}
	}
	if len(resp.Trailer) != 0 {
		t.Errorf("trailers %v, want none", resp.Trailer)
	}
}

func TestOutgoingMatchers(t *testing.T) {
	for key, want := range map[string]string{"x-request-id": "X-Request-Id", "X-Request-Id": "X-Request-Id"} {
		if got, ok := edge.OutgoingHeader(key); !ok || got != want {
			t.Errorf("OutgoingHeader(%q) = %q, %v; want %q, true", key, got, ok, want)
		}
	}
	for _, key := range []string{"content-type", "x-internal-shard", "authorization", "set-cookie", "x-correlation-id"} {
		if got, ok := edge.OutgoingHeader(key); ok {
			t.Errorf("OutgoingHeader(%q) = %q, true; want dropped", key, got)
		}
		if got, ok := edge.OutgoingTrailer(key); ok {
			t.Errorf("OutgoingTrailer(%q) = %q, true; want dropped", key, got)
		}
	}
}

func TestEmitDefaultValues(t *testing.T) {
	srv, _ := newServer(t, 1<<20)
	resp, err := srv.Client().Get(srv.URL + "/v1/customers/c1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Customer map[string]json.RawMessage `json:"customer"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if string(got.Customer["email"]) != `""` || string(got.Customer["tags"]) != "[]" {
		t.Errorf("customer %v, want email \"\" and tags []", got.Customer)
	}
	if _, ok := got.Customer["features"]; ok {
		t.Errorf("customer %v has unset features, want them omitted", got.Customer)
	}
}
