package app_test

import (
	"testing"
	"time"

	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

// TestOutreachAPI creates, reads, lists and previews journeys over gRPC on
// both engines, and checks the errors of bad ones.
func TestOutreachAPI(t *testing.T) {
	stacktest.Engines(t, func(t *testing.T, engine string) {
		f := start(t, engine, func() time.Time { return t0 })
		c := promotionv1.NewOutreachServiceClient(stacktest.Dial(t, f.app.Addr()))
		journey := &promotionv1.Journey{
			DisplayName: "Cart reminder",
			Trigger:     &promotionv1.JourneyTrigger{Kind: promotionv1.TriggerKind_TRIGGER_KIND_CART_ABANDONED, Hours: 4},
			Delay:       durationpb.New(30 * time.Minute),
			Channels:    []promotionv1.OutreachChannel{promotionv1.OutreachChannel_OUTREACH_CHANNEL_PUSH, promotionv1.OutreachChannel_OUTREACH_CHANNEL_EMAIL},
			Templates: []*promotionv1.MessageTemplate{
				{Channel: promotionv1.OutreachChannel_OUTREACH_CHANNEL_PUSH, Text: "{{.Customer.FirstName}}, your cart is waiting"},
				{Channel: promotionv1.OutreachChannel_OUTREACH_CHANNEL_EMAIL, Subject: "Your cart", Html: "<p>Hi {{.Customer.FirstName}}</p>"},
				{Channel: promotionv1.OutreachChannel_OUTREACH_CHANNEL_EMAIL, Locale: "fr", Subject: "Votre panier"},
			},
		}
		created, err := c.CreateJourney(ctx, &promotionv1.CreateJourneyRequest{JourneyId: "cart", Journey: journey})
		if err != nil {
			t.Fatal(err)
		}
		j := created.GetJourney()
		if j.GetName() != "journeys/cart" || j.GetCreateTime().AsTime() != t0 || len(j.GetTemplates()) != 3 || j.GetDelay().AsDuration() != 30*time.Minute {
			t.Errorf("created %v", j)
		}
		got, err := c.GetJourney(ctx, &promotionv1.GetJourneyRequest{Name: "journeys/cart"})
		if err != nil || !proto.Equal(got.GetJourney(), j) {
			t.Errorf("GetJourney: got %v, %v; want %v", got.GetJourney(), err, j)
		}
		list, err := c.ListJourneys(ctx, &promotionv1.ListJourneysRequest{})
		if err != nil || len(list.GetJourneys()) != 1 {
			t.Errorf("ListJourneys: got %v, %v", list, err)
		}
		preview, err := c.PreviewJourneyMessage(ctx, &promotionv1.PreviewJourneyMessageRequest{Name: "journeys/cart",
			Channel: promotionv1.OutreachChannel_OUTREACH_CHANNEL_EMAIL, Locale: "fr"})
		if err != nil || preview.GetSubject() != "Votre panier" {
			t.Errorf("preview in French: got %v, %v", preview, err)
		}
		preview, err = c.PreviewJourneyMessage(ctx, &promotionv1.PreviewJourneyMessageRequest{Name: "journeys/cart",
			Channel: promotionv1.OutreachChannel_OUTREACH_CHANNEL_EMAIL, Locale: "de"})
		if err != nil || preview.GetSubject() != "Your cart" || preview.GetHtml() != "<p>Hi Ada</p>" {
			t.Errorf("preview falling back: got %v, %v", preview, err)
		}

		_, err = c.CreateJourney(ctx, &promotionv1.CreateJourneyRequest{JourneyId: "cart", Journey: journey})
		wantErr(t, err, codes.AlreadyExists, "JOURNEY_ALREADY_EXISTS")
		bad := proto.Clone(journey).(*promotionv1.Journey)
		bad.Templates[0].Text = "{{.Customer.Nickname}}"
		_, err = c.CreateJourney(ctx, &promotionv1.CreateJourneyRequest{JourneyId: "bad", Journey: bad})
		wantErr(t, err, codes.InvalidArgument, "INVALID_TEMPLATE", "journey.templates[0].text")
		bad = proto.Clone(journey).(*promotionv1.Journey)
		bad.Trigger.Hours = 0
		_, err = c.CreateJourney(ctx, &promotionv1.CreateJourneyRequest{JourneyId: "bad", Journey: bad})
		wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "journey.trigger.hours")
		bad = proto.Clone(journey).(*promotionv1.Journey)
		bad.AudienceFilter = "vip"
		_, err = c.CreateJourney(ctx, &promotionv1.CreateJourneyRequest{JourneyId: "bad", Journey: bad})
		wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "journey.audience_filter", "tiers/vip")
		vip := proto.Clone(journey).(*promotionv1.Journey)
		vip.AudienceFilter = "tiers/vip"
		if made, err := c.CreateJourney(ctx, &promotionv1.CreateJourneyRequest{JourneyId: "vip-cart", Journey: vip}); err != nil ||
			made.GetJourney().GetAudienceFilter() != "tiers/vip" {
			t.Errorf("journey with an audience filter: got %v, %v", made.GetJourney(), err)
		}
		_, err = c.GetJourney(ctx, &promotionv1.GetJourneyRequest{Name: "journeys/nope"})
		wantErr(t, err, codes.NotFound, "JOURNEY_NOT_FOUND")
		_, err = c.GetMessage(ctx, &promotionv1.GetMessageRequest{Name: "messages/nope"})
		wantErr(t, err, codes.NotFound, "MESSAGE_NOT_FOUND")
		_, err = c.PreviewJourneyMessage(ctx, &promotionv1.PreviewJourneyMessageRequest{Name: "journeys/cart",
			Channel: promotionv1.OutreachChannel_OUTREACH_CHANNEL_SMS})
		wantErr(t, err, codes.InvalidArgument, "INVALID_TEMPLATE", "sms")

		// A coupon promotion must be an existing code promotion.
		code := automatic(amountOffOrder(500))
		code.Kind = promotionv1.PromotionKind_PROMOTION_KIND_CODE
		f.campaign(t, "gifts", nil, map[string]*promotionv1.Promotion{"five": code, "auto": automatic(percentOff(1000))})
		for _, tc := range []struct{ coupon, mention string }{
			{"campaigns/gifts/promotions/nope", "does not exist"},
			{"campaigns/gifts/promotions/auto", "automatic"},
			{"gifts/five", "journey.coupon_promotion"},
		} {
			bad = proto.Clone(journey).(*promotionv1.Journey)
			bad.CouponPromotion = tc.coupon
			_, err = c.CreateJourney(ctx, &promotionv1.CreateJourneyRequest{JourneyId: "gift", Journey: bad})
			wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", tc.mention)
		}
		gift := proto.Clone(journey).(*promotionv1.Journey)
		gift.CouponPromotion = "campaigns/gifts/promotions/five"
		created, err = c.CreateJourney(ctx, &promotionv1.CreateJourneyRequest{JourneyId: "gift", Journey: gift})
		if err != nil || created.GetJourney().GetCouponPromotion() != "campaigns/gifts/promotions/five" {
			t.Errorf("journey with a coupon: got %v, %v", created.GetJourney(), err)
		}
	})
}
