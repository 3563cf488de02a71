package idempotency

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
)

// fakeClock is a clock the test moves by hand; stores read it from their
// heartbeat goroutines too.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// replica is one process's Store whose heartbeats tick only when the test
// says so: a replica never ticked is one that died mid-call.
type replica struct {
	*Store
	tick chan time.Time
	done chan struct{}
}

func newReplica(t *testing.T, db *sqlstore.DB, clk *fakeClock) *replica {
	t.Helper()
	r := &replica{Store: NewStore(db, WithClock(clk.Now)), tick: make(chan time.Time), done: make(chan struct{})}
	r.refreshed = r.done
	r.ticker = func(time.Duration) (<-chan time.Time, func()) { return r.tick, func() {} }
	if err := r.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}

// beat delivers one heartbeat tick to the replica's call in flight and
// waits until the refresh it causes has been written.
func (r *replica) beat() {
	r.tick <- time.Time{}
	<-r.done
}

var createInfo = &grpc.UnaryServerInfo{FullMethod: profilev1.ProfileService_CreateCustomer_FullMethodName}

func createReq() *profilev1.CreateCustomerRequest {
	return &profilev1.CreateCustomerRequest{CustomerId: "c1", RequestId: "r1"}
}

// countingHandler answers with the number of the call in the etag, and
// blocks the calls for which block returns a channel until it is closed.
type countingHandler struct {
	calls   atomic.Int64
	entered chan struct{}
	release chan struct{}
	blockN  int64 // the call that blocks; 0 for none
}

func (h *countingHandler) handle(context.Context, any) (any, error) {
	n := h.calls.Add(1)
	if n == h.blockN {
		h.entered <- struct{}{}
		<-h.release
	}
	return &profilev1.CreateCustomerResponse{Customer: &profilev1.Customer{CustomerId: "c1", Etag: fmt.Sprint("call-", n)}}, nil
}

func wantCode(t *testing.T, err error, code codes.Code, reason string) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != code {
		t.Fatalf("got %v, want %v", err, code)
	}
	for _, d := range st.Details() {
		if info, ok := d.(interface{ GetReason() string }); ok && info.GetReason() != reason {
			t.Fatalf("reason: got %q, want %q", info.GetReason(), reason)
		}
	}
}

// TestAbandonedCallIsTakenOver covers a replica that died mid-call: its
// key stays pending, and once its heartbeat is ClaimTimeout old a retry
// runs the handler instead of failing with REQUEST_IN_PROGRESS.
func TestAbandonedCallIsTakenOver(t *testing.T) {
	sqlstoretest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		clk := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		s := newReplica(t, db, clk)
		fp, err := fingerprint(createInfo.FullMethod, createReq())
		if err != nil {
			t.Fatal(err)
		}
		// The dead replica's claim.
		if _, _, err := s.begin(ctx, "r1", createInfo.FullMethod, fp, nil); err != nil {
			t.Fatal(err)
		}

		h := &countingHandler{}
		intercept := s.UnaryServerInterceptor()
		clk.Advance(ClaimTimeout / 2)
		_, err = intercept(ctx, createReq(), createInfo, h.handle)
		wantCode(t, err, codes.Aborted, ReasonRequestInProgress)
		clk.Advance(ClaimTimeout)
		if _, err := intercept(ctx, createReq(), createInfo, h.handle); err != nil {
			t.Fatalf("after the timeout: %v", err)
		}
		if _, err := intercept(ctx, createReq(), createInfo, h.handle); err != nil {
			t.Fatalf("replay: %v", err)
		}
		if got := h.calls.Load(); got != 1 {
			t.Errorf("handler calls: got %d, want 1", got)
		}
	})
}

// TestCrashedReplicaIsTakenOverWithinClaimTimeout claims a key on replica
// A, which then stops (no heartbeat, never finishes), and retries on
// replica B: the retry is refused until A's last heartbeat is exactly
// ClaimTimeout old and runs the handler from then on. When A resumes after
// all (a frozen process), its response is not stored over B's.
func TestCrashedReplicaIsTakenOverWithinClaimTimeout(t *testing.T) {
	sqlstoretest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		clk := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		a, b := newReplica(t, db, clk), newReplica(t, db, clk)
		h := &countingHandler{blockN: 1, entered: make(chan struct{}), release: make(chan struct{})}

		aDone := make(chan error, 1)
		go func() {
			_, err := a.UnaryServerInterceptor()(ctx, createReq(), createInfo, h.handle)
			aDone <- err
		}()
		<-h.entered // A holds the claim and is stuck in its handler
		clk.Advance(2 * time.Second)
		a.beat() // A's last heartbeat
		clk.Advance(ClaimTimeout - time.Nanosecond)

		intercept := b.UnaryServerInterceptor()
		_, err := intercept(ctx, createReq(), createInfo, h.handle)
		wantCode(t, err, codes.Aborted, ReasonRequestInProgress)

		clk.Advance(time.Nanosecond)
		resp, err := intercept(ctx, createReq(), createInfo, h.handle)
		if err != nil {
			t.Fatalf("retry once A's heartbeat is ClaimTimeout old: %v", err)
		}
		if got := resp.(*profilev1.CreateCustomerResponse).GetCustomer().GetEtag(); got != "call-2" {
			t.Errorf("retry's etag: got %q, want call-2", got)
		}

		close(h.release) // A wakes up and finishes
		if err := <-aDone; err != nil {
			t.Fatalf("A: %v", err)
		}
		replay, err := intercept(ctx, createReq(), createInfo, h.handle)
		if err != nil || !proto.Equal(replay.(proto.Message), resp.(proto.Message)) {
			t.Errorf("replay: got %v, %v; want B's response %v", replay, err, resp)
		}
		if got := h.calls.Load(); got != 2 {
			t.Errorf("handler calls: got %d, want 2 (A, then B)", got)
		}
	})
}

// TestLiveClaimKeepsItsKey checks that a call whose heartbeat keeps going
// keeps its key however long it runs, and that concurrent retries after a
// crash take the key over exactly once.
func TestLiveClaimKeepsItsKey(t *testing.T) {
	sqlstoretest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		clk := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		a, b := newReplica(t, db, clk), newReplica(t, db, clk)
		h := &countingHandler{blockN: 1, entered: make(chan struct{}), release: make(chan struct{})}

		aDone := make(chan any, 1)
		go func() {
			resp, _ := a.UnaryServerInterceptor()(ctx, createReq(), createInfo, h.handle)
			aDone <- resp
		}()
		<-h.entered
		for range 3 { // 3 × 4 s, far past ClaimTimeout since the claim
			clk.Advance(ClaimTimeout - time.Second)
			a.beat()
			_, err := b.UnaryServerInterceptor()(ctx, createReq(), createInfo, h.handle)
			wantCode(t, err, codes.Aborted, ReasonRequestInProgress)
		}
		close(h.release)
		first := <-aDone
		replay, err := b.UnaryServerInterceptor()(ctx, createReq(), createInfo, h.handle)
		if err != nil || !proto.Equal(replay.(proto.Message), first.(proto.Message)) {
			t.Errorf("replay: got %v, %v; want %v", replay, err, first)
		}
		if got := h.calls.Load(); got != 1 {
			t.Errorf("handler calls: got %d, want 1", got)
		}

		// A dead claim on a new key, retried by many callers at once: one
		// takes it over, the others are told it is in progress.
		req := &profilev1.CreateCustomerRequest{CustomerId: "c1", RequestId: "r2"}
		fp, _ := fingerprint(createInfo.FullMethod, req)
		if _, _, err := a.begin(ctx, "r2", createInfo.FullMethod, fp, nil); err != nil {
			t.Fatal(err)
		}
		clk.Advance(ClaimTimeout)
		h2 := &countingHandler{}
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				_, err := b.UnaryServerInterceptor()(ctx, req, createInfo, h2.handle)
				if err != nil && status.Code(err) != codes.Aborted {
					t.Errorf("concurrent retry: %v", err)
				}
			})
		}
		wg.Wait()
		if got := h2.calls.Load(); got != 1 {
			t.Errorf("handler calls after concurrent takeovers: got %d, want 1", got)
		}
	})
}
