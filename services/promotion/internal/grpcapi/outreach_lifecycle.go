package grpcapi

import (
	"context"

	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	"github.com/tenurehq/tenure/services/platform/fielderr"
	"github.com/tenurehq/tenure/services/platform/resourcename"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
)

var (
	customerNames = resourcename.MustCompile("customers/{customer_id}")
	inboxNames    = resourcename.MustCompile("customers/{customer_id}/inbox/{message_id}")
)

// UpdateJourney implements promotionv1.OutreachServiceServer.
func (s *OutreachServer) UpdateJourney(ctx context.Context, req *promotionv1.UpdateJourneyRequest) (*promotionv1.UpdateJourneyResponse, error) {
	if req.GetJourney() == nil {
		return nil, &fielderr.Error{Path: "journey", Problem: "is required", Fix: "send the journey's name and the fields of update_mask"}
	}
	id, err := journeyNames.ParseID("journey.name", req.GetJourney().GetName())
	if err != nil {
		return nil, err
	}
	in, err := toJourney(id, req.GetJourney())
	if err != nil {
		return nil, err
	}
	d, err := s.journeys.Update(ctx, id, req.GetJourney().GetEtag(), req.GetUpdateMask().GetPaths(), in)
	if err != nil {
		return nil, err
	}
	return &promotionv1.UpdateJourneyResponse{Journey: fromJourney(d)}, nil
}

// lifecycle parses a journey name and runs one lifecycle use case on it.
func (s *OutreachServer) lifecycle(ctx context.Context, name, etag string,
	move func(outreach.Journeys, context.Context, string, string) (outreach.JourneyDef, error)) (*promotionv1.Journey, error) {
	id, err := journeyNames.ParseID("name", name)
	if err != nil {
		return nil, err
	}
	d, err := move(s.journeys, ctx, id, etag)
	if err != nil {
		return nil, err
	}
	return fromJourney(d), nil
}

// PauseJourney implements promotionv1.OutreachServiceServer.
func (s *OutreachServer) PauseJourney(ctx context.Context, req *promotionv1.PauseJourneyRequest) (*promotionv1.PauseJourneyResponse, error) {
	j, err := s.lifecycle(ctx, req.GetName(), req.GetEtag(), outreach.Journeys.Pause)
	if err != nil {
		return nil, err
	}
	return &promotionv1.PauseJourneyResponse{Journey: j}, nil
}

// ResumeJourney implements promotionv1.OutreachServiceServer.
func (s *OutreachServer) ResumeJourney(ctx context.Context, req *promotionv1.ResumeJourneyRequest) (*promotionv1.ResumeJourneyResponse, error) {
	j, err := s.lifecycle(ctx, req.GetName(), req.GetEtag(), outreach.Journeys.Resume)
	if err != nil {
		return nil, err
	}
	return &promotionv1.ResumeJourneyResponse{Journey: j}, nil
}

// DeleteJourney implements promotionv1.OutreachServiceServer.
func (s *OutreachServer) DeleteJourney(ctx context.Context, req *promotionv1.DeleteJourneyRequest) (*promotionv1.DeleteJourneyResponse, error) {
	j, err := s.lifecycle(ctx, req.GetName(), req.GetEtag(), outreach.Journeys.Delete)
	if err != nil {
		return nil, err
	}
	return &promotionv1.DeleteJourneyResponse{Journey: j}, nil
}

// ListCustomerMessages implements promotionv1.OutreachServiceServer.
func (s *OutreachServer) ListCustomerMessages(ctx context.Context, req *promotionv1.ListCustomerMessagesRequest) (*promotionv1.ListCustomerMessagesResponse, error) {
	customer, err := customerNames.ParseID("parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	f := outreach.MessageFilter{CustomerID: customer, State: outreach.State(req.GetState())}
	if _, ok := promotionv1.MessageState_name[int32(req.GetState())]; !ok {
		return nil, fielderr.New("state", "must be one of the MESSAGE_STATE_ values, got %d", req.GetState())
	}
	if j := req.GetJourney(); j != "" {
		if f.JourneyID, err = journeyNames.ParseID("journey", j); err != nil {
			return nil, err
		}
	}
	ms, next, err := s.history.List(ctx, f, int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &promotionv1.ListCustomerMessagesResponse{NextPageToken: next}
	for _, m := range ms {
		out.Messages = append(out.Messages, fromMessage(m.Message, m.History))
	}
	return out, nil
}

// ListInboxMessages implements promotionv1.OutreachServiceServer.
func (s *OutreachServer) ListInboxMessages(ctx context.Context, req *promotionv1.ListInboxMessagesRequest) (*promotionv1.ListInboxMessagesResponse, error) {
	customer, err := customerNames.ParseID("parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	ms, next, unread, err := s.inbox.List(ctx, customer, int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &promotionv1.ListInboxMessagesResponse{NextPageToken: next, UnreadCount: int32(unread)}
	for _, m := range ms {
		out.InboxMessages = append(out.InboxMessages, fromInbox(m))
	}
	return out, nil
}

// MarkInboxMessageRead implements promotionv1.OutreachServiceServer.
func (s *OutreachServer) MarkInboxMessageRead(ctx context.Context, req *promotionv1.MarkInboxMessageReadRequest) (*promotionv1.MarkInboxMessageReadResponse, error) {
	ids, err := inboxNames.Parse("name", req.GetName())
	if err != nil {
		return nil, err
	}
	m, err := s.inbox.MarkRead(ctx, ids[0], ids[1])
	if err != nil {
		return nil, err
	}
	return &promotionv1.MarkInboxMessageReadResponse{InboxMessage: fromInbox(m)}, nil
}

func fromInbox(m outreach.InboxMessage) *promotionv1.InboxMessage {
	return &promotionv1.InboxMessage{Name: inboxNames.Format(m.CustomerID, m.MessageID), Message: messageNames.Format(m.MessageID),
		Subject: m.Subject, Text: m.Text, CreateTime: timestamp(m.CreateTime), ReadTime: timestamp(m.ReadTime)}
}

func fromMessage(m outreach.Message, history []outreach.MessageChange) *promotionv1.OutreachMessage {
	out := &promotionv1.OutreachMessage{
		Name: messageNames.Format(m.ID), Journey: journeyNames.Format(m.JourneyID), CustomerId: m.CustomerID,
		Occurrence: m.Occurrence, State: promotionv1.MessageState(m.State),
		SuppressionReason: promotionv1.SuppressionReason(m.Reason), Channel: promotionv1.OutreachChannel(m.Channel),
		DueTime: timestamp(m.Due), Attempts: int32(m.Attempts), CreateTime: timestamp(m.CreateTime), UpdateTime: timestamp(m.UpdateTime),
		CouponCode: m.CouponCode,
	}
	for _, c := range history {
		out.History = append(out.History, &promotionv1.MessageStateChange{State: promotionv1.MessageState(c.State),
			SuppressionReason: promotionv1.SuppressionReason(c.Reason), Channel: promotionv1.OutreachChannel(c.Channel),
			Attempts: int32(c.Attempts), DueTime: timestamp(c.Due), Time: timestamp(c.At)})
	}
	return out
}
