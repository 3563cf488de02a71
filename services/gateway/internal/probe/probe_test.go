package probe_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/tenurehq/tenure/services/gateway/internal/probe"
)

func TestReadiness(t *testing.T) {
	errDown := errors.New("etcd down")
	tests := []struct {
		name     string
		registry map[string][]string
		err      error
		want     int
		missing  []string
	}{
		{"all registered", map[string][]string{"profile": {"a:1"}, "loyalty": {"b:1", "b:2"}}, nil, http.StatusOK, nil},
		{"one missing", map[string][]string{"profile": {"a:1"}}, nil, http.StatusServiceUnavailable, []string{"loyalty"}},
		{"none", nil, nil, http.StatusServiceUnavailable, []string{"profile", "loyalty"}},
		{"registry down", nil, errDown, http.StatusServiceUnavailable, []string{"profile", "loyalty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd := &probe.Readiness{
				Services: []string{"profile", "loyalty"},
				Endpoints: func(_ context.Context, svc string) ([]string, error) {
					return tt.registry[svc], tt.err
				},
			}
			rec := httptest.NewRecorder()
			rd.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			if rec.Code != tt.want {
				t.Errorf("status = %d, want %d", rec.Code, tt.want)
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
			if (tt.err == nil) != (rep.Registry == "ok") {
				t.Errorf("registry = %q, want ok only when the lookup succeeds", rep.Registry)
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
