package grpcclient_test

import (
	"context"
	"encoding/json"
	"net"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
	"google.golang.org/grpc/status"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"

	"github.com/tenurehq/tenure/services/platform/grpcclient"
	"github.com/tenurehq/tenure/services/platform/grpcserver"
)

// The protos are linked through these imports; the registry finds their
// reads without a list.
var (
	_ = profilev1.File_tenure_profile_v1_profile_proto
	_ = segmentationv1.File_tenure_segmentation_v1_segmentation_proto
)

func TestReadMethodsComeFromProtoOptions(t *testing.T) {
	reads := grpcclient.ReadMethods()
	for _, m := range []string{
		"/tenure.profile.v1.ProfileService/GetCustomer",
		"/tenure.profile.v1.ProfileService/ListCustomers",
		"/tenure.profile.v1.ProfileService/StreamEvents",
		"/tenure.segmentation.v1.SegmentationService/GetReport",
		"/tenure.segmentation.v1.SegmentationService/CheckMembership",
	} {
		if !slices.Contains(reads, m) {
			t.Errorf("ReadMethods() lacks %s", m)
		}
		if !grpcclient.IsRead(m) {
			t.Errorf("IsRead(%s) = false, want true", m)
		}
	}
	for _, m := range []string{
		"/tenure.profile.v1.ProfileService/CreateCustomer",
		"/tenure.profile.v1.ProfileService/EraseCustomer",
		"/tenure.segmentation.v1.SegmentationService/RecomputeScores",
		"/grpc.health.v1.Health/Check",
		"/no.such.Service/Get",
		"garbage",
	} {
		if slices.Contains(reads, m) || grpcclient.IsRead(m) {
			t.Errorf("%s is treated as a read, want not", m)
		}
	}
}

func TestServiceConfig(t *testing.T) {
	var cfg struct {
		LoadBalancingConfig []map[string]any
		MethodConfig        []struct {
			Name        []struct{ Service, Method string }
			RetryPolicy struct {
				MaxAttempts          int
				RetryableStatusCodes []string
			}
		}
	}
	if err := json.Unmarshal([]byte(grpcclient.ServiceConfig()), &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.LoadBalancingConfig) != 1 || cfg.LoadBalancingConfig[0]["round_robin"] == nil {
		t.Errorf("loadBalancingConfig = %v, want round_robin", cfg.LoadBalancingConfig)
	}
	if len(cfg.MethodConfig) != 1 {
		t.Fatalf("methodConfig has %d entries, want 1", len(cfg.MethodConfig))
	}
	mc := cfg.MethodConfig[0]
	if len(mc.Name) != len(grpcclient.ReadMethods()) {
		t.Errorf("methodConfig names %d methods, want the %d reads", len(mc.Name), len(grpcclient.ReadMethods()))
	}
	if !slices.Contains(mc.Name, struct{ Service, Method string }{"tenure.profile.v1.ProfileService", "GetCustomer"}) {
		t.Errorf("methodConfig names lack ProfileService.GetCustomer")
	}
	if mc.RetryPolicy.MaxAttempts != grpcclient.MaxAttempts || !slices.Equal(mc.RetryPolicy.RetryableStatusCodes, []string{"UNAVAILABLE"}) {
		t.Errorf("retryPolicy = %+v, want %d attempts on UNAVAILABLE", mc.RetryPolicy, grpcclient.MaxAttempts)
	}
	// gRPC itself accepts it.
	conn, err := grpcclient.NewClient("127.0.0.1:1")
	if err != nil {
		t.Fatalf("NewClient with the service config: %v", err)
	}
	conn.Close()
}

// TestServersAcceptClientKeepalive: a server that allows pings less often
// than clients send them answers with GOAWAY and closes busy connections.
func TestServersAcceptClientKeepalive(t *testing.T) {
	if grpcserver.KeepaliveMinTime > grpcclient.KeepaliveTime {
		t.Errorf("servers allow a ping every %v, clients ping every %v: servers would reject them",
			grpcserver.KeepaliveMinTime, grpcclient.KeepaliveTime)
	}
}

// replica is a profile server that can freeze: once frozen, it accepts
// calls and never answers them, as a stopped (SIGSTOP) process would.
type replica struct {
	profilev1.UnimplementedProfileServiceServer
	addr   string
	frozen atomic.Bool
	reads  atomic.Int64
	writes atomic.Int64
}

func startReplica(t *testing.T) *replica {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &replica{addr: lis.Addr().String()}
	srv := grpc.NewServer()
	profilev1.RegisterProfileServiceServer(srv, r)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return r
}

func (r *replica) answer(ctx context.Context) error {
	if r.frozen.Load() {
		<-ctx.Done()
		return ctx.Err()
	}
	return grpc.SetHeader(ctx, metadata.Pairs("replica", r.addr))
}

func (r *replica) GetCustomer(ctx context.Context, req *profilev1.GetCustomerRequest) (*profilev1.GetCustomerResponse, error) {
	r.reads.Add(1)
	if err := r.answer(ctx); err != nil {
		return nil, err
	}
	return &profilev1.GetCustomerResponse{Customer: &profilev1.Customer{Name: req.GetName(), FullName: r.addr}}, nil
}

func (r *replica) CreateCustomer(ctx context.Context, req *profilev1.CreateCustomerRequest) (*profilev1.CreateCustomerResponse, error) {
	r.writes.Add(1)
	if err := r.answer(ctx); err != nil {
		return nil, err
	}
	return &profilev1.CreateCustomerResponse{Customer: &profilev1.Customer{CustomerId: req.GetCustomerId()}}, nil
}

// dialBoth connects to two replicas with a short hedge delay, and returns
// once calls have reached both.
func dialBoth(t *testing.T, a, b *replica) profilev1.ProfileServiceClient {
	t.Helper()
	res := manual.NewBuilderWithScheme("test")
	res.InitialState(resolver.State{Addresses: []resolver.Address{{Addr: a.addr}, {Addr: b.addr}}})
	opts := append(grpcclient.DialOptions(grpcclient.Options{HedgeDelay: 50 * time.Millisecond}), grpc.WithResolvers(res))
	conn, err := grpc.NewClient("test:///replicas", opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	client := profilev1.NewProfileServiceClient(conn)
	for a.reads.Load() == 0 || b.reads.Load() == 0 {
		if _, err := client.GetCustomer(t.Context(), &profilev1.GetCustomerRequest{Name: "customers/warm"}); err != nil {
			t.Fatalf("warm-up read: %v", err)
		}
	}
	return client
}

// TestReadsSurviveFrozenReplica: with one of two replicas frozen, every
// read is answered by the other within its deadline, and the caller's
// header and peer options describe the replica that answered.
func TestReadsSurviveFrozenReplica(t *testing.T) {
	frozen, live := startReplica(t), startReplica(t)
	client := dialBoth(t, frozen, live)
	frozen.frozen.Store(true)
	before := frozen.reads.Load()

	for i := range 6 {
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		var (
			md metadata.MD
			p  peer.Peer
		)
		resp, err := client.GetCustomer(ctx, &profilev1.GetCustomerRequest{Name: "customers/c1"}, grpc.Header(&md), grpc.Peer(&p))
		cancel()
		if err != nil {
			t.Fatalf("read %d with a frozen replica: %v", i, err)
		}
		if got := resp.GetCustomer().GetFullName(); got != live.addr {
			t.Errorf("read %d answered by %q, want the live replica %s", i, got, live.addr)
		}
		if got := md.Get("replica"); len(got) != 1 || got[0] != live.addr {
			t.Errorf("read %d: header replica = %q, want [%s]", i, got, live.addr)
		}
		if p.Addr == nil || p.Addr.String() != live.addr {
			t.Errorf("read %d: peer = %v, want %s", i, p.Addr, live.addr)
		}
	}
	if frozen.reads.Load() == before {
		t.Error("no read reached the frozen replica; the test did not exercise hedging")
	}
}

// TestWritesAreSentOnce: a write is never hedged: one routed to a frozen
// replica waits for its deadline rather than being sent to another.
func TestWritesAreSentOnce(t *testing.T) {
	frozen, live := startReplica(t), startReplica(t)
	client := dialBoth(t, frozen, live)
	frozen.frozen.Store(true)

	var ok, timedOut int64
	for i := range 4 {
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond) // ten hedge delays
		_, err := client.CreateCustomer(ctx, &profilev1.CreateCustomerRequest{CustomerId: "c1"})
		cancel()
		switch status.Code(err) {
		case codes.OK:
			ok++
		case codes.DeadlineExceeded:
			timedOut++
		default:
			t.Fatalf("write %d: %v, want OK or DeadlineExceeded", i, err)
		}
	}
	if timedOut == 0 {
		t.Error("no write reached the frozen replica; want round robin to send some there")
	}
	if got := live.writes.Load(); got != ok {
		t.Errorf("live replica received %d writes for %d successes: a write was sent twice", got, ok)
	}
	if got := frozen.writes.Load() + live.writes.Load(); got != 4 {
		t.Errorf("replicas received %d writes, want 4 (one per call)", got)
	}
}
