package clients

import (
	"context"
	"fmt"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// EngagementEvents records outreach engagements as message_engaged events
// in profile.
type EngagementEvents struct {
	Profile profilev1.ProfileServiceClient
}

var _ outreach.EngagementEvents = EngagementEvents{}

// RecordEngaged implements outreach.EngagementEvents: the event id derives
// from the message and the action, so a retry is a duplicate profile
// ignores.
func (e EngagementEvents) RecordEngaged(ctx context.Context, en outreach.Engagement) error {
	_, err := e.Profile.RecordEvent(ctx, &profilev1.RecordEventRequest{Event: &profilev1.Event{
		EventId: en.EventID(), CustomerId: en.CustomerID, OccurredAt: timestamppb.New(en.OccurTime),
		Payload: &profilev1.Event_MessageEngaged{MessageEngaged: &profilev1.MessageEngaged{
			MessageId: en.MessageID, Channel: en.Channel.String(), Action: en.Action.String()}},
	}})
	if err != nil {
		return fmt.Errorf("clients: record engagement: %w", err)
	}
	return nil
}
