package app_test

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	feedbackapp "github.com/tenurehq/tenure/services/feedback/app"
	"github.com/tenurehq/tenure/services/gateway/app"
	loyaltyapp "github.com/tenurehq/tenure/services/loyalty/app"
	"github.com/tenurehq/tenure/services/platform/auth"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	"github.com/tenurehq/tenure/services/platform/telemetry"
	profileapp "github.com/tenurehq/tenure/services/profile/app"
	promotionapp "github.com/tenurehq/tenure/services/promotion/app"
	segmentationapp "github.com/tenurehq/tenure/services/segmentation/app"
)

// stack is an embedded etcd, optionally the real profile, segmentation,
// loyalty and feedback services, and the gateway, all in this process and
// talking over real sockets (started by stacktest).
type stack struct {
	etcd             *clientv3.Client
	gateway          string // base URL
	profileAddr      string
	segmentationAddr string
	feedbackAddr     string
	segmentation     *segmentationapp.App // nil with noBackends
	loyalty          *loyaltyapp.App      // nil with noBackends
	promotion        *promotionapp.App    // nil with noBackends
	http             *http.Client         // sends the admin key unless a request has an Authorization header
	st               *stacktest.Stack
}

// withAdminKey sends stacktest's admin key on every request that carries
// no Authorization header of its own (an empty one sends none).
type withAdminKey struct{ next http.RoundTripper }

func (a withAdminKey) RoundTrip(r *http.Request) (*http.Response, error) {
	if _, set := r.Header["Authorization"]; set {
		if r.Header.Get("Authorization") == "" {
			r = r.Clone(r.Context())
			r.Header.Del("Authorization")
		}
		return a.next.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", stacktest.AuthHeader())
	return a.next.RoundTrip(r)
}

type stackOptions struct {
	noBackends     bool // no profile, segmentation, loyalty or feedback service
	maxBodyBytes   int64
	backendTimeout time.Duration              // zero: the default
	tracer         *sdktrace.TracerProvider   // nil: no tracing
	telemetry      *telemetry.Providers       // wins over tracer
	etcd           *clientv3.Client           // nil: a fresh embedded etcd
	postgres       bool                       // services on PostgreSQL instead of SQLite (skipped when unreachable outside CI)
	unsubscribe    string                     // the unsubscribe secret; empty: none
	authDisabled   bool                       // every component admits every call
	gateway        func(*app.Config)          // adjusts the gateway's configuration
	promotion      func(*promotionapp.Config) // adjusts promotion's configuration
}

func startStack(t testing.TB, opts stackOptions) *stack {
	t.Helper()
	var tel *telemetry.Providers
	if opts.tracer != nil {
		tel = telemetry.NewProviders(opts.tracer)
	}
	if opts.telemetry != nil {
		tel = opts.telemetry
	}
	engine := stacktest.SQLite
	if opts.postgres {
		engine = stacktest.Postgres
	}
	var authCfg *auth.Config
	if opts.authDisabled {
		authCfg = &auth.Config{Disabled: true}
	}
	st := stacktest.Start(t, stacktest.Options{Etcd: opts.etcd, Engine: engine, Telemetry: tel, Auth: authCfg})
	s := &stack{etcd: st.Etcd(), st: st, http: &http.Client{Timeout: 30 * time.Second, Transport: withAdminKey{http.DefaultTransport}}}
	if !opts.noBackends {
		s.profileAddr = st.Add(profileapp.Component(nil)).Addr()
		seg := st.Add(segmentationapp.Component(nil))
		s.segmentationAddr, s.segmentation = seg.Addr(), seg.Runner.(*segmentationapp.App)
		s.loyalty = st.Add(loyaltyapp.Component(func(c *loyaltyapp.Config, _ *loyaltyapp.Deps) { c.JobInterval = 0 })).Runner.(*loyaltyapp.App)
		s.feedbackAddr = st.Add(feedbackapp.Component(func(c *feedbackapp.Config, _ *feedbackapp.Deps) { c.EscalationInterval = 0 })).Addr()
		s.promotion = st.Add(promotionapp.Component(func(c *promotionapp.Config, _ *promotionapp.Deps) {
			if opts.promotion != nil {
				opts.promotion(c)
			}
		})).Runner.(*promotionapp.App)
	}
	gw := st.Add(app.Component(func(c *app.Config, _ *app.Deps) {
		if opts.maxBodyBytes > 0 {
			c.MaxBodyBytes = opts.maxBodyBytes
		}
		if opts.backendTimeout > 0 {
			c.BackendTimeout = opts.backendTimeout
		}
		c.UnsubscribeSecret = opts.unsubscribe
		if opts.gateway != nil {
			opts.gateway(c)
		}
	}))
	s.gateway = "http://" + gw.Addr()
	return s
}

// do sends an HTTP request to the gateway and returns status and body.
func (s *stack) do(t testing.TB, method, path string, body io.Reader, header http.Header) (int, []byte) {
	t.Helper()
	resp, b := s.send(t, method, path, body, header)
	return resp.StatusCode, b
}

// send is do returning the whole response, its body read and closed.
func (s *stack) send(t testing.TB, method, path string, body io.Reader, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.gateway+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp, b
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return lis
}
