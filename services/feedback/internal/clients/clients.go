// Package clients adapts the other services' gRPC APIs to the feedback
// domain's ports: customer tiers from segmentation and loyalty, contacts
// recorded in profile, promoters' points given by loyalty, escalation
// webhooks.
package clients

import (
	"context"
	"errors"
	"fmt"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	"github.com/tenurehq/tenure/services/feedback/internal/feedback"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// LoyaltyTiers answers a customer's loyalty tier; "" when it has none.
// Loyalty implements it; without etcd Customers has none and every loyalty
// tier is empty.
type LoyaltyTiers interface {
	Tier(ctx context.Context, customerID string) (string, error)
}

// Customers implements feedback.Customers over segmentation's scores and
// an optional loyalty tier source.
type Customers struct {
	Segmentation segmentationv1.SegmentationServiceClient
	Loyalty      LoyaltyTiers
}

var _ feedback.Customers = Customers{}

// Context implements feedback.Customers. A customer segmentation has not
// scored (or no recompute yet) has empty tiers, not an error.
func (c Customers) Context(ctx context.Context, customerID string) (feedback.CustomerContext, error) {
	var out feedback.CustomerContext
	segErr := c.scores(ctx, customerID, &out)
	if c.Loyalty != nil {
		tier, err := c.Loyalty.Tier(ctx, customerID)
		if err != nil {
			return out, errors.Join(segErr, fmt.Errorf("clients: loyalty tier: %w", err))
		}
		out.LoyaltyTier = tier
	}
	return out, segErr
}

// scores sets out's value tier and lifecycle stage from segmentation.
func (c Customers) scores(ctx context.Context, customerID string, out *feedback.CustomerContext) error {
	if c.Segmentation == nil {
		return nil
	}
	resp, err := c.Segmentation.GetCustomerScores(ctx, &segmentationv1.GetCustomerScoresRequest{Name: "customers/" + customerID + "/scores"})
	switch status.Code(err) {
	case codes.OK:
		out.ValueTier, out.LifecycleStage = resp.GetScores().GetValueTier(), resp.GetScores().GetLifecycleStage()
	case codes.NotFound, codes.FailedPrecondition:
	default:
		return fmt.Errorf("clients: segmentation scores: %w", err)
	}
	return nil
}

// Profile implements feedback.Contacts over profile's RecordEvent.
type Profile struct {
	Client profilev1.ProfileServiceClient
}

var _ feedback.Contacts = Profile{}

// RecordContact implements feedback.Contacts: a service_contacted event
// whose id derives from the ticket, so a retry is a duplicate profile
// ignores.
func (p Profile) RecordContact(ctx context.Context, t *feedback.Ticket) error {
	_, err := p.Client.RecordEvent(ctx, &profilev1.RecordEventRequest{Event: &profilev1.Event{
		EventId: feedback.ContactEventID(t.ID), CustomerId: t.CustomerID, OccurredAt: timestamppb.New(t.CreateTime),
		Payload: &profilev1.Event_ServiceContacted{ServiceContacted: &profilev1.ServiceContacted{
			Channel: string(t.Channel), Topic: string(t.Type)}},
	}})
	if err != nil {
		return fmt.Errorf("clients: record contact: %w", err)
	}
	return nil
}
