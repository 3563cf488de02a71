package clients

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	loyaltyv1 "github.com/tenurehq/tenure/gen/tenure/loyalty/v1"
	"github.com/tenurehq/tenure/services/feedback/internal/feedback"
	"github.com/tenurehq/tenure/services/platform/apierr"
	"github.com/tenurehq/tenure/services/platform/idempotency"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// RewardOperator is the operator loyalty records on a promoter's points.
const RewardOperator = "feedback"

// reasonMemberNotFound is loyalty's reason for a customer that is not a
// member of its programme.
const reasonMemberNotFound = "MEMBER_NOT_FOUND"

// Loyalty thanks promoters with points (AdjustPoints) and tells a
// customer's loyalty tier (GetMember), through loyalty's API.
type Loyalty struct {
	Client loyaltyv1.LoyaltyServiceClient
}

var (
	_ feedback.Rewards = Loyalty{}
	_ LoyaltyTiers     = Loyalty{}
)

// RewardRequestID is the loyalty request id of a promoter's thanks: one
// per survey and customer, so loyalty grants it once. Survey and customer
// ids are written out, split by a "/" no survey id holds, when they make a
// valid request id; longer ids, or customer ids with letters outside ASCII,
// give the SHA-256 of both instead.
func RewardRequestID(surveyID, customerID string) string {
	const prefix = "feedback-promoter-"
	if id := prefix + surveyID + "/" + customerID; idempotency.CheckRequestID(id) == nil {
		return id
	}
	sum := sha256.Sum256([]byte(surveyID + "/" + customerID))
	return prefix + hex.EncodeToString(sum[:])
}

func memberName(customerID string) string { return "members/" + customerID }

// Thank implements feedback.Rewards: a credit of points to the member whose
// id is the customer's, under RewardRequestID, so a second thanks
// is loyalty's answer to the first. The request id already used (for
// another amount, or forgotten with an erased customer) or still in flight
// means the points were given by an earlier answer. A customer who is no
// member gets RewardNotMember; a loyalty service that cannot be reached,
// RewardUnavailable. Other failures are errors.
func (l Loyalty) Thank(ctx context.Context, surveyID, customerID string, points int64) (feedback.RewardState, error) {
	_, err := l.Client.AdjustPoints(ctx, &loyaltyv1.AdjustPointsRequest{
		Member:    memberName(customerID),
		Points:    points,
		Reason:    fmt.Sprintf("promoter in survey %s", surveyID),
		Operator:  RewardOperator,
		RequestId: RewardRequestID(surveyID, customerID),
	})
	if err == nil {
		return feedback.RewardGranted, nil
	}
	switch apierr.ReasonOf(err) {
	case reasonMemberNotFound:
		return feedback.RewardNotMember, nil
	case idempotency.ReasonKeyReused, idempotency.ReasonRequestInProgress, idempotency.ReasonRequestForgotten:
		return feedback.RewardAlreadyGranted, nil
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded: // no replica registered, reachable or in time
		return feedback.RewardUnavailable, nil
	}
	return feedback.RewardUnavailable, fmt.Errorf("clients: loyalty points: %w", err)
}

// Tier implements LoyaltyTiers: the member's tier, "" for a customer who
// is no member.
func (l Loyalty) Tier(ctx context.Context, customerID string) (string, error) {
	resp, err := l.Client.GetMember(ctx, &loyaltyv1.GetMemberRequest{Name: memberName(customerID)})
	switch {
	case err == nil:
		return resp.GetMember().GetTier(), nil
	case apierr.ReasonOf(err) == reasonMemberNotFound:
		return "", nil
	}
	return "", fmt.Errorf("clients: loyalty member: %w", err)
}
