package grpcapi

import (
	"context"
	"fmt"
	"time"

	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	"github.com/tenurehq/tenure/services/platform/fielderr"
	"github.com/tenurehq/tenure/services/platform/resourcename"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
	"github.com/tenurehq/tenure/services/promotion/internal/promotion"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"
)

var (
	journeyNames = resourcename.MustCompile("journeys/{journey_id}")
	messageNames = resourcename.MustCompile("messages/{message_id}")
)

// OutreachServer implements promotionv1.OutreachServiceServer.
type OutreachServer struct {
	promotionv1.UnsafeOutreachServiceServer

	journeys outreach.Journeys
	messages outreach.MessageStore
	history  outreach.CustomerMessages
	inbox    outreach.Inbox
	sends    outreach.Sends

	engagements *outreach.Engagements
	reports     outreach.Reports
}

// NewOutreach returns an OutreachServer over the journey use cases, the
// message store, the customers' messages and the in-app inbox.
func NewOutreach(journeys outreach.Journeys, messages outreach.MessageStore, history outreach.CustomerMessages, inbox outreach.Inbox) *OutreachServer {
	return &OutreachServer{journeys: journeys, messages: messages, history: history, inbox: inbox,
		sends: outreach.Sends{Journeys: journeys.Store, Messages: messages, Clock: journeys.Clock}}
}

// Register registers s on g.
func (s *OutreachServer) Register(g *grpc.Server) { promotionv1.RegisterOutreachServiceServer(g, s) }

// CreateJourney implements promotionv1.OutreachServiceServer.
func (s *OutreachServer) CreateJourney(ctx context.Context, req *promotionv1.CreateJourneyRequest) (*promotionv1.CreateJourneyResponse, error) {
	if req.GetJourney() == nil {
		return nil, &fielderr.Error{Path: "journey", Problem: "is required", Fix: "send the journey's trigger, channels and templates"}
	}
	d, err := toJourney(req.GetJourneyId(), req.GetJourney())
	if err != nil {
		return nil, err
	}
	created, err := s.journeys.Create(ctx, d)
	if err != nil {
		return nil, err
	}
	return &promotionv1.CreateJourneyResponse{Journey: fromJourney(created)}, nil
}

// GetJourney implements promotionv1.OutreachServiceServer.
func (s *OutreachServer) GetJourney(ctx context.Context, req *promotionv1.GetJourneyRequest) (*promotionv1.GetJourneyResponse, error) {
	id, err := journeyNames.ParseID("name", req.GetName())
	if err != nil {
		return nil, err
	}
	d, err := s.journeys.Store.GetJourney(ctx, id)
	if err != nil {
		return nil, err
	}
	return &promotionv1.GetJourneyResponse{Journey: fromJourney(d)}, nil
}

// ListJourneys implements promotionv1.OutreachServiceServer.
func (s *OutreachServer) ListJourneys(ctx context.Context, req *promotionv1.ListJourneysRequest) (*promotionv1.ListJourneysResponse, error) {
	ds, next, err := s.journeys.List(ctx, int(req.GetPageSize()), req.GetPageToken(), req.GetShowDeleted())
	if err != nil {
		return nil, err
	}
	out := &promotionv1.ListJourneysResponse{NextPageToken: next}
	for _, d := range ds {
		out.Journeys = append(out.Journeys, fromJourney(d))
	}
	return out, nil
}

// PreviewJourneyMessage implements promotionv1.OutreachServiceServer.
func (s *OutreachServer) PreviewJourneyMessage(ctx context.Context, req *promotionv1.PreviewJourneyMessageRequest) (*promotionv1.PreviewJourneyMessageResponse, error) {
	id, err := journeyNames.ParseID("name", req.GetName())
	if err != nil {
		return nil, err
	}
	ch, err := toChannel("channel", req.GetChannel())
	if err != nil {
		return nil, err
	}
	r, err := s.journeys.Preview(ctx, id, ch, req.GetLocale(), nil)
	if err != nil {
		return nil, err
	}
	return &promotionv1.PreviewJourneyMessageResponse{Subject: r.Subject, Text: r.Text, Html: r.HTML}, nil
}

// SendJourneyMessage implements promotionv1.OutreachServiceServer.
func (s *OutreachServer) SendJourneyMessage(ctx context.Context, req *promotionv1.SendJourneyMessageRequest) (*promotionv1.SendJourneyMessageResponse, error) {
	id, err := journeyNames.ParseID("journey", req.GetJourney())
	if err != nil {
		return nil, err
	}
	m, created, err := s.sends.Send(ctx, outreach.SendRequest{JourneyID: id, CustomerID: req.GetCustomerId(),
		OccurrenceID: req.GetOccurrenceId(), Vars: req.GetVariables()})
	if err != nil {
		return nil, err
	}
	return &promotionv1.SendJourneyMessageResponse{Message: fromMessage(m, nil), Created: created}, nil
}

// GetMessage implements promotionv1.OutreachServiceServer.
func (s *OutreachServer) GetMessage(ctx context.Context, req *promotionv1.GetMessageRequest) (*promotionv1.GetMessageResponse, error) {
	id, err := messageNames.ParseID("name", req.GetName())
	if err != nil {
		return nil, err
	}
	m, err := s.messages.GetMessage(ctx, id)
	if err != nil {
		return nil, err
	}
	return &promotionv1.GetMessageResponse{Message: fromMessage(m, nil)}, nil
}

// The API's enums number their values as the domain's do (checked in
// outreach_test.go), so conversions are casts after a range check.

func toChannel(path string, c promotionv1.OutreachChannel) (outreach.Channel, error) {
	ch := outreach.Channel(c)
	if !ch.Valid() {
		return 0, fielderr.New(path, "must be one of OUTREACH_CHANNEL_EMAIL, _SMS, _PUSH, _IN_APP or _WEBHOOK")
	}
	return ch, nil
}

// toJourney converts a journey from the API; the domain validates it.
func toJourney(id string, in *promotionv1.Journey) (outreach.JourneyDef, error) {
	tr := in.GetTrigger()
	d := outreach.JourneyDef{
		Journey: outreach.Journey{ID: id, Delay: in.GetDelay().AsDuration(), Transactional: in.GetTransactional(), AudienceFilter: in.GetAudienceFilter(),
			Trigger: outreach.Trigger{Kind: outreach.TriggerKind(tr.GetKind()), Hours: int(tr.GetHours()), Days: int(tr.GetDays()),
				LocalMinute: int(tr.GetLocalMinute()), Audience: tr.GetAudience()}},
		DisplayName: in.GetDisplayName(),
	}
	d.Variables = in.GetVariables()
	if c := in.GetCampaign(); c != "" {
		cid, err := promotion.CampaignNames.ParseID("journey.campaign", c)
		if err != nil {
			return d, err
		}
		d.Campaign = cid
	}
	if p := in.GetCouponPromotion(); p != "" {
		ids, err := promotion.PromotionNames.Parse("journey.coupon_promotion", p)
		if err != nil {
			return d, err
		}
		d.Coupon = outreach.CouponPool{CampaignID: ids[0], PromotionID: ids[1]}
	}
	for i, h := range tr.GetHolidays() {
		date, err := time.Parse(time.DateOnly, h.GetDate())
		if err != nil {
			return d, fielderr.New(fmt.Sprintf("journey.trigger.holidays[%d].date", i), "must be a date YYYY-MM-DD, got %q", h.GetDate())
		}
		d.Trigger.Holidays = append(d.Trigger.Holidays, outreach.Holiday{Name: h.GetDisplayName(), Date: date})
	}
	for _, c := range in.GetChannels() {
		d.Channels = append(d.Channels, outreach.Channel(c)) // checked by the domain
	}
	for _, t := range in.GetTemplates() {
		d.Templates = append(d.Templates, outreach.TemplateDef{Channel: outreach.Channel(t.GetChannel()), Locale: t.GetLocale(),
			Template: outreach.Template{Subject: t.GetSubject(), Text: t.GetText(), HTML: t.GetHtml()}})
	}
	return d, nil
}

func fromJourney(d outreach.JourneyDef) *promotionv1.Journey {
	out := &promotionv1.Journey{
		Name: journeyNames.Format(d.ID), JourneyId: d.ID, DisplayName: d.DisplayName, Delay: durationpb.New(d.Delay),
		Transactional: d.Transactional, CreateTime: timestamp(d.CreateTime), State: promotionv1.JourneyState(d.State),
		UpdateTime: timestamp(d.UpdateTime), DeleteTime: timestamp(d.DeleteTime), Etag: d.ETag(),
		AudienceFilter: d.AudienceFilter, Variables: d.Variables,
		Trigger: &promotionv1.JourneyTrigger{Kind: promotionv1.TriggerKind(d.Trigger.Kind), Hours: int32(d.Trigger.Hours),
			Days: int32(d.Trigger.Days), LocalMinute: int32(d.Trigger.LocalMinute), Audience: d.Trigger.Audience},
	}
	if d.Campaign != "" {
		out.Campaign = promotion.CampaignNames.Format(d.Campaign)
	}
	if !d.Coupon.IsZero() {
		out.CouponPromotion = promotion.PromotionNames.Format(d.Coupon.CampaignID, d.Coupon.PromotionID)
	}
	for _, h := range d.Trigger.Holidays {
		out.Trigger.Holidays = append(out.Trigger.Holidays, &promotionv1.Holiday{DisplayName: h.Name, Date: h.Date.Format(time.DateOnly)})
	}
	for _, c := range d.Channels {
		out.Channels = append(out.Channels, promotionv1.OutreachChannel(c))
	}
	for _, t := range d.Templates {
		out.Templates = append(out.Templates, &promotionv1.MessageTemplate{Channel: promotionv1.OutreachChannel(t.Channel),
			Locale: t.Locale, Subject: t.Subject, Text: t.Text, Html: t.HTML})
	}
	return out
}
