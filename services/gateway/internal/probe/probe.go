// Package probe serves the gateway's liveness (/healthz) and readiness
// (/readyz) endpoints.
//
// Readiness means "can serve": every backend has at least one replica the
// gateway knows of and a connection that is not failing. It does not depend
// on etcd being reachable: during an etcd outage the gateway keeps routing
// to the replicas it last knew, so taking it out of its load balancer would
// only turn a discovery outage into a full one.
package probe

import (
	"encoding/json"
	"net/http"

	"google.golang.org/grpc/connectivity"
)

// Healthz answers 200 for as long as the process can serve HTTP at all.
func Healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// Conn is the part of a backend's *grpc.ClientConn that readiness reads.
type Conn interface {
	GetState() connectivity.State
}

// Backend is one backend service as the gateway sees it.
type Backend struct {
	// Name is the service's discovery name.
	Name string
	// Endpoints returns the replicas the gateway knows for the service:
	// the last set discovery delivered, kept through an etcd outage.
	Endpoints func() []string
	// Conn is the gateway's connection to the service.
	Conn Conn
}

// Readiness answers 200 when every backend can be served and 503
// otherwise, with a JSON Report saying what is missing.
type Readiness struct {
	// Backends are the services the gateway routes to.
	Backends []Backend
	// Registry, if set, reports whether etcd is reachable. It is shown in
	// the report and does not affect readiness.
	Registry func() bool
}

// Report is the /readyz response body.
type Report struct {
	Ready bool `json:"ready"`
	// Registry is "ok" or "etcd unreachable"; informational only.
	Registry string `json:"registry,omitempty"`
	// Services maps each backend to its number of known endpoints.
	Services map[string]int `json:"services"`
	// Connections maps each backend to its connection's state: IDLE,
	// CONNECTING, READY or TRANSIENT_FAILURE.
	Connections map[string]string `json:"connections"`
	// Missing lists the backends that cannot be served: no known endpoint,
	// or every known endpoint failing (TRANSIENT_FAILURE).
	Missing []string `json:"missing,omitempty"`
}

// Check runs the readiness check. It reads only the gateway's own state,
// so it answers at once whatever etcd and the backends do.
func (rd *Readiness) Check() Report {
	rep := Report{
		Services:    make(map[string]int, len(rd.Backends)),
		Connections: make(map[string]string, len(rd.Backends)),
	}
	if rd.Registry != nil {
		rep.Registry = "ok"
		if !rd.Registry() {
			rep.Registry = "etcd unreachable"
		}
	}
	for _, b := range rd.Backends {
		n, st := len(b.Endpoints()), b.Conn.GetState()
		rep.Services[b.Name] = n
		rep.Connections[b.Name] = st.String()
		if n == 0 || !canServe(st) {
			rep.Missing = append(rep.Missing, b.Name)
		}
	}
	rep.Ready = len(rep.Missing) == 0
	return rep
}

// canServe reports whether a connection in state st, with endpoints, can
// carry a call: it is connected, about to connect, or idle (connects on
// the next call).
func canServe(st connectivity.State) bool {
	switch st {
	case connectivity.Ready, connectivity.Idle, connectivity.Connecting:
		return true
	default:
		return false
	}
}

// ServeHTTP implements http.Handler.
func (rd *Readiness) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	rep := rd.Check()
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
