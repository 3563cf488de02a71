package idempotency_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/platform/idempotency"
	"github.com/tenurehq/tenure/services/platform/internal/testlog"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
)

// fakeProfile counts CreateCustomer calls per customer id. A customer id
// "fail-N" fails the first N calls; "block" waits on the block channel, and
// so does "block-fail", which then fails. CreateCustomer requests are about
// their customer (an idempotency.SubjectLister).
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
	if strings.HasPrefix(req.GetCustomerId(), "block") {
		f.entered <- struct{}{}
		<-f.block
		if req.GetCustomerId() == "block-fail" {
			return nil, status.Error(codes.Unavailable, "try again")
		}
	}
	return &profilev1.CreateCustomerResponse{Customer: &profilev1.Customer{
		Name:       "customers/" + req.GetCustomerId(),
		CustomerId: req.GetCustomerId(),
		FullName:   req.GetCustomer().GetFullName(),
		Etag:       fmt.Sprintf("call-%d", n), // differs per execution
	}}, nil
}

func (f *fakeProfile) IdempotencySubjects(req any) []string {
	if r, ok := req.(*profilev1.CreateCustomerRequest); ok {
		return []string{idempotency.CustomerSubject(r.GetCustomerId())}
	}
	return nil
}

func (f *fakeProfile) DeleteCustomer(context.Context, *profilev1.DeleteCustomerRequest) (*profilev1.DeleteCustomerResponse, error) {
	return &profilev1.DeleteCustomerResponse{}, nil
}

func (f *fakeProfile) count(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[id]
}

func serve(t *testing.T, db *sqlstore.DB, opts ...idempotency.Option) (profilev1.ProfileServiceClient, *fakeProfile) {
	t.Helper()
	store := idempotency.NewStore(db, opts...)
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
	wantError(t, err, code, reason, idempotency.DefaultDomain, "")
}

// wantError checks err's code and, when reason is set, its ErrorInfo
// reason and domain; when msg is set, its message.
func wantError(t *testing.T, err error, code codes.Code, reason, domain, msg string) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != code {
		t.Fatalf("code: got %v (%v), want %v", st.Code(), err, code)
	}
	if msg != "" && st.Message() != msg {
		t.Errorf("message: got %q, want %q", st.Message(), msg)
	}
	if reason == "" {
		return
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			if info.GetReason() != reason {
				t.Errorf("reason: got %q, want %q", info.GetReason(), reason)
			}
			if info.GetDomain() != domain {
				t.Errorf("domain: got %q, want %q", info.GetDomain(), domain)
			}
			return
		}
	}
	t.Errorf("no ErrorInfo in %v, want reason %q", err, reason)
}

func TestErrorsNameTheKeyAndDomain(t *testing.T) {
	db := sqlstoretest.SQLite(t)
	client, fake := serve(t, db, idempotency.WithDomain("profile.tenure.dev"))
	ctx := context.Background()

	if _, err := client.CreateCustomer(ctx, create("c1", "Ada", "k1")); err != nil {
		t.Fatal(err)
	}
	_, err := client.CreateCustomer(ctx, create("c1", "Ann", "k1"))
	wantError(t, err, codes.FailedPrecondition, idempotency.ReasonKeyReused, "profile.tenure.dev",
		`request_id "k1" was already used for a different request; use a new request_id for a new request`)

	done := make(chan error, 1)
	go func() {
		_, err := client.CreateCustomer(ctx, create("block", "Ed", "k2"))
		done <- err
	}()
	<-fake.entered
	_, err = client.CreateCustomer(ctx, create("block", "Ed", "k2"))
	wantError(t, err, codes.Aborted, idempotency.ReasonRequestInProgress, "profile.tenure.dev",
		`a request with request_id "k2" is still in progress; retry later`)
	close(fake.block)
	if err := <-done; err != nil {
		t.Fatalf("first call: %v", err)
	}
}

// clock is a settable clock for the store.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestExpiry(t *testing.T) {
	sqlstoretest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		client, fake := serve(t, db, idempotency.WithClock(clk.Now), idempotency.WithRetention(time.Hour))

		if _, err := client.CreateCustomer(ctx, create("c1", "Ada", "r1")); err != nil {
			t.Fatal(err)
		}
		clk.Advance(59 * time.Minute)
		if _, err := client.CreateCustomer(ctx, create("c1", "Ada", "r1")); err != nil {
			t.Fatal(err)
		}
		if got := fake.count("c1"); got != 1 {
			t.Fatalf("handler calls within retention: got %d, want 1", got)
		}

		// Past the retention the key is forgotten, even before a purge:
		// the same key runs again, and may carry a different request.
		clk.Advance(2 * time.Minute)
		resp, err := client.CreateCustomer(ctx, create("c1", "Ann", "r1"))
		if err != nil {
			t.Fatalf("expired key: %v", err)
		}
		if got, want := resp.GetCustomer().GetEtag(), "call-2"; got != want {
			t.Errorf("etag: got %q, want %q", got, want)
		}
		// It is remembered afresh.
		again, err := client.CreateCustomer(ctx, create("c1", "Ann", "r1"))
		if err != nil || !proto.Equal(again, resp) {
			t.Errorf("replay: got %v, %v; want %v", again, err, resp)
		}
		if got := fake.count("c1"); got != 2 {
			t.Errorf("handler calls: got %d, want 2", got)
		}
	})
}

func TestPurge(t *testing.T) {
	sqlstoretest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		clk := &clock{now: start}
		client, fake := serve(t, db, idempotency.WithClock(clk.Now))
		store := idempotency.NewStore(db, idempotency.WithClock(clk.Now))

		// More old keys than one purge batch, then one recent key.
		const old = 1100
		for i := range old {
			if _, err := client.CreateCustomer(ctx, create(fmt.Sprint("old-", i), "Ada", fmt.Sprint("old-", i))); err != nil {
				t.Fatal(err)
			}
		}
		clk.Advance(time.Hour)
		if _, err := client.CreateCustomer(ctx, create("new", "Bo", "new")); err != nil {
			t.Fatal(err)
		}

		n, err := store.Purge(ctx, start.Add(time.Minute))
		if err != nil {
			t.Fatalf("Purge: %v", err)
		}
		if n != old {
			t.Errorf("purged: got %d, want %d", n, old)
		}
		var left int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM idempotency_keys`).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left != 1 {
			t.Errorf("keys left: got %d, want 1", left)
		}
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM idempotency_subjects`).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left != 1 {
			t.Errorf("subjects left: got %d, want 1 (the recent key's)", left)
		}
		// The recent key still replays.
		if _, err := client.CreateCustomer(ctx, create("new", "Bo", "new")); err != nil {
			t.Fatal(err)
		}
		if got := fake.count("new"); got != 1 {
			t.Errorf("handler calls for the recent key: got %d, want 1", got)
		}
	})
}

func TestSweepStopsWithContext(t *testing.T) {
	db := sqlstoretest.SQLite(t)
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	client, _ := serve(t, db, idempotency.WithClock(clk.Now))
	if _, err := client.CreateCustomer(context.Background(), create("c1", "Ada", "r1")); err != nil {
		t.Fatal(err)
	}
	clk.Advance(idempotency.DefaultRetention + time.Second)
	store := idempotency.NewStore(db, idempotency.WithClock(clk.Now))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		store.Sweep(ctx, time.Hour, slog.New(slog.DiscardHandler))
	}()
	// The first purge runs at once.
	testlog.Eventually(t, 5*time.Second, func() error {
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM idempotency_keys`).Scan(&n); err != nil {
			return err
		}
		if n != 0 {
			return fmt.Errorf("keys left after the first sweep: got %d, want 0", n)
		}
		return nil
	})
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Sweep did not return after its context was cancelled")
	}
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
