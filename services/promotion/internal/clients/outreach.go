package clients

import (
	"context"
	"fmt"
	"strings"
	"time"

	loyaltyv1 "github.com/tenurehq/tenure/gen/tenure/loyalty/v1"
	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	"github.com/tenurehq/tenure/services/promotion/internal/attribution"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
	"github.com/tenurehq/tenure/services/promotion/internal/promotion"
)

// Campaigns gives a journey's campaign, for its holdout.
type Campaigns interface {
	GetCampaign(ctx context.Context, id string) (*promotion.Campaign, error)
}

// Contacts reads a customer at send time from profile: consent per
// channel, time zone, addresses and template fields; and whether the
// customer is in the control group of the journey's campaign.
type Contacts struct {
	Profile   profilev1.ProfileServiceClient
	Campaigns Campaigns
	// Loyalty, when set, gives points-expiring messages the member's
	// points balance.
	Loyalty loyaltyv1.LoyaltyServiceClient
}

var _ outreach.Contacts = Contacts{}

// Contact implements outreach.Contacts. In-app and webhook messages need
// no channel consent of their own (the inbox is inside the shop; the
// webhook hands the message to the shop), the others the customer's
// consent in profile.
func (c Contacts) Contact(ctx context.Context, customerID string, j outreach.Journey) (outreach.Contact, error) {
	resp, err := c.Profile.GetCustomer(ctx, &profilev1.GetCustomerRequest{Name: "customers/" + customerID})
	if err != nil {
		return outreach.Contact{}, fmt.Errorf("clients: profile customer %s: %w", customerID, err)
	}
	cu := resp.GetCustomer()
	granted := profilev1.ConsentState_CONSENT_STATE_GRANTED
	consent := map[outreach.Channel]bool{
		outreach.ChannelEmail: cu.GetConsent().GetEmail() == granted, outreach.ChannelSMS: cu.GetConsent().GetSms() == granted,
		outreach.ChannelPush: cu.GetConsent().GetPush() == granted, outreach.ChannelInApp: true, outreach.ChannelWebhook: true,
	}
	out := outreach.Contact{
		Recipient: outreach.Recipient{Consent: func(ch outreach.Channel) bool { return consent[ch] }},
		Addresses: map[outreach.Channel]string{outreach.ChannelEmail: cu.GetEmail(), outreach.ChannelSMS: cu.GetPhone()},
		Data: outreach.Data{Customer: outreach.CustomerData{ID: customerID, FirstName: firstName(cu.GetFullName()),
			FullName: cu.GetFullName(), Email: cu.GetEmail()}},
	}
	if tz := cu.GetTimeZone(); tz != "" {
		if loc, err := time.LoadLocation(tz); err == nil {
			out.Zone = loc
		}
	}
	if j.Trigger.Kind == outreach.TriggerPointsExpiring && c.Loyalty != nil {
		if out.Data.Points, err = pointsBalance(ctx, c.Loyalty, customerID); err != nil {
			return outreach.Contact{}, err
		}
	}
	if j.Campaign != "" && c.Campaigns != nil {
		camp, err := c.Campaigns.GetCampaign(ctx, j.Campaign)
		if err != nil {
			return outreach.Contact{}, err
		}
		out.Holdout = camp.HoldoutPercent > 0 && attribution.InHoldout(camp.ID, customerID, camp.HoldoutPercent)
	}
	return out, nil
}

func firstName(full string) string {
	name, _, _ := strings.Cut(strings.TrimSpace(full), " ")
	return name
}

// AudienceChanges lists segmentation's audience changes for outreach's
// audience triggers.
type AudienceChanges struct {
	Client segmentationv1.AudienceChangeServiceClient
}

var _ outreach.ChangeSource = AudienceChanges{}

// Changes implements outreach.ChangeSource.
func (a AudienceChanges) Changes(ctx context.Context, afterOperation string, audiences []string, pageToken string) ([]outreach.AudienceChange, string, error) {
	after := ""
	if afterOperation != "" {
		after = "operations/" + afterOperation
	}
	resp, err := a.Client.ListAudienceChanges(ctx, &segmentationv1.ListAudienceChangesRequest{Parent: "operations/-",
		AfterOperation: after, Audiences: audiences, PageToken: pageToken, PageSize: 1000})
	if err != nil {
		return nil, "", fmt.Errorf("clients: audience changes: %w", err)
	}
	out := make([]outreach.AudienceChange, 0, len(resp.GetAudienceChanges()))
	for _, c := range resp.GetAudienceChanges() {
		out = append(out, outreach.AudienceChange{Operation: strings.TrimPrefix(c.GetOperation(), "operations/"),
			Audience: c.GetAudience(), CustomerID: c.GetCustomerId(),
			Entered: c.GetKind() == segmentationv1.AudienceChangeKind_AUDIENCE_CHANGE_KIND_ENTERED, At: c.GetAsOfTime().AsTime()})
	}
	return out, resp.GetNextPageToken(), nil
}

// Recommendations reads a customer's recommended items from segmentation,
// for outreach templates that show them.
type Recommendations struct {
	Client segmentationv1.RecommendationServiceClient
}

var _ outreach.Recommender = Recommendations{}

// Recommend implements outreach.Recommender.
func (r Recommendations) Recommend(ctx context.Context, customerID string, n int) ([]outreach.RecommendedItem, error) {
	resp, err := r.Client.GetCustomerRecommendations(ctx, &segmentationv1.GetCustomerRecommendationsRequest{
		Name: "customers/" + customerID + "/recommendations", PageSize: int32(n)})
	if err != nil {
		return nil, fmt.Errorf("clients: recommendations for %s: %w", customerID, err)
	}
	out := make([]outreach.RecommendedItem, 0, len(resp.GetItems()))
	for _, it := range resp.GetItems() {
		out = append(out, outreach.RecommendedItem{SKU: it.GetSku(), Score: it.GetScore(), Reason: it.GetReason()})
	}
	return out, nil
}
