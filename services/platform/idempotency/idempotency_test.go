package idempotency_test

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/platform/idempotency"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
)

// fakeProfile counts CreateCustomer calls per customer id. A customer id
// "fail-N" fails the first N calls; "block" waits on the block channel.
type fakeProfile struct {
	profilev1.UnimplementedProfileServiceServer

	mu      sync.Mutex
	calls   map[string]int
	entered chan struct{}
	block   chan struct{}
}

func (f *fakeProfile) CreateCustomer(ctx context.Context, req *profilev1.CreateCustomerRequest) (*profilev1.CreateCustomerResponse, error) {
	f.mu.Lock()
	f.calls[req.GetCustomerId()]++
	n := f.calls[req.GetCustomerId()]
	f.mu.Unlock()

	var fails int
	if _, err := fmt.Sscanf(req.GetCustomerId(), "fail-%d", &fails); err == nil && n <= fails {
		return nil, status.Error(codes.Unavailable, "try again")
	}
	if req.GetCustomerId() == "block" {
		f.entered <- struct{}{}
		<-f.block
	}
	return &profilev1.CreateCustomerResponse{Customer: &profilev1.Customer{
		Name:       "customers/" + req.GetCustomerId(),
		CustomerId: req.GetCustomerId(),
		FullName:   req.GetCustomer().GetFullName(),
		Etag:       fmt.Sprintf("call-%d", n), // differs per execution
	}}, nil
}

func (f *fakeProfile) DeleteCustomer(context.Context, *profilev1.DeleteCustomerRequest) (*profilev1.DeleteCustomerResponse, error) {
	return &profilev1.DeleteCustomerResponse{}, nil
}

func (f *fakeProfile) count(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[id]
}

func serve(t *testing.T, db *sqlstore.DB) (profilev1.ProfileServiceClient, *fakeProfile) {
	t.Helper()
	store := idempotency.NewStore(db)
	ctx := context.Background()
	// Migrating twice is harmless.
	for range 2 {
		if err := store.Migrate(ctx); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
	}
	fake := &fakeProfile{calls: map[string]int{}, entered: make(chan struct{}), block: make(chan struct{})}
	srv := grpc.NewServer(grpc.UnaryInterceptor(store.UnaryServerInterceptor()))
	profilev1.RegisterProfileServiceServer(srv, fake)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(lis)
	}()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		srv.Stop()
		<-served
	})
	return profilev1.NewProfileServiceClient(conn), fake
}

func create(id, name, requestID string) *profilev1.CreateCustomerRequest {
	return &profilev1.CreateCustomerRequest{
		CustomerId: id,
		Customer:   &profilev1.Customer{FullName: name},
		RequestId:  requestID,
	}
}

func wantStatus(t *testing.T, err error, code codes.Code, reason string) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != code {
		t.Fatalf("code: got %v (%v), want %v", st.Code(), err, code)
	}
	if reason == "" {
		return
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			if info.GetReason() != reason {
				t.Errorf("reason: got %q, want %q", info.GetReason(), reason)
			}
			return
		}
	}
	t.Errorf("no ErrorInfo in %v, want reason %q", err, reason)
}

func TestInterceptor(t *testing.T) {
	sqlstoretest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		client, fake := serve(t, db)
		ctx := context.Background()

		t.Run("replay returns the stored response", func(t *testing.T) {
			first, err := client.CreateCustomer(ctx, create("c1", "Ada", "r1"))
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				again, err := client.CreateCustomer(ctx, create("c1", "Ada", "r1"))
				if err != nil {
					t.Fatal(err)
				}
				if !proto.Equal(again, first) {
					t.Errorf("replay: got %v, want %v", again, first)
				}
			}
			if got := fake.count("c1"); got != 1 {
				t.Errorf("handler calls: got %d, want 1", got)
			}
		})

		t.Run("same key different request", func(t *testing.T) {
			if _, err := client.CreateCustomer(ctx, create("c2", "Bob", "r2")); err != nil {
				t.Fatal(err)
			}
			_, err := client.CreateCustomer(ctx, create("c2", "Robert", "r2"))
			wantStatus(t, err, codes.FailedPrecondition, idempotency.ReasonKeyReused)
			// Same key on another method is another request too.
			_, err = client.DeleteCustomer(ctx, &profilev1.DeleteCustomerRequest{Name: "customers/c2", RequestId: "r2"})
			wantStatus(t, err, codes.FailedPrecondition, idempotency.ReasonKeyReused)
			if got := fake.count("c2"); got != 1 {
				t.Errorf("handler calls: got %d, want 1", got)
			}
		})

		t.Run("failures are not stored", func(t *testing.T) {
			_, err := client.CreateCustomer(ctx, create("fail-2", "Cy", "r3"))
			wantStatus(t, err, codes.Unavailable, "")
			_, err = client.CreateCustomer(ctx, create("fail-2", "Cy", "r3"))
			wantStatus(t, err, codes.Unavailable, "")
			resp, err := client.CreateCustomer(ctx, create("fail-2", "Cy", "r3"))
			if err != nil {
				t.Fatalf("third attempt: %v", err)
			}
			if got, want := resp.GetCustomer().GetEtag(), "call-3"; got != want {
				t.Errorf("etag: got %q, want %q", got, want)
			}
			again, err := client.CreateCustomer(ctx, create("fail-2", "Cy", "r3"))
			if err != nil || !proto.Equal(again, resp) {
				t.Errorf("replay after success: got %v, %v; want %v", again, err, resp)
			}
			if got := fake.count("fail-2"); got != 3 {
				t.Errorf("handler calls: got %d, want 3", got)
			}
		})

		t.Run("no request id runs every time", func(t *testing.T) {
			for range 2 {
				if _, err := client.CreateCustomer(ctx, create("c4", "Di", "")); err != nil {
					t.Fatal(err)
				}
			}
			if got := fake.count("c4"); got != 2 {
				t.Errorf("handler calls: got %d, want 2", got)
			}
		})

		t.Run("duplicate in flight", func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				_, err := client.CreateCustomer(ctx, create("block", "Ed", "r5"))
				done <- err
			}()
			<-fake.entered
			_, err := client.CreateCustomer(ctx, create("block", "Ed", "r5"))
			wantStatus(t, err, codes.Aborted, idempotency.ReasonRequestInProgress)
			close(fake.block)
			if err := <-done; err != nil {
				t.Fatalf("first call: %v", err)
			}
			if _, err := client.CreateCustomer(ctx, create("block", "Ed", "r5")); err != nil {
				t.Fatalf("replay: %v", err)
			}
			if got := fake.count("block"); got != 1 {
				t.Errorf("handler calls: got %d, want 1", got)
			}
		})

		t.Run("concurrent retries run the handler once", func(t *testing.T) {
			var wg sync.WaitGroup
			results := make(chan *profilev1.CreateCustomerResponse, 20)
			for range 20 {
				wg.Go(func() {
					resp, err := client.CreateCustomer(ctx, create("c6", "Flo", "r6"))
					if err != nil {
						if status.Code(err) != codes.Aborted {
							t.Errorf("concurrent call: %v", err)
						}
						return
					}
					results <- resp
				})
			}
			wg.Wait()
			close(results)
			for resp := range results {
				if got := resp.GetCustomer().GetEtag(); got != "call-1" {
					t.Errorf("etag: got %q, want call-1", got)
				}
			}
			if got := fake.count("c6"); got != 1 {
				t.Errorf("handler calls: got %d, want 1", got)
			}
		})
	})
}
