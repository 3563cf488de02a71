package idempotency

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
)

// TestAbandonedCallIsTakenOver covers a replica that died mid-call: its
// key stays pending, and once pendingTimeout has passed a retry runs the
// handler instead of failing with REQUEST_IN_PROGRESS forever.
func TestAbandonedCallIsTakenOver(t *testing.T) {
	sqlstoretest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		s := NewStore(db)
		s.now = func() time.Time { return now }
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		req := &profilev1.CreateCustomerRequest{CustomerId: "c1", RequestId: "r1"}
		info := &grpc.UnaryServerInfo{FullMethod: profilev1.ProfileService_CreateCustomer_FullMethodName}
		fp, err := fingerprint(info.FullMethod, req)
		if err != nil {
			t.Fatal(err)
		}
		// The dead replica's claim.
		if _, _, err := s.begin(ctx, "r1", info.FullMethod, fp); err != nil {
			t.Fatal(err)
		}

		calls := 0
		handler := func(context.Context, any) (any, error) {
			calls++
			return &profilev1.CreateCustomerResponse{Customer: &profilev1.Customer{CustomerId: "c1"}}, nil
		}
		intercept := s.UnaryServerInterceptor()

		now = now.Add(pendingTimeout / 2)
		if _, err := intercept(ctx, req, info, handler); status.Code(err) != codes.Aborted {
			t.Fatalf("before the timeout: got %v, want Aborted", err)
		}
		now = now.Add(pendingTimeout)
		if _, err := intercept(ctx, req, info, handler); err != nil {
			t.Fatalf("after the timeout: %v", err)
		}
		if _, err := intercept(ctx, req, info, handler); err != nil {
			t.Fatalf("replay: %v", err)
		}
		if calls != 1 {
			t.Errorf("handler calls: got %d, want 1", calls)
		}
	})
}
