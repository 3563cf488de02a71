package discovery_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"

	"github.com/tenurehq/tenure/services/platform/discovery"
	"github.com/tenurehq/tenure/services/platform/etcdtest"
	"github.com/tenurehq/tenure/services/platform/internal/testlog"
)

const testTTL = 2 // seconds; the shortest lease etcd grants with default timings

// startServer runs a gRPC server with the health service on a free port.
func startServer(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func register(t *testing.T, cli *clientv3.Client, service, addr string, opts ...discovery.RegisterOption) *discovery.Registration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	reg, err := discovery.Register(ctx, cli, service, addr, append([]discovery.RegisterOption{discovery.WithTTL(testTTL)}, opts...)...)
	if err != nil {
		t.Fatalf("Register(%s, %s): %v", service, addr, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = reg.Deregister(ctx)
	})
	return reg
}

func dial(t *testing.T, cli *clientv3.Client, service string) *grpc.ClientConn {
	t.Helper()
	conn, err := discovery.Dial(cli, service)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// hits makes n health checks and counts the servers that answered.
func hits(ctx context.Context, conn *grpc.ClientConn, n int) (map[string]int, error) {
	client := healthpb.NewHealthClient(conn)
	got := map[string]int{}
	for range n {
		var p peer.Peer
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := client.Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Peer(&p), grpc.WaitForReady(true))
		cancel()
		if err != nil {
			return got, err
		}
		got[p.Addr.String()]++
	}
	return got, nil
}

// onlyServes waits until a window of calls reaches exactly want.
func onlyServes(t *testing.T, conn *grpc.ClientConn, timeout time.Duration, want ...string) {
	t.Helper()
	testlog.Eventually(t, timeout, func() error {
		got, err := hits(context.Background(), conn, 4*len(want))
		if err != nil {
			return err
		}
		addrs := make([]string, 0, len(got))
		for a := range got {
			addrs = append(addrs, a)
		}
		slices.Sort(addrs)
		w := slices.Sorted(slices.Values(want))
		if !slices.Equal(addrs, w) {
			return errors.New("calls reached " + joinAddrs(addrs) + ", want " + joinAddrs(w))
		}
		return nil
	})
}

func joinAddrs(a []string) string { return "[" + strings.Join(a, " ") + "]" }

func endpointsEqual(t *testing.T, cli *clientv3.Client, service string, want ...string) func() error {
	return func() error {
		got, err := discovery.Endpoints(context.Background(), cli, service)
		if err != nil {
			return err
		}
		if !slices.Equal(got, slices.Sorted(slices.Values(want))) {
			return errors.New("endpoints " + joinAddrs(got) + ", want " + joinAddrs(want))
		}
		return nil
	}
}

func TestTarget(t *testing.T) {
	t.Parallel()
	if got, want := discovery.Target("profile"), "etcd:///tenure/services/profile"; got != want {
		t.Fatalf("Target(profile) = %q, want %q", got, want)
	}
}

func TestRegisterInvalid(t *testing.T) {
	t.Parallel()
	cli := etcdtest.Client(t, etcdtest.Start(t))
	tests := []struct {
		name, service, addr string
		ttl                 int64
		want                error
	}{
		{"empty service", "", "127.0.0.1:1", 2, discovery.ErrInvalidService},
		{"slash in service", "a/b", "127.0.0.1:1", 2, discovery.ErrInvalidService},
		{"empty addr", "svc", "", 2, discovery.ErrInvalidAddr},
		{"zero ttl", "svc", "127.0.0.1:1", 0, discovery.ErrInvalidTTL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := discovery.Register(context.Background(), cli, tt.service, tt.addr, discovery.WithTTL(tt.ttl))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Register error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRoundRobinAndDeregister(t *testing.T) {
	t.Parallel()
	cli := etcdtest.Client(t, etcdtest.Start(t))
	a, b := startServer(t), startServer(t)
	regA := register(t, cli, "echo", a)
	register(t, cli, "echo", b)

	if key := regA.Key(); key != "tenure/services/echo/"+a {
		t.Errorf("Key() = %q, want tenure/services/echo/%s", key, a)
	}
	testlog.Eventually(t, 5*time.Second, endpointsEqual(t, cli, "echo", a, b))

	conn := dial(t, cli, "echo")
	onlyServes(t, conn, 5*time.Second, a, b)
	got, err := hits(context.Background(), conn, 10)
	if err != nil {
		t.Fatal(err)
	}
	if got[a] != 5 || got[b] != 5 {
		t.Errorf("round robin over 10 calls = %v, want 5 each", got)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := regA.Deregister(ctx); err != nil {
		t.Fatalf("Deregister: %v", err)
	}
	if err := regA.Deregister(ctx); err != nil {
		t.Fatalf("second Deregister: %v", err)
	}
	if err := endpointsEqual(t, cli, "echo", b)(); err != nil {
		t.Fatalf("right after Deregister: %v", err)
	}
	// Server a is still up: only the resolver can take it out of rotation.
	onlyServes(t, conn, 5*time.Second, b)
}

func TestStoppedReplicaExpires(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	cli := etcdtest.Client(t, srv)
	a, b := startServer(t), startServer(t)
	register(t, cli, "echo", b)

	// Replica a has its own etcd client; closing it stops the keep-alive
	// without deleting the key, as a crash would.
	cliA := etcdtest.Client(t, srv)
	register(t, cliA, "echo", a)

	conn := dial(t, cli, "echo")
	onlyServes(t, conn, 5*time.Second, a, b)

	stopped := time.Now()
	if err := cliA.Close(); err != nil {
		t.Fatal(err)
	}
	onlyServes(t, conn, 3*testTTL*time.Second, b)
	if err := endpointsEqual(t, cli, "echo", b)(); err != nil {
		t.Fatal(err)
	}
	// The lease may have just been renewed when the replica stopped, and etcd
	// expires leases on a 500 ms timer; allow for that and for a loaded machine.
	if took := time.Since(stopped); took > 2*testTTL*time.Second {
		t.Errorf("stopped replica left the resolver after %v, want within 2x the %ds TTL", took, testTTL)
	}
}

func TestRevokedLeaseIsRecreated(t *testing.T) {
	t.Parallel()
	cli := etcdtest.Client(t, etcdtest.Start(t))
	var logs testlog.Buffer
	lg := slog.New(slog.NewJSONHandler(&logs, nil))
	reg := register(t, cli, "echo", "127.0.0.1:7001", discovery.WithLogger(lg))
	ctx := context.Background()

	resp, err := cli.Get(ctx, reg.Key())
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("Get(%s) = %v, %v; want one key", reg.Key(), resp, err)
	}
	oldLease := clientv3.LeaseID(resp.Kvs[0].Lease)
	if oldLease == 0 {
		t.Fatal("key has no lease")
	}
	if _, err := cli.Revoke(ctx, oldLease); err != nil {
		t.Fatalf("Revoke: %v", err)
	}

	testlog.Eventually(t, 10*time.Second, func() error {
		resp, err := cli.Get(ctx, reg.Key())
		if err != nil {
			return err
		}
		if len(resp.Kvs) != 1 {
			return errors.New("key not present")
		}
		if l := clientv3.LeaseID(resp.Kvs[0].Lease); l == oldLease || l == 0 {
			return errors.New("key not re-put under a new lease")
		}
		return nil
	})

	if !strings.Contains(logs.String(), `"level":"WARN","msg":"discovery: lease lost, re-registering"`) {
		t.Errorf("lease loss not logged at warn; logs:\n%s", logs.String())
	}

	// The new lease is kept alive: the key outlives several TTLs.
	resp, err = cli.Get(ctx, reg.Key())
	if err != nil {
		t.Fatal(err)
	}
	newLease := clientv3.LeaseID(resp.Kvs[0].Lease)
	ttl, err := cli.TimeToLive(ctx, newLease)
	if err != nil {
		t.Fatal(err)
	}
	if ttl.TTL <= 0 {
		t.Fatalf("new lease TTL = %d, want > 0", ttl.TTL)
	}

	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := reg.Deregister(dctx); err != nil {
		t.Fatalf("Deregister: %v", err)
	}
	if ttl, err := cli.TimeToLive(ctx, newLease); err != nil || ttl.TTL != -1 {
		t.Errorf("lease after Deregister: TTL %v, err %v; want revoked (-1)", ttl.TTL, err)
	}
}

// TestDeletedKeyIsRestored covers a key deleted behind the replica's back
// while its lease lives: it is put back under the same lease, and clients
// route to the replica again.
func TestDeletedKeyIsRestored(t *testing.T) {
	t.Parallel()
	cli := etcdtest.Client(t, etcdtest.Start(t))
	var logs testlog.Buffer
	lg := slog.New(slog.NewJSONHandler(&logs, nil))
	a, b := startServer(t), startServer(t)
	regA := register(t, cli, "echo", a, discovery.WithLogger(lg))
	register(t, cli, "echo", b)
	conn := dial(t, cli, "echo")
	onlyServes(t, conn, 5*time.Second, a, b)
	ctx := context.Background()

	resp, err := cli.Get(ctx, regA.Key())
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("Get(%s) = %v, %v; want one key", regA.Key(), resp, err)
	}
	lease := resp.Kvs[0].Lease

	for round := range 2 { // the watch keeps working after a restore
		if _, err := cli.Delete(ctx, regA.Key()); err != nil {
			t.Fatalf("round %d: Delete: %v", round, err)
		}
		testlog.Eventually(t, 3*time.Second, func() error {
			resp, err := cli.Get(ctx, regA.Key())
			if err != nil {
				return err
			}
			if len(resp.Kvs) != 1 {
				return errors.New("key not restored")
			}
			if got := resp.Kvs[0].Lease; got != lease {
				return fmt.Errorf("key restored under lease %x, want the same lease %x", got, lease)
			}
			return nil
		})
		onlyServes(t, conn, 5*time.Second, a, b)
	}
	if logs.Find("discovery: key missing, restoring it", map[string]string{"level": "WARN", "key": regA.Key()}) == nil {
		t.Errorf("restore not logged at warn; logs:\n%s", logs.String())
	}

	// Deregister stops the watch before deleting: the key stays deleted.
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := regA.Deregister(dctx); err != nil {
		t.Fatalf("Deregister: %v", err)
	}
	if err := endpointsEqual(t, cli, "echo", b)(); err != nil {
		t.Fatalf("after Deregister: %v", err)
	}
}

func TestClientsSurviveEtcdOutage(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	px := etcdtest.NewProxy(t, srv.Endpoints()[0])
	cli := px.Client(t)
	a, b := startServer(t), startServer(t)
	register(t, cli, "echo", a)
	register(t, cli, "echo", b)
	conn := dial(t, cli, "echo")
	onlyServes(t, conn, 5*time.Second, a, b)

	// etcd becomes unreachable at once, then goes away for good.
	px.Cut()
	srv.Close()

	// Well past the lease TTL, clients still use the last known replicas.
	deadline := time.Now().Add(2 * testTTL * time.Second)
	for time.Now().Before(deadline) {
		got, err := hits(context.Background(), conn, 4)
		if err != nil {
			t.Fatalf("RPC with etcd down: %v", err)
		}
		if got[a] != 2 || got[b] != 2 {
			t.Fatalf("with etcd down calls reached %v, want both %s and %s", got, a, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestEndpointsEmpty(t *testing.T) {
	t.Parallel()
	cli := etcdtest.Client(t, etcdtest.Start(t))
	got, err := discovery.Endpoints(context.Background(), cli, "nobody")
	if err != nil || len(got) != 0 {
		t.Fatalf("Endpoints(nobody) = %v, %v; want empty", got, err)
	}
}
