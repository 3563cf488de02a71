package clients

import (
	"context"
	"fmt"
	"strings"

	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	"github.com/tenurehq/tenure/services/feedback/internal/feedback"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Outreach sends survey invitations through the promotion service's
// outreach (SendJourneyMessage).
type Outreach struct {
	Client promotionv1.OutreachServiceClient
}

var _ feedback.Outreach = Outreach{}

// Invite implements feedback.Outreach. Outreach makes one message per
// occurrence id, so a retry of an invitation whose answer was lost finds
// the first message. A journey that is gone, not API-triggered or wanting
// other variables is refused for good; every other failure is retried.
func (o Outreach) Invite(ctx context.Context, journeyID, customerID, occurrenceID string, vars map[string]string) (string, error) {
	resp, err := o.Client.SendJourneyMessage(ctx, &promotionv1.SendJourneyMessageRequest{
		Journey: "journeys/" + journeyID, CustomerId: customerID, OccurrenceId: occurrenceID, Variables: vars})
	if err == nil {
		return strings.TrimPrefix(resp.GetMessage().GetName(), "messages/"), nil
	}
	err = fmt.Errorf("clients: outreach message: %w", err)
	switch status.Code(err) {
	case codes.NotFound, codes.FailedPrecondition, codes.InvalidArgument:
		return "", &feedback.RefusedError{Err: err}
	}
	return "", err
}
