package grpcapi

import (
	"context"
	"maps"
	"slices"
	"strings"

	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	"github.com/tenurehq/tenure/services/platform/fielderr"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
	"github.com/tenurehq/tenure/services/promotion/internal/promotion"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/durationpb"
)

// SetEngagement gives s the engagement and report use cases; without
// them those RPCs fail as not configured.
func (s *OutreachServer) SetEngagement(e *outreach.Engagements, r outreach.Reports) *OutreachServer {
	s.engagements, s.reports = e, r
	return s
}

// RecordEngagement implements promotionv1.OutreachServiceServer.
func (s *OutreachServer) RecordEngagement(ctx context.Context, req *promotionv1.RecordEngagementRequest) (*promotionv1.RecordEngagementResponse, error) {
	if s.engagements == nil {
		return nil, outreach.ErrEngagementNotConfigured
	}
	var r outreach.EngagementResult
	var err error
	switch c := req.GetCredential().(type) {
	case *promotionv1.RecordEngagementRequest_LinkToken:
		r, err = s.engagements.Link(ctx, c.LinkToken)
	case *promotionv1.RecordEngagementRequest_UnsubscribeToken:
		r, err = s.engagements.Unsubscribed(ctx, c.UnsubscribeToken)
	case *promotionv1.RecordEngagementRequest_Callback:
		cb := c.Callback
		r, err = s.engagements.Callback(ctx, outreach.SignedCallback{WebhookID: cb.GetWebhookId(), Timestamp: cb.GetTimestamp(),
			Signature: cb.GetSignature(), Body: cb.GetBody()}, decodeCallback)
	default:
		return nil, &fielderr.Error{Path: "credential", Problem: "is missing",
			Fix: "send link_token, unsubscribe_token or a signed callback"}
	}
	if err != nil {
		return nil, err
	}
	e := r.Engagement
	return &promotionv1.RecordEngagementResponse{Duplicate: r.Duplicate, RedirectUrl: r.RedirectURL,
		Engagement: &promotionv1.Engagement{Message: messageNames.Format(e.MessageID), Action: promotionv1.EngagementAction(e.Action),
			Channel: promotionv1.OutreachChannel(e.Channel), CustomerId: e.CustomerID, OccurTime: timestamp(e.OccurTime), Url: e.URL}}, nil
}

// decodeCallback reads a callback's JSON body.
func decodeCallback(body []byte) (outreach.Callback, error) {
	var c promotionv1.EngagementCallback
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(body, &c); err != nil {
		return outreach.Callback{}, &fielderr.Error{Path: "callback.body", Problem: "is not an EngagementCallback: " + err.Error(),
			Fix: `send {"message":"messages/{message_id}","action":"ENGAGEMENT_ACTION_DELIVERED"}`}
	}
	id := c.GetMessage()
	if strings.HasPrefix(id, "messages/") {
		var err error
		if id, err = messageNames.ParseID("callback.body.message", id); err != nil {
			return outreach.Callback{}, err
		}
	}
	out := outreach.Callback{MessageID: id, Action: outreach.Action(c.GetAction()), URL: c.GetUrl()}
	if c.GetOccurTime() != nil {
		out.OccurTime = c.GetOccurTime().AsTime()
	}
	return out, nil
}

// GetJourneyReport implements promotionv1.OutreachServiceServer.
func (s *OutreachServer) GetJourneyReport(ctx context.Context, req *promotionv1.GetJourneyReportRequest) (*promotionv1.GetJourneyReportResponse, error) {
	id, err := journeyNames.ParseID("name", req.GetName())
	if err != nil {
		return nil, err
	}
	r, err := s.reports.Journey(ctx, id, req.GetAttributionWindow().AsDuration())
	if err != nil {
		return nil, err
	}
	return &promotionv1.GetJourneyReportResponse{Report: fromOutreachReport(journeyNames.Format(id), r)}, nil
}

// GetCampaignOutreachReport implements promotionv1.OutreachServiceServer.
func (s *OutreachServer) GetCampaignOutreachReport(ctx context.Context, req *promotionv1.GetCampaignOutreachReportRequest) (*promotionv1.GetCampaignOutreachReportResponse, error) {
	id, err := promotion.CampaignNames.ParseID("name", req.GetName())
	if err != nil {
		return nil, err
	}
	r, err := s.reports.Campaign(ctx, id, req.GetAttributionWindow().AsDuration())
	if err != nil {
		return nil, err
	}
	return &promotionv1.GetCampaignOutreachReportResponse{Report: fromOutreachReport(promotion.CampaignNames.Format(id), r)}, nil
}

func fromOutreachReport(name string, r outreach.Report) *promotionv1.OutreachReport {
	out := &promotionv1.OutreachReport{Name: name, AttributionWindow: durationpb.New(r.Window), Triggered: r.Triggered,
		Sent: r.Sent, Delivered: r.Delivered, Opened: r.Opened, Clicked: r.Clicked, Unsubscribed: r.Unsubscribe,
		Pending: r.Pending, Dead: r.Dead, Treatment: fromOutreachGroup(r.Treatment), HasControl: r.HasControl}
	if r.HasControl {
		out.Control = fromOutreachGroup(r.Control)
		out.LiftPoints, out.LiftCiLow, out.LiftCiHigh = 100*r.Lift, 100*r.LiftLow, 100*r.LiftHigh
	}
	for _, reason := range slices.Sorted(maps.Keys(r.Suppressed)) {
		out.Suppressed = append(out.Suppressed, &promotionv1.SuppressionCount{Reason: promotionv1.SuppressionReason(reason), Count: r.Suppressed[reason]})
	}
	for _, ch := range slices.Sorted(maps.Keys(r.SentByChannel)) {
		out.SentByChannel = append(out.SentByChannel, &promotionv1.ChannelCount{Channel: promotionv1.OutreachChannel(ch), Count: r.SentByChannel[ch]})
	}
	return out
}

func fromOutreachGroup(g outreach.GroupFigures) *promotionv1.OutreachGroup {
	return &promotionv1.OutreachGroup{Messages: g.Messages, Converters: g.Converters, Orders: g.Orders, RevenueMinor: g.Revenue}
}
