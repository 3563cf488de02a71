package app_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/tenurehq/tenure/services/platform/telemetry"
)

// TestPrometheusMetrics: with Prometheus metrics on (what -admin-listen
// turns on), a request through the gateway is counted as an HTTP request at
// the gateway, a gRPC client call from it and a gRPC server call at profile.
func TestPrometheusMetrics(t *testing.T) {
	t.Setenv(telemetry.EnvEndpoint, "")
	tel, shutdown, err := telemetry.Setup(t.Context(), "tenure", telemetry.WithPrometheus())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = shutdown(t.Context()) })
	s := startStack(t, stackOptions{telemetry: tel})
	if code, body := s.do(t, http.MethodPost, "/v1/customers?customerId=m1", strings.NewReader(`{"fullName":"Ada"}`), nil); code != http.StatusOK {
		t.Fatalf("create customer: %d %s", code, body)
	}

	rec := httptest.NewRecorder()
	tel.Metrics.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	for name, re := range map[string]string{
		"HTTP request at the gateway": `(?m)^http_server_request_duration_seconds_count\{[^}]*http_request_method="POST"[^}]*http_response_status_code="200"[^}]*\} 1$`,
		"gRPC call from the gateway":  `(?m)^rpc_client_call_duration_seconds_count\{[^}]*rpc_method="tenure.profile.v1.ProfileService/CreateCustomer"[^}]*\} 1$`,
		"gRPC call at profile":        `(?m)^rpc_server_call_duration_seconds_count\{[^}]*rpc_method="tenure.profile.v1.ProfileService/CreateCustomer"[^}]*\} 1$`,
	} {
		if !regexp.MustCompile(re).MatchString(body) {
			t.Errorf("%s: no line matching %s in /metrics:\n%s", name, re, metricLines(body, "_count{"))
		}
	}
}

func metricLines(body, sub string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
