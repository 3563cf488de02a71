package bootstrap_test

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"

	"github.com/tenurehq/tenure/services/platform/auth"
	"github.com/tenurehq/tenure/services/platform/auth/authtest"
	"github.com/tenurehq/tenure/services/platform/bootstrap"
	"github.com/tenurehq/tenure/services/platform/discovery"
	"github.com/tenurehq/tenure/services/platform/etcdtest"
	"github.com/tenurehq/tenure/services/platform/grpcserver"
	"github.com/tenurehq/tenure/services/platform/internal/testlog"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
)

func TestConfigFromEnvAndFlags(t *testing.T) {
	t.Setenv("TENURE_DEMO_LISTEN", "127.0.0.1:7000")
	t.Setenv("TENURE_DEMO_ETCD_ENDPOINTS", "http://a:2379, http://b:2379,")
	t.Setenv("TENURE_DEMO_SHUTDOWN_TIMEOUT", "3s")
	t.Setenv("TENURE_DEMO_AUTH_KEYS_FILE", "keys.json")
	var c bootstrap.Config
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	c.RegisterFlags(fs, bootstrap.NewEnv("demo"), bootstrap.Defaults{ListenAddr: "127.0.0.1:1", DSN: "sqlite:x.db"})
	if err := fs.Parse([]string{"-log-level", "debug"}); err != nil {
		t.Fatal(err)
	}
	if c.ListenAddr != "127.0.0.1:7000" || c.DSN != "sqlite:x.db" || c.LogLevel != "debug" || c.ShutdownTimeout != 3*time.Second || c.Auth.KeysFile != "keys.json" || c.Auth.Disabled {
		t.Errorf("got %+v", c)
	}
	if got := strings.Join(c.EtcdEndpoints, " "); got != "http://a:2379 http://b:2379" {
		t.Errorf("etcd endpoints = %q, want the two URLs", got)
	}
	if errs := c.Problems(); len(errs) != 0 {
		t.Errorf("problems = %v, want none", errs)
	}
}

func TestConfigProblems(t *testing.T) {
	t.Setenv("TENURE_DEMO_SHUTDOWN_TIMEOUT", "soon")
	var c bootstrap.Config
	c.RegisterFlags(flag.NewFlagSet("demo", flag.ContinueOnError), bootstrap.NewEnv("demo"), bootstrap.Defaults{})
	c.LogLevel = "loud"
	c.Auth.KeysFile = "" // and no JWKS: nobody could be admitted
	var msgs []string
	for _, err := range c.Problems() {
		msgs = append(msgs, err.Error())
	}
	got := strings.Join(msgs, "\n")
	for _, want := range []string{`TENURE_DEMO_SHUTDOWN_TIMEOUT="soon"`, "listen address is required", "dsn is required", "log level", "no caller could be admitted"} {
		if !strings.Contains(got, want) {
			t.Errorf("problems %q do not mention %q", got, want)
		}
	}
}

// TestEdgeConfig: the gateway's shared settings have no -dsn or -advertise
// flag, need no DSN, and take their etcd endpoints from its defaults; it
// has a service key file for the calls it makes itself.
func TestEdgeConfig(t *testing.T) {
	var c bootstrap.Config
	fs := flag.NewFlagSet("edge", flag.ContinueOnError)
	c.RegisterFlags(fs, bootstrap.NewEnv("edge"), bootstrap.Defaults{ListenAddr: "127.0.0.1:8080", EtcdEndpoints: "http://e:2379", Edge: true})
	if err := fs.Parse([]string{"-auth-jwks-file", "jwks.json", "-auth-issuer", "https://id/", "-auth-audience", "tenure"}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"dsn", "advertise", "tls-client-ca-file"} {
		if fs.Lookup(name) != nil {
			t.Errorf("flag -%s registered for the edge", name)
		}
	}
	if fs.Lookup("service-key-file") == nil {
		t.Errorf("flag -service-key-file not registered for the edge")
	}
	if got := strings.Join(c.EtcdEndpoints, " "); got != "http://e:2379" {
		t.Errorf("etcd endpoints = %q, want the default", got)
	}
	if c.ShutdownTimeout != grpcserver.DefaultShutdownTimeout {
		t.Errorf("shutdown timeout = %s, want %s", c.ShutdownTimeout, grpcserver.DefaultShutdownTimeout)
	}
	if errs := c.Problems(); len(errs) != 0 {
		t.Errorf("problems = %v, want none", errs)
	}
}

func TestStartServesAndRegisters(t *testing.T) {
	etcd := etcdtest.Start(t)
	cli := etcdtest.Client(t, etcd)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	migrated := false
	cfg := bootstrap.Config{
		ListenAddr:      "127.0.0.1:0",
		DSN:             "sqlite:" + filepath.Join(t.TempDir(), "nested", "demo.db"),
		LogLevel:        "error",
		ShutdownTimeout: 5 * time.Second,
	}
	rt, err := bootstrap.Start(ctx, "demo", cfg, bootstrap.Deps{Etcd: cli, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		func(ctx context.Context, db *sqlstore.DB) error {
			migrated = true
			return db.InTx(ctx, func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS demo (id INTEGER PRIMARY KEY)")
				return err
			})
		})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	if !migrated || rt.DB == nil {
		t.Fatalf("migrated = %v, DB = %v; want the database opened and migrated", migrated, rt.DB)
	}
	srv, err := rt.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()

	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	testlog.Eventually(t, 5*time.Second, func() error {
		eps, err := discovery.Endpoints(ctx, cli, "demo")
		if err != nil || len(eps) != 1 || eps[0] != srv.Addr() {
			return fmt.Errorf("endpoints = %v, %v; want [%s]", eps, err, srv.Addr())
		}
		return nil
	})
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health = %v, %v; want SERVING", resp, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil after cancel", err)
	}
}

type fakeProfile struct {
	profilev1.UnimplementedProfileServiceServer
}

func (fakeProfile) CreateCustomer(_ context.Context, req *profilev1.CreateCustomerRequest) (*profilev1.CreateCustomerResponse, error) {
	return &profilev1.CreateCustomerResponse{Customer: &profilev1.Customer{CustomerId: req.GetCustomerId()}}, nil
}

// startDemo starts a runtime of service "demo" on SQLite with cfg's
// listen and admin addresses, serving fakeProfile, and returns it with a
// client of that server; both are stopped when the test ends.
func startDemo(t *testing.T, cfg bootstrap.Config) (*bootstrap.Runtime, profilev1.ProfileServiceClient) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.DSN = "sqlite:" + filepath.Join(t.TempDir(), "demo.db")
	cfg.ShutdownTimeout = 5 * time.Second
	keys := authtest.NewKeyFile(t)
	key := keys.Create(t, "demo-admin", auth.Admin)
	cfg.Auth.KeysFile = keys.Path
	rt, err := bootstrap.Start(ctx, "demo", cfg, bootstrap.Deps{Logger: slog.New(slog.DiscardHandler)}, nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	srv, err := rt.NewServer(nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	profilev1.RegisterProfileServiceServer(srv.GRPC(), fakeProfile{})
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithPerRPCCredentials(auth.KeyCredentials{Key: key}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return rt, profilev1.NewProfileServiceClient(conn)
}

// TestIdempotencyErrorsCarryServiceDomain checks that the runtime's
// request_id errors name the service's own ErrorInfo domain.
func TestIdempotencyErrorsCarryServiceDomain(t *testing.T) {
	ctx := t.Context()
	_, client := startDemo(t, bootstrap.Config{})
	if _, err := client.CreateCustomer(ctx, &profilev1.CreateCustomerRequest{CustomerId: "c1", RequestId: "k1"}); err != nil {
		t.Fatal(err)
	}
	_, err := client.CreateCustomer(ctx, &profilev1.CreateCustomerRequest{CustomerId: "c2", RequestId: "k1"})
	st := status.Convert(err)
	if st.Code() != codes.FailedPrecondition {
		t.Fatalf("reused request_id: got %v, want FailedPrecondition", err)
	}
	var domain string
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			domain = info.GetDomain()
		}
	}
	if domain != "demo.tenure.dev" {
		t.Errorf("ErrorInfo domain: got %q, want demo.tenure.dev", domain)
	}
}

func TestDialNeedsEtcd(t *testing.T) {
	rt, err := bootstrap.Start(context.Background(), "demo", bootstrap.Config{LogLevel: "error"},
		bootstrap.Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	if rt.DB != nil {
		t.Error("DB opened without a DSN")
	}
	if _, err := rt.Dial("profile"); err == nil || !strings.Contains(err.Error(), "no etcd endpoints") {
		t.Errorf("Dial = %v, want an error saying etcd is not configured", err)
	}
}

// TestServesBeforeEtcdAnswers: a replica started while etcd is unreachable
// serves direct calls at once, says in its log and its health that it is
// not registered, and registers when etcd comes back.
func TestServesBeforeEtcdAnswers(t *testing.T) {
	px := etcdtest.NewProxy(t, "") // etcd is down
	var logs testlog.Buffer
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cfg := bootstrap.Config{
		ListenAddr:      "127.0.0.1:0",
		DSN:             "sqlite:" + filepath.Join(t.TempDir(), "demo.db"),
		ShutdownTimeout: 5 * time.Second,
	}
	rt, err := bootstrap.Start(ctx, "demo", cfg, bootstrap.Deps{Etcd: px.Client(t), Logger: slog.New(slog.NewJSONHandler(&logs, nil))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	srv, err := rt.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()

	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	health := healthpb.NewHealthClient(conn)
	watch, err := health.Watch(ctx, &healthpb.HealthCheckRequest{Service: grpcserver.RegistrationHealth})
	if err != nil {
		t.Fatal(err)
	}
	// The server answers while etcd is down, and says it is not registered.
	if resp, err := watch.Recv(); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("%s health = %v, %v; want NOT_SERVING while etcd is down", grpcserver.RegistrationHealth, resp, err)
	}
	if resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{Service: "demo"}); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("demo health = %v, %v; want SERVING although not registered", resp, err)
	}
	if srv.Registered() {
		t.Error("Registered() = true with etcd down")
	}
	testlog.Eventually(t, 20*time.Second, func() error {
		if logs.Find("discovery: not registered, retrying", map[string]string{"level": "WARN"}) == nil {
			return fmt.Errorf("no warning that the replica is not registered; logs:\n%s", logs.String())
		}
		return nil
	})

	etcd := etcdtest.Start(t)
	t.Cleanup(px.Cut) // before etcd stops, which would wait for the proxy's connections
	px.Forward(etcd.Endpoints()[0])
	for {
		resp, err := watch.Recv()
		if err != nil {
			t.Fatalf("%s health watch: %v", grpcserver.RegistrationHealth, err)
		}
		if resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			break
		}
	}
	if !srv.Registered() {
		t.Error("Registered() = false after health reported registration")
	}
	eps, err := discovery.Endpoints(ctx, etcdtest.Client(t, etcd), "demo")
	if err != nil || len(eps) != 1 || eps[0] != srv.Addr() {
		t.Errorf("endpoints = %v, %v; want [%s]", eps, err, srv.Addr())
	}
	if logs.Find("discovery: registered", map[string]string{"level": "INFO"}) == nil {
		t.Errorf("registration not logged; logs:\n%s", logs.String())
	}
}
