package bootstrap_test

import (
	"flag"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"

	"github.com/tenurehq/tenure/services/platform/auth"
	"github.com/tenurehq/tenure/services/platform/bootstrap"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
)

// TestAdminServesMetrics: with an admin address, a service's gRPC calls are
// measured and served for Prometheus on /metrics, without any OTLP export.
func TestAdminServesMetrics(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	rt, client := startDemo(t, bootstrap.Config{AdminAddr: "127.0.0.1:0"})
	if _, err := client.CreateCustomer(t.Context(), &profilev1.CreateCustomerRequest{CustomerId: "c1", RequestId: "k1"}); err != nil {
		t.Fatal(err)
	}

	// otelgrpc's server duration histogram, with the method as a label and
	// the service name from the resource. The server records a call after
	// its answer has gone out, so the client may scrape a moment before it.
	call := regexp.MustCompile(`(?m)^rpc_server_(call_)?duration_[a-z]+_count\{[^}]*rpc_method="[^"]*/CreateCustomer"[^}]*\} 1$`)
	body := stacktest.Scrape(t, "http://"+rt.AdminAddr()+"/metrics")
	for deadline := time.Now().Add(5 * time.Second); !call.MatchString(body) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		body = stacktest.Scrape(t, "http://"+rt.AdminAddr()+"/metrics")
	}
	if !call.MatchString(body) {
		t.Errorf("no gRPC server duration count of 1 for CreateCustomer in /metrics:\n%s", stacktest.Grep(body, "rpc_"))
	}
	if !strings.Contains(body, `service_name="demo"`) {
		t.Errorf("/metrics does not name the service (target_info service_name=\"demo\"):\n%s", stacktest.Grep(body, "target_info"))
	}
	if !strings.Contains(body, "go_goroutines ") {
		t.Error("/metrics has no Go runtime metrics (go_goroutines)")
	}
}

// TestAdminOffByDefault: without -admin-listen nothing listens and the
// runtime reports no admin address.
func TestAdminOffByDefault(t *testing.T) {
	var c bootstrap.Config
	c.RegisterFlags(flag.NewFlagSet("demo", flag.ContinueOnError), bootstrap.NewEnv("demo"), bootstrap.Defaults{ListenAddr: "127.0.0.1:0", DSN: "sqlite::memory:"})
	if c.AdminAddr != "" {
		t.Fatalf("admin address = %q by default, want empty", c.AdminAddr)
	}
	rt, err := bootstrap.Start(t.Context(), "demo", bootstrap.Config{LogLevel: "error"}, bootstrap.Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	if rt.AdminAddr() != "" {
		t.Errorf("AdminAddr = %q, want empty", rt.AdminAddr())
	}
}

// TestEtcdTLSConfigProblems: a certificate without its key is a config
// problem, and unreadable TLS files fail Start, naming etcd TLS.
func TestEtcdTLSConfigProblems(t *testing.T) {
	c := bootstrap.Config{ListenAddr: "x:1", DSN: "sqlite::memory:", LogLevel: "info", ShutdownTimeout: time.Second, EtcdCertFile: "c.pem", Auth: auth.Config{KeysFile: "keys.json"}}
	if errs := c.Problems(); len(errs) != 1 || !strings.Contains(errs[0].Error(), "set both or neither") {
		t.Errorf("problems = %v, want the cert and key files to go together", errs)
	}
	cfg := bootstrap.Config{LogLevel: "error", EtcdEndpoints: []string{"https://127.0.0.1:1"}, EtcdCAFile: filepath.Join(t.TempDir(), "missing.pem")}
	rt, err := bootstrap.Start(t.Context(), "demo", cfg, bootstrap.Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, nil)
	if err == nil {
		rt.Close()
		t.Fatal("Start with a missing etcd CA file succeeded")
	}
	if !strings.Contains(err.Error(), "etcd tls") {
		t.Errorf("Start = %v, want an etcd tls error", err)
	}
}
