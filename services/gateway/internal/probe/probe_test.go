package probe_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"google.golang.org/grpc/connectivity"

	"github.com/tenurehq/tenure/services/gateway/internal/probe"
)

type conn connectivity.State

func (c conn) GetState() connectivity.State { return connectivity.State(c) }

type backend struct {
	endpoints []string
	state     connectivity.State
}

func TestReadiness(t *testing.T) {
	up := backend{[]string{"a:1"}, connectivity.Ready}
	tests := []struct {
		name     string
		backends map[string]backend // profile, loyalty
		registry bool
		want     int
		missing  []string
	}{
		{"all connected", map[string]backend{"profile": up, "loyalty": {[]string{"b:1", "b:2"}, connectivity.Ready}}, true, http.StatusOK, nil},
		{"idle and connecting count", map[string]backend{"profile": {[]string{"a:1"}, connectivity.Idle}, "loyalty": {[]string{"b:1"}, connectivity.Connecting}}, true, http.StatusOK, nil},
		{"one without endpoints", map[string]backend{"profile": up, "loyalty": {nil, connectivity.Connecting}}, true, http.StatusServiceUnavailable, []string{"loyalty"}},
		{"none known", nil, true, http.StatusServiceUnavailable, []string{"profile", "loyalty"}},
		{"every replica failing", map[string]backend{"profile": {[]string{"a:1"}, connectivity.TransientFailure}, "loyalty": up}, true, http.StatusServiceUnavailable, []string{"profile"}},
		// etcd down: the gateway still routes to the replicas it knows.
		{"registry down, endpoints known", map[string]backend{"profile": up, "loyalty": up}, false, http.StatusOK, nil},
		{"registry down, nothing known", nil, false, http.StatusServiceUnavailable, []string{"profile", "loyalty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd := &probe.Readiness{Registry: func() bool { return tt.registry }}
			for _, name := range []string{"profile", "loyalty"} {
				b := tt.backends[name]
				if b.state == 0 && b.endpoints == nil {
					b.state = connectivity.Connecting
				}
				rd.Backends = append(rd.Backends, probe.Backend{
					Name:      name,
					Endpoints: func() []string { return b.endpoints },
					Conn:      conn(b.state),
				})
			}
			rec := httptest.NewRecorder()
			rd.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			if rec.Code != tt.want {
				t.Errorf("status = %d, want %d; body %s", rec.Code, tt.want, rec.Body)
			}
			var rep probe.Report
			if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rep.Missing, tt.missing) {
				t.Errorf("missing = %q, want %q", rep.Missing, tt.missing)
			}
			if rep.Ready != (tt.want == http.StatusOK) {
				t.Errorf("ready = %v with status %d", rep.Ready, tt.want)
			}
			if got := rep.Services["profile"]; got != len(tt.backends["profile"].endpoints) {
				t.Errorf("services[profile] = %d, want %d", got, len(tt.backends["profile"].endpoints))
			}
			wantRegistry := "ok"
			if !tt.registry {
				wantRegistry = "etcd unreachable"
			}
			if rep.Registry != wantRegistry {
				t.Errorf("registry = %q, want %q", rep.Registry, wantRegistry)
			}
		})
	}
}

func TestHealthz(t *testing.T) {
	rec := httptest.NewRecorder()
	probe.Healthz(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("status = %d, want 200", rec.Code)
	}
}
