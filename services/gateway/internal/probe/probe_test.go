package probe_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/tenurehq/tenure/services/gateway/internal/probe"
)

func TestReadiness(t *testing.T) {
	errDown := errors.New("dial tcp 10.0.0.7:2379: connect: connection refused")
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
			var logs bytes.Buffer
			rd := &probe.Readiness{
				Services: []string{"profile", "loyalty"},
				Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
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
			wantRegistry := "ok"
			if tt.err != nil {
				wantRegistry = "etcd unreachable"
				// The detail is logged, never answered.
				if strings.Contains(rec.Body.String(), "10.0.0.7") {
					t.Errorf("body %s exposes the etcd error", rec.Body)
				}
				if !strings.Contains(logs.String(), "10.0.0.7") {
					t.Errorf("log %q lacks the etcd error", logs.String())
				}
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
