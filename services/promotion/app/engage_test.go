package app_test

import (
	"testing"
	"time"

	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"
)

// TestOutreachReportAPI reads journey and campaign outreach reports over
// gRPC on both engines: a journey of a campaign with a holdout has a
// control group, one without none; and checks the errors of the report
// and engagement RPCs. The figures themselves are checked by the store
// and gateway tests.
func TestOutreachReportAPI(t *testing.T) {
	stacktest.Engines(t, func(t *testing.T, engine string) {
		f := start(t, engine, func() time.Time { return t0 })
		c := promotionv1.NewOutreachServiceClient(stacktest.Dial(t, f.app.Addr()))
		if _, err := f.promo.CreateCampaign(ctx, &promotionv1.CreateCampaignRequest{CampaignId: "spring", Campaign: &promotionv1.Campaign{
			CurrencyCode: "GBP", Objective: promotionv1.Objective_OBJECTIVE_RETENTION, HoldoutPercent: 10}}); err != nil {
			t.Fatal(err)
		}
		for id, campaign := range map[string]string{"sale": "campaigns/spring", "plain": ""} {
			if _, err := c.CreateJourney(ctx, &promotionv1.CreateJourneyRequest{JourneyId: id, Journey: &promotionv1.Journey{
				Campaign: campaign, Trigger: &promotionv1.JourneyTrigger{Kind: promotionv1.TriggerKind_TRIGGER_KIND_FIRST_ORDER},
				Channels:  []promotionv1.OutreachChannel{promotionv1.OutreachChannel_OUTREACH_CHANNEL_IN_APP},
				Templates: []*promotionv1.MessageTemplate{{Channel: promotionv1.OutreachChannel_OUTREACH_CHANNEL_IN_APP, Text: "Hi"}},
			}}); err != nil {
				t.Fatal(err)
			}
		}
		r, err := c.GetJourneyReport(ctx, &promotionv1.GetJourneyReportRequest{Name: "journeys/sale"})
		if err != nil || r.GetReport().GetName() != "journeys/sale" || !r.GetReport().GetHasControl() || r.GetReport().GetControl() == nil ||
			r.GetReport().GetAttributionWindow().AsDuration() != 7*24*time.Hour {
			t.Errorf("report of a journey with a holdout: got %v, %v", r, err)
		}
		r, err = c.GetJourneyReport(ctx, &promotionv1.GetJourneyReportRequest{Name: "journeys/plain", AttributionWindow: durationpb.New(time.Hour)})
		if err != nil || r.GetReport().GetHasControl() || r.GetReport().GetControl() != nil || r.GetReport().GetAttributionWindow().AsDuration() != time.Hour {
			t.Errorf("report of a journey without a campaign: got %v, %v", r, err)
		}
		cr, err := c.GetCampaignOutreachReport(ctx, &promotionv1.GetCampaignOutreachReportRequest{Name: "campaigns/spring"})
		if err != nil || cr.GetReport().GetName() != "campaigns/spring" || !cr.GetReport().GetHasControl() {
			t.Errorf("campaign outreach report: got %v, %v", cr, err)
		}

		_, err = c.GetJourneyReport(ctx, &promotionv1.GetJourneyReportRequest{Name: "journeys/nope"})
		wantErr(t, err, codes.NotFound, "JOURNEY_NOT_FOUND")
		_, err = c.GetJourneyReport(ctx, &promotionv1.GetJourneyReportRequest{Name: "journeys/sale", AttributionWindow: durationpb.New(100 * 24 * time.Hour)})
		wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "attribution_window")
		_, err = c.GetCampaignOutreachReport(ctx, &promotionv1.GetCampaignOutreachReportRequest{Name: "campaigns/nope"})
		wantErr(t, err, codes.NotFound, "CAMPAIGN_NOT_FOUND")
		_, err = c.GetCampaignOutreachReport(ctx, &promotionv1.GetCampaignOutreachReportRequest{Name: "journeys/sale"})
		wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "name")

		_, err = c.RecordEngagement(ctx, &promotionv1.RecordEngagementRequest{})
		wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "credential")
		_, err = c.RecordEngagement(ctx, &promotionv1.RecordEngagementRequest{Credential: &promotionv1.RecordEngagementRequest_LinkToken{LinkToken: "a.b"}})
		wantErr(t, err, codes.FailedPrecondition, "ENGAGEMENT_NOT_CONFIGURED")
	})
}
