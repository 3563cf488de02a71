package app_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc"

	feedbackv1 "github.com/tenurehq/tenure/gen/tenure/feedback/v1"
	loyaltyv1 "github.com/tenurehq/tenure/gen/tenure/loyalty/v1"
	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	"github.com/tenurehq/tenure/services/platform/discovery"
	"github.com/tenurehq/tenure/services/platform/etcdtest"
)

type readyReport struct {
	Ready    bool
	Registry string
	Missing  []string
}

// waitReady polls /readyz until it answers want with exactly missing (the
// gateway learns of replicas through a watch, a moment after they
// register), and fails the test if it never does.
func waitReady(t *testing.T, s *stack, want int, missing ...string) readyReport {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, b := s.do(t, http.MethodGet, "/readyz", nil, nil)
		r := decode[readyReport](t, b)
		if code == want && r.Ready == (want == http.StatusOK) && slices.Equal(r.Missing, missing) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz = %d %s, want %d with missing %q", code, b, want, missing)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestEtcdOutage: while etcd is unreachable a running gateway stays ready
// and keeps serving from the replicas it knows, and a gateway started
// during the outage answers by the request's deadline instead of hanging.
func TestEtcdOutage(t *testing.T) {
	srv := etcdtest.Start(t)
	admin := etcdtest.Client(t, srv)
	px := etcdtest.NewProxy(t, srv.Endpoints()[0])
	s := startStack(t, stackOptions{noBackends: true, etcd: px.Client(t)})

	fake := grpc.NewServer()
	profilev1.RegisterProfileServiceServer(fake, &fakeProfile{})
	segmentationv1.RegisterSegmentationServiceServer(fake, fakeSegmentation{})
	loyaltyv1.RegisterLoyaltyServiceServer(fake, fakeLoyalty{})
	feedbackv1.RegisterFeedbackServiceServer(fake, feedbackv1.UnimplementedFeedbackServiceServer{})
	promotionv1.RegisterPromotionServiceServer(fake, promotionv1.UnimplementedPromotionServiceServer{})
	lis := listen(t)
	go func() { _ = fake.Serve(lis) }()
	t.Cleanup(fake.Stop)
	for _, svc := range []string{"profile", "segmentation", "loyalty", "feedback", "promotion"} {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		reg, err := discovery.Register(ctx, admin, svc, lis.Addr().String())
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_ = reg.Deregister(ctx)
		})
	}
	if r := waitReady(t, s, http.StatusOK); r.Registry != "ok" {
		t.Errorf("registry = %q with etcd up, want ok", r.Registry)
	}

	px.Cut()
	for i := range 3 {
		if code, b := s.do(t, http.MethodGet, "/v1/customers/c1", nil, nil); code != http.StatusOK {
			t.Fatalf("GET %d with etcd down = %d %s, want 200 from the known replica", i, code, b)
		}
	}
	code, b := s.do(t, http.MethodGet, "/readyz", nil, nil)
	if r := decode[readyReport](t, b); code != http.StatusOK || !r.Ready {
		t.Errorf("readyz with etcd down = %d %s, want 200: the gateway can still serve", code, b)
	}

	// A gateway that starts while etcd is down knows no replica: it is not
	// ready, and its calls end by their deadline.
	down := etcdtest.NewProxy(t, "")
	fresh := startStack(t, stackOptions{noBackends: true, etcd: down.Client(t), backendTimeout: 2 * time.Second})
	waitReady(t, fresh, http.StatusServiceUnavailable, "profile", "segmentation", "loyalty", "feedback", "promotion")
	for _, h := range []http.Header{nil, {"Grpc-Timeout": {"500m"}}} {
		t.Run(fmt.Sprintf("fresh gateway, Grpc-Timeout %q", h.Get("Grpc-Timeout")), func(t *testing.T) {
			code, b := fresh.do(t, http.MethodGet, "/v1/customers/c1", nil, h)
			if code != http.StatusGatewayTimeout && code != http.StatusServiceUnavailable {
				t.Errorf("GET = %d %s, want 504 or 503", code, b)
			}
		})
	}
}
