package discovery_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/tenurehq/tenure/services/platform/discovery"
	"github.com/tenurehq/tenure/services/platform/etcdtest"
	"github.com/tenurehq/tenure/services/platform/internal/testlog"
)

// check makes one health check with the given timeout, derived from the
// test's context, and returns its error. It returns once the call does: a
// call that ignores its deadline hangs the test.
func check(t *testing.T, conn *grpc.ClientConn, timeout time.Duration, opts ...grpc.CallOption) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	_, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, opts...)
	return err
}

func wantFailedInTime(t *testing.T, what string, err error) {
	t.Helper()
	if c := status.Code(err); c != codes.DeadlineExceeded && c != codes.Unavailable {
		t.Errorf("%s: %v, want DeadlineExceeded or Unavailable", what, err)
	}
}

// waitIdle waits until conn has gone idle.
func waitIdle(t *testing.T, conn *grpc.ClientConn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for s := conn.GetState(); s != connectivity.Idle; s = conn.GetState() {
		if !conn.WaitForStateChange(ctx, s) {
			t.Fatalf("connection stayed %v, want it to go idle", s)
		}
	}
}

// TestCallsHonourDeadlinesWithEtcdDown: with etcd unreachable, calls to
// known replicas go on — on a live connection, on a new one and on one
// that went idle — and a call to a service nobody knows ends by its
// deadline with DeadlineExceeded or Unavailable instead of hanging in the
// resolver.
func TestCallsHonourDeadlinesWithEtcdDown(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	px := etcdtest.NewProxy(t, srv.Endpoints()[0])
	cli := px.Client(t)
	a := startServer(t)
	register(t, etcdtest.Client(t, srv), "echo", a)

	res := discovery.NewResolver(cli, nil)
	dialRes := func(service string, opts ...grpc.DialOption) *grpc.ClientConn {
		conn, err := res.Dial(service, opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		return conn
	}
	live := dialRes("echo")
	onlyServes(t, live, 5*time.Second, a)
	idle := dialRes("echo", grpc.WithIdleTimeout(100*time.Millisecond))
	onlyServes(t, idle, 5*time.Second, a)
	if got := res.Endpoints("echo"); len(got) != 1 || got[0] != a {
		t.Fatalf("Endpoints(echo) = %v, want [%s]", got, a)
	}
	waitIdle(t, idle) // its resolver is closed; the next call builds another

	px.Cut()

	if err := check(t, live, 10*time.Second); err != nil {
		t.Errorf("call on the live connection with etcd down: %v", err)
	}
	if err := check(t, idle, 10*time.Second); err != nil {
		t.Errorf("call on the idle connection with etcd down: %v", err)
	}
	if err := check(t, dialRes("echo"), 10*time.Second); err != nil {
		t.Errorf("call on a new connection with etcd down: %v", err)
	}
	if got := res.Endpoints("echo"); len(got) != 1 || got[0] != a {
		t.Errorf("Endpoints(echo) with etcd down = %v, want the last known [%s]", got, a)
	}

	unknown := dialRes("nobody")
	wantFailedInTime(t, "call to an unknown service", check(t, unknown, 2*time.Second))
	wantFailedInTime(t, "wait-for-ready call to an unknown service", check(t, unknown, 2*time.Second, grpc.WaitForReady(true)))
	// A process that never saw the service (a freshly started gateway).
	fresh, err := discovery.Dial(cli, "echo")
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	wantFailedInTime(t, "call from a fresh resolver", check(t, fresh, 2*time.Second))
}

// TestNoReplicaFailsFast: a call to a service with no replica registered
// fails with UNAVAILABLE at once, not at its deadline; once a replica
// registers calls reach it, and when it leaves they fail fast again.
func TestNoReplicaFailsFast(t *testing.T) {
	t.Parallel()
	cli := etcdtest.Client(t, etcdtest.Start(t))
	conn := dial(t, cli, "echo")
	failsFast := func(when string) {
		t.Helper()
		start := time.Now()
		err := check(t, conn, 10*time.Second)
		if took := time.Since(start); status.Code(err) != codes.Unavailable || took > time.Second {
			t.Fatalf("call %s: %v after %v, want UNAVAILABLE in under a second", when, err, took)
		}
	}
	failsFast("with no replica")
	a := startServer(t)
	reg := register(t, cli, "echo", a)
	onlyServes(t, conn, 5*time.Second, a)
	if err := check(t, conn, 10*time.Second); err != nil {
		t.Fatalf("call once a replica is registered: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := reg.Deregister(ctx); err != nil {
		t.Fatal(err)
	}
	testlog.Eventually(t, 5*time.Second, func() error {
		if err := check(t, conn, 10*time.Second); status.Code(err) != codes.Unavailable {
			return errors.New("call after the replica left: " + status.Convert(err).String())
		}
		return nil
	})
	failsFast("after the replica left")
}

// TestResolverFollowsMembershipAfterWatchCloses: the watch of a connection
// cut off from etcd resumes at a revision that has been compacted, so etcd
// ends it; the resolver reads the endpoints again and keeps following
// replicas that come and go.
func TestResolverFollowsMembershipAfterWatchCloses(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	admin := etcdtest.Client(t, srv)
	px := etcdtest.NewProxy(t, srv.Endpoints()[0])
	var logs testlog.Buffer
	res := discovery.NewResolver(px.Client(t), slog.New(slog.NewJSONHandler(&logs, nil)))
	a, b, c := startServer(t), startServer(t), startServer(t)
	regA := register(t, admin, "echo", a)
	conn, err := res.Dial("echo")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	onlyServes(t, conn, 5*time.Second, a)

	px.Cut()
	register(t, admin, "echo", b)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := regA.Deregister(ctx); err != nil {
		t.Fatal(err)
	}
	resp, err := admin.Get(ctx, "compact")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Compact(ctx, resp.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
		t.Fatalf("Compact: %v", err)
	}
	px.Forward(srv.Endpoints()[0])

	onlyServes(t, conn, 30*time.Second, b)
	if logs.Find("discovery: watch ended, reading endpoints again", map[string]string{"service": "echo"}) == nil {
		t.Errorf("the watch did not end on compaction, so the test proved nothing; logs:\n%s", logs.String())
	}
	register(t, admin, "echo", c)
	onlyServes(t, conn, 10*time.Second, b, c)
}

// TestKeepRegistersWhenEtcdReturns: a replica started while etcd is down is
// told it is not registered, logs why, and registers once etcd answers.
func TestKeepRegistersWhenEtcdReturns(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	px := etcdtest.NewProxy(t, "") // etcd unreachable
	cli := px.Client(t)
	var logs testlog.Buffer
	changes := make(chan bool, 16)
	reg, err := discovery.Keep(t.Context(), cli, "echo", "127.0.0.1:7001", discovery.WithTTL(testTTL),
		discovery.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))),
		discovery.WithOnChange(func(ok bool) { changes <- ok }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = reg.Deregister(ctx)
	})
	if reg.Registered() {
		t.Fatal("Registered() = true with etcd unreachable")
	}
	testlog.Eventually(t, 20*time.Second, func() error {
		if logs.Find("discovery: not registered, retrying", map[string]string{"level": "WARN", "key": reg.Key()}) == nil {
			return errors.New("no warning that the replica is not registered")
		}
		return nil
	})

	px.Forward(srv.Endpoints()[0])
	select {
	case ok := <-changes:
		if !ok {
			t.Fatal("first change reported not registered, want registered")
		}
	case <-t.Context().Done():
		t.Fatal("test ended before the replica registered")
	}
	if !reg.Registered() {
		t.Error("Registered() = false after the change to registered")
	}
	if err := endpointsEqual(t, etcdtest.Client(t, srv), "echo", "127.0.0.1:7001")(); err != nil {
		t.Error(err)
	}
}

// TestRegisterGivesUpWithItsContext: Register waits for etcd only as long
// as its context allows, and says why it failed.
func TestRegisterGivesUpWithItsContext(t *testing.T) {
	t.Parallel()
	cli := etcdtest.NewProxy(t, "").Client(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	reg, err := discovery.Register(ctx, cli, "echo", "127.0.0.1:7001", discovery.WithTTL(testTTL))
	if !errors.Is(err, context.DeadlineExceeded) || reg != nil {
		t.Fatalf("Register with etcd down = %v, %v; want nil and a deadline error", reg, err)
	}
	if want := "discovery: register tenure/services/echo/127.0.0.1:7001"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
}
