// Package clients adapts segmentation's and loyalty's gRPC APIs to the
// promotion domain's Audiences: one batched CheckMembership per cart, a
// member's loyalty tier, and the members of a group for freezing a holdout
// audience. Each call has its own short deadline, so an unreachable service
// makes the promotions that need it not apply instead of blocking the cart.
package clients

import (
	"context"
	"fmt"
	"time"

	loyaltyv1 "github.com/tenurehq/tenure/gen/tenure/loyalty/v1"
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	"github.com/tenurehq/tenure/services/promotion/internal/promotion"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// maxPairs is the most customer × audience pairs one CheckMembership takes.
const maxPairs = 1000

// Audiences implements promotion.Audiences.
type Audiences struct {
	Segmentation segmentationv1.SegmentationServiceClient
	Loyalty      loyaltyv1.LoyaltyServiceClient
	// Reachable, when set, says whether a replica of the named service is
	// known: a connection through discovery holds calls until one
	// registers, so without one the answer is "unavailable" at once.
	Reachable func(service string) bool
	// Timeout bounds each audience call of a cart evaluation.
	Timeout time.Duration
}

var _ promotion.Audiences = Audiences{}

func (a Audiences) reachable(service string) error {
	if a.Reachable != nil && !a.Reachable(service) {
		return status.Errorf(codes.Unavailable, "clients: no %s replica registered", service)
	}
	return nil
}

func (a Audiences) deadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if a.Timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, a.Timeout)
}

// Check implements promotion.Audiences.
func (a Audiences) Check(ctx context.Context, customerID string, names []string) ([]bool, error) {
	if err := a.reachable("segmentation"); err != nil {
		return nil, err
	}
	out := make([]bool, 0, len(names))
	for start := 0; start < len(names); start += maxPairs {
		part := names[start:min(start+maxPairs, len(names))]
		ctx, cancel := a.deadline(ctx)
		resp, err := a.Segmentation.CheckMembership(ctx, &segmentationv1.CheckMembershipRequest{CustomerIds: []string{customerID}, Audiences: part})
		cancel()
		if err != nil {
			return nil, fmt.Errorf("clients: check membership: %w", err)
		}
		if len(resp.GetMembers()) != len(part) {
			return nil, fmt.Errorf("clients: check membership answered %d of %d", len(resp.GetMembers()), len(part))
		}
		out = append(out, resp.GetMembers()...)
	}
	return out, nil
}

// LoyaltyTier implements promotion.Audiences: "" for a customer who is not
// a member.
func (a Audiences) LoyaltyTier(ctx context.Context, customerID string) (string, error) {
	if err := a.reachable("loyalty"); err != nil {
		return "", err
	}
	ctx, cancel := a.deadline(ctx)
	defer cancel()
	resp, err := a.Loyalty.GetMember(ctx, &loyaltyv1.GetMemberRequest{Name: "members/" + customerID})
	switch status.Code(err) {
	case codes.OK:
		return resp.GetMember().GetTier(), nil
	case codes.NotFound:
		return "", nil
	}
	return "", fmt.Errorf("clients: loyalty member: %w", err)
}

// Members implements promotion.Audiences, page by page.
func (a Audiences) Members(ctx context.Context, name string) ([]string, error) {
	if err := a.reachable("segmentation"); err != nil {
		return nil, err
	}
	var out []string
	token := ""
	for {
		resp, err := a.Segmentation.ListMembers(ctx, &segmentationv1.ListMembersRequest{Parent: name, PageSize: 1000, PageToken: token})
		if err != nil {
			return nil, fmt.Errorf("clients: list members of %s: %w", name, err)
		}
		out = append(out, resp.GetCustomerIds()...)
		if token = resp.GetNextPageToken(); token == "" {
			return out, nil
		}
	}
}
