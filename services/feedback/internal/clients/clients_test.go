package clients

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
)

// waitingSegmentation answers GetCustomerScores only when the call's
// context ends, as a connection through discovery does while no replica
// is registered.
type waitingSegmentation struct {
	segmentationv1.SegmentationServiceClient
}

func (waitingSegmentation) GetCustomerScores(ctx context.Context, _ *segmentationv1.GetCustomerScoresRequest, _ ...grpc.CallOption) (*segmentationv1.GetCustomerScoresResponse, error) {
	<-ctx.Done()
	return nil, status.FromContextError(ctx.Err()).Err()
}

type fixedTier string

func (f fixedTier) Tier(context.Context, string) (string, error) { return string(f), nil }

// With no segmentation replica known, a customer's context comes back at
// once, with UNAVAILABLE and the loyalty tier still filled in, instead of
// holding the ticket until the caller's deadline.
func TestCustomersWithoutSegmentationReplica(t *testing.T) {
	c := Customers{Segmentation: waitingSegmentation{}, SegmentationReachable: func() bool { return false }, Loyalty: fixedTier("gold")}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	start := time.Now()
	got, err := c.Context(ctx, "c-1")
	if ctx.Err() != nil {
		t.Fatalf("Context waited %v, until the deadline", time.Since(start))
	}
	if status.Code(err) != codes.Unavailable {
		t.Errorf("err = %v, want UNAVAILABLE saying no segmentation replica is registered", err)
	}
	if got.LoyaltyTier != "gold" || got.ValueTier != "" {
		t.Errorf("context = %+v, want the loyalty tier and no value tier", got)
	}
}
