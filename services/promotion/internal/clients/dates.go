package clients

import (
	"context"
	"fmt"
	"strings"
	"time"

	loyaltyv1 "github.com/tenurehq/tenure/gen/tenure/loyalty/v1"
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// callTimeout bounds each call of the outreach triggers, so that a service
// with no replica registered fails the run instead of holding it.
const callTimeout = 30 * time.Second

// Membership reads segmentation's audiences for journeys' audience
// filters.
type Membership struct {
	Client segmentationv1.SegmentationServiceClient
}

var _ outreach.Membership = Membership{}

// InAudience implements outreach.Membership, maxPairs customers per
// CheckMembership.
func (m Membership) InAudience(ctx context.Context, audience string, customerIDs []string) ([]bool, error) {
	out := make([]bool, 0, len(customerIDs))
	for start := 0; start < len(customerIDs); start += maxPairs {
		part := customerIDs[start:min(start+maxPairs, len(customerIDs))]
		call, cancel := context.WithTimeout(ctx, callTimeout)
		resp, err := m.Client.CheckMembership(call, &segmentationv1.CheckMembershipRequest{CustomerIds: part, Audiences: []string{audience}})
		cancel()
		if err != nil {
			return nil, fmt.Errorf("clients: check membership of %s: %w", audience, err)
		}
		if len(resp.GetMembers()) != len(part) {
			return nil, fmt.Errorf("clients: check membership answered %d of %d", len(resp.GetMembers()), len(part))
		}
		out = append(out, resp.GetMembers()...)
	}
	return out, nil
}

// Members implements outreach.Membership.
func (m Membership) Members(ctx context.Context, audience, pageToken string) ([]string, string, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	resp, err := m.Client.ListMembers(ctx, &segmentationv1.ListMembersRequest{Parent: audience, PageSize: 1000, PageToken: pageToken})
	if err != nil {
		return nil, "", fmt.Errorf("clients: list members of %s: %w", audience, err)
	}
	return resp.GetCustomerIds(), resp.GetNextPageToken(), nil
}

// ExpiringPoints reads loyalty's members whose points expire soon.
type ExpiringPoints struct {
	Client loyaltyv1.LoyaltyServiceClient
}

var _ outreach.PointsSource = ExpiringPoints{}

// ExpiringPoints implements outreach.PointsSource, 500 members a page.
func (e ExpiringPoints) ExpiringPoints(ctx context.Context, withinDays int, pageToken string) ([]outreach.ExpiringPoints, string, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	resp, err := e.Client.ListExpiringPoints(ctx, &loyaltyv1.ListExpiringPointsRequest{WithinDays: int32(withinDays), PageSize: 500, PageToken: pageToken})
	if err != nil {
		return nil, "", fmt.Errorf("clients: expiring points: %w", err)
	}
	out := make([]outreach.ExpiringPoints, 0, len(resp.GetMembers()))
	for _, m := range resp.GetMembers() {
		out = append(out, outreach.ExpiringPoints{CustomerID: strings.TrimPrefix(m.GetMember(), "members/"), Points: m.GetPoints(),
			Expiry: m.GetEarliestExpireTime().AsTime()})
	}
	return out, resp.GetNextPageToken(), nil
}

// pointsBalance returns a member's available points, 0 for a customer who
// is not a member.
func pointsBalance(ctx context.Context, c loyaltyv1.LoyaltyServiceClient, customerID string) (int64, error) {
	resp, err := c.GetMember(ctx, &loyaltyv1.GetMemberRequest{Name: "members/" + customerID})
	switch status.Code(err) {
	case codes.OK:
		return resp.GetMember().GetAvailablePoints(), nil
	case codes.NotFound:
		return 0, nil
	}
	return 0, fmt.Errorf("clients: loyalty member %s: %w", customerID, err)
}
