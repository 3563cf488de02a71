// Package probe serves the gateway's liveness (/healthz) and readiness
// (/readyz) endpoints.
package probe

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"
)

// Healthz answers 200 for as long as the process can serve HTTP at all.
func Healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// EndpointLister returns the registered endpoints of a service; an error
// means the registry (etcd) did not answer.
type EndpointLister func(ctx context.Context, service string) ([]string, error)

// Readiness answers 200 when the registry answers and every backend service
// has at least one registered endpoint, and 503 otherwise, with a JSON body
// saying what is missing.
type Readiness struct {
	// Services are the backends the gateway routes to.
	Services []string
	// Endpoints looks a service up in the registry.
	Endpoints EndpointLister
	// Timeout bounds the whole check; default 2 s.
	Timeout time.Duration
	// Logger receives why the registry could not be read, which the
	// response does not say. Nil discards it.
	Logger *slog.Logger
}

// Report is the /readyz response body.
type Report struct {
	Ready bool `json:"ready"`
	// Registry is "ok" or "etcd unreachable"; the error itself is logged,
	// not exposed.
	Registry string `json:"registry"`
	// Services maps each backend to its number of registered endpoints.
	Services map[string]int `json:"services"`
	// Missing lists backends without an endpoint, or all of them when the
	// registry did not answer.
	Missing []string `json:"missing,omitempty"`
}

// Check runs the readiness check.
func (rd *Readiness) Check(ctx context.Context) Report {
	timeout := rd.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	rep := Report{Registry: "ok", Services: make(map[string]int, len(rd.Services))}
	for i, svc := range rd.Services {
		eps, err := rd.Endpoints(ctx, svc)
		if err != nil {
			if rd.Logger != nil {
				rd.Logger.WarnContext(ctx, "readiness: registry unreachable", "service", svc, "err", err)
			}
			rep.Registry = "etcd unreachable"
			rep.Missing = append(rep.Missing, rd.Services[i:]...)
			return rep
		}
		rep.Services[svc] = len(eps)
		if len(eps) == 0 {
			rep.Missing = append(rep.Missing, svc)
		}
	}
	rep.Ready = len(rep.Missing) == 0
	return rep
}

// ServeHTTP implements http.Handler.
func (rd *Readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rep := rd.Check(r.Context())
	code := http.StatusOK
	if !rep.Ready {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, rep)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
