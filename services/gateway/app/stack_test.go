package app_test

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/tenurehq/tenure/services/gateway/app"
	"github.com/tenurehq/tenure/services/platform/discovery"
	"github.com/tenurehq/tenure/services/platform/etcdtest"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"github.com/tenurehq/tenure/services/platform/telemetry"
	profileapp "github.com/tenurehq/tenure/services/profile/app"
	segmentationapp "github.com/tenurehq/tenure/services/segmentation/app"
)

// stack is an embedded etcd, optionally the real profile and segmentation
// services, and the gateway, all in this process and talking over real
// sockets.
type stack struct {
	etcd             *clientv3.Client
	gateway          string // base URL
	profileAddr      string
	segmentationAddr string
	segmentation     *segmentationapp.App // nil with noBackends
	http             *http.Client
}

type stackOptions struct {
	noBackends     bool // no profile or segmentation service
	maxBodyBytes   int64
	backendTimeout time.Duration            // zero: the default
	tracer         *sdktrace.TracerProvider // nil: no tracing
	etcd           *clientv3.Client         // nil: a fresh embedded etcd
	postgres       bool                     // services on PostgreSQL instead of SQLite (skipped when unreachable outside CI)
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func startStack(t testing.TB, opts stackOptions) *stack {
	t.Helper()
	cli := opts.etcd
	if cli == nil {
		cli = etcdtest.Client(t, etcdtest.Start(t))
	}
	var tel *telemetry.Providers
	if opts.tracer != nil {
		tel = telemetry.NewProviders(opts.tracer)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var waits []chan error
	t.Cleanup(func() {
		cancel()
		for _, w := range waits {
			if err := <-w; err != nil {
				t.Errorf("run: %v", err)
			}
		}
	})
	run := func(r interface{ Run(context.Context) error }, cleanup func()) {
		done := make(chan error, 1)
		waits = append(waits, done)
		go func() {
			defer cleanup()
			done <- r.Run(ctx)
		}()
	}

	s := &stack{etcd: cli, http: &http.Client{Timeout: 30 * time.Second}}
	if !opts.noBackends {
		var pcfg profileapp.Config
		pcfg.RegisterFlags(flag.NewFlagSet("profile", flag.ContinueOnError))
		pcfg.ListenAddr = "127.0.0.1:0"
		pcfg.DSN = dsn(t, opts.postgres, "profile")
		pcfg.LogLevel = "error"
		p, cleanup, err := profileapp.New(ctx, pcfg, profileapp.Deps{Logger: quietLogger(), Telemetry: tel, Etcd: cli})
		if err != nil {
			t.Fatalf("profile: %v", err)
		}
		s.profileAddr = p.Addr()
		run(p, cleanup)
		waitRegistered(t, cli, "profile")

		var scfg segmentationapp.Config
		scfg.RegisterFlags(flag.NewFlagSet("segmentation", flag.ContinueOnError))
		scfg.ListenAddr = "127.0.0.1:0"
		scfg.DSN = dsn(t, opts.postgres, "segmentation")
		scfg.LogLevel = "error"
		sg, cleanup, err := segmentationapp.New(ctx, scfg, segmentationapp.Deps{Logger: quietLogger(), Telemetry: tel, Etcd: cli})
		if err != nil {
			t.Fatalf("segmentation: %v", err)
		}
		s.segmentationAddr, s.segmentation = sg.Addr(), sg
		run(sg, cleanup)
		waitRegistered(t, cli, "segmentation")
	}

	var gcfg app.Config
	gcfg.RegisterFlags(flag.NewFlagSet("gateway", flag.ContinueOnError))
	gcfg.ListenAddr = "127.0.0.1:0"
	if opts.maxBodyBytes > 0 {
		gcfg.MaxBodyBytes = opts.maxBodyBytes
	}
	if opts.backendTimeout > 0 {
		gcfg.BackendTimeout = opts.backendTimeout
	}
	gw, cleanup, err := app.New(ctx, gcfg, app.Deps{Logger: quietLogger(), Telemetry: tel, Etcd: cli})
	if err != nil {
		t.Fatalf("gateway: %v", err)
	}
	s.gateway = "http://" + gw.Addr()
	run(gw, cleanup)
	return s
}

// dsn is a fresh database for service: a SQLite file, or a new PostgreSQL
// database.
func dsn(t testing.TB, postgres bool, service string) string {
	t.Helper()
	if postgres {
		_, d := sqlstoretest.PostgresDSN(t)
		return d
	}
	return "sqlite:" + filepath.Join(t.TempDir(), service+".db")
}

// waitRegistered blocks until service has an endpoint in etcd, watching
// rather than polling.
func waitRegistered(t testing.TB, cli *clientv3.Client, service string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	prefix := discovery.KeyPrefix + service + "/"
	resp, err := cli.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatalf("etcd get: %v", err)
	}
	if resp.Count > 0 {
		return
	}
	for wr := range cli.Watch(ctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1)) {
		for _, ev := range wr.Events {
			if ev.Type == clientv3.EventTypePut {
				return
			}
		}
	}
	t.Fatalf("%s not registered: %v", service, errors.Join(ctx.Err()))
}

// do sends an HTTP request to the gateway and returns status and body.
func (s *stack) do(t testing.TB, method, path string, body io.Reader, header http.Header) (int, []byte) {
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
	return resp.StatusCode, b
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return lis
}
