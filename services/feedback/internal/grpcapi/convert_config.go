package grpcapi

import (
	"errors"
	"fmt"
	"time"

	feedbackv1 "github.com/tenurehq/tenure/gen/tenure/feedback/v1"
	"github.com/tenurehq/tenure/services/feedback/internal/feedback"
	"google.golang.org/protobuf/types/known/durationpb"
)

// duration reads an optional duration field; a bad one is a field error.
func duration(field string, d *durationpb.Duration) (time.Duration, error) {
	if d == nil {
		return 0, nil
	}
	if err := d.CheckValid(); err != nil {
		return 0, feedback.InvalidArgument(field, "must be a valid duration such as \"7200s\"")
	}
	return d.AsDuration(), nil
}

func toPolicy(id string, p *feedbackv1.SlaPolicy) (feedback.Policy, error) {
	first, err1 := duration("policy.first_reply_target", p.GetFirstReplyTarget())
	res, err2 := duration("policy.resolution_target", p.GetResolutionTarget())
	out := feedback.Policy{ID: id, Priority: toPriority(p.GetPriority()), Queue: p.GetQueue(), ValueTier: p.GetValueTier(),
		FirstReply: first, Resolution: res, PauseOnHold: p.GetPauseOnHold()}
	if err := errors.Join(err1, err2); err != nil {
		return out, err
	}
	if c := p.GetCalendar(); c != nil {
		spec := &feedback.CalendarSpec{TimeZone: c.GetTimeZone(), Holidays: c.GetHolidays()}
		for _, h := range c.GetHours() {
			spec.Hours = append(spec.Hours, feedback.DayHours{Day: int(h.GetDay()), Start: h.GetStart(), End: h.GetEnd()})
		}
		out.CalendarSpec = spec
	}
	for i, s := range p.GetEscalationSteps() {
		off, err := duration(fmt.Sprintf("policy.escalation_steps[%d].offset", i), s.GetOffset())
		if err != nil {
			return out, err
		}
		out.Steps = append(out.Steps, feedback.Step{ID: s.GetStepId(), Clock: feedback.Clock(s.GetClock()), Offset: off,
			RaisePriority: s.GetRaisePriority(), SetQueue: s.GetSetQueue(), NotifyURL: s.GetNotifyUrl()})
	}
	return out, nil
}

func fromPolicy(p *feedback.Policy) *feedbackv1.SlaPolicy {
	out := &feedbackv1.SlaPolicy{Name: policyNames.Format(p.ID), PolicyId: p.ID, Priority: fromPriority(p.Priority), Queue: p.Queue,
		ValueTier: p.ValueTier, FirstReplyTarget: dur(p.FirstReply), ResolutionTarget: dur(p.Resolution),
		PauseOnHold: p.PauseOnHold, CreateTime: ts(p.CreateTime)}
	if c := p.CalendarSpec; c != nil {
		out.Calendar = &feedbackv1.BusinessCalendar{TimeZone: c.TimeZone, Holidays: c.Holidays}
		for _, h := range c.Hours {
			out.Calendar.Hours = append(out.Calendar.Hours, &feedbackv1.BusinessHours{Day: int32(h.Day), Start: h.Start, End: h.End})
		}
	}
	for _, s := range p.Steps {
		out.EscalationSteps = append(out.EscalationSteps, &feedbackv1.EscalationStep{StepId: s.ID, Clock: feedbackv1.SlaClock(s.Clock),
			Offset: dur(s.Offset), RaisePriority: s.RaisePriority, SetQueue: s.SetQueue, NotifyUrl: s.NotifyURL})
	}
	return out
}

func fromOperation(op *feedback.Operation) *feedbackv1.Operation {
	state := feedbackv1.OperationState_OPERATION_STATE_RUNNING
	switch {
	case op.Failed:
		state = feedbackv1.OperationState_OPERATION_STATE_FAILED
	case op.Done:
		state = feedbackv1.OperationState_OPERATION_STATE_SUCCEEDED
	}
	trigger := feedbackv1.OperationTrigger_OPERATION_TRIGGER_API
	if op.Scheduled {
		trigger = feedbackv1.OperationTrigger_OPERATION_TRIGGER_SCHEDULE
	}
	return &feedbackv1.Operation{Name: escalationNames.Format(op.ID), Done: op.Done, State: state, AsOfTime: ts(op.AsOf),
		TicketsScanned: op.TicketsScanned, StepsApplied: op.StepsApplied, CreateTime: ts(op.CreateTime), EndTime: ts(op.EndTime),
		ErrorMessage: op.ErrorMessage, Trigger: trigger}
}

func toSurvey(id string, s *feedbackv1.Survey) (feedback.Survey, error) {
	out := feedback.Survey{ID: id, DisplayName: s.GetDisplayName(), Kind: toName[feedback.SurveyKind](s.GetKind(), "SURVEY_KIND_"),
		Trigger:       toName[string](s.GetTrigger(), "SURVEY_TRIGGER_"),
		FollowUpQueue: s.GetFollowUpQueue(), PromoterPoints: s.GetPromoterPoints()}
	delay, err := duration("survey.invitation_delay", s.GetInvitationDelay())
	if err != nil {
		return out, err
	}
	out.InvitationDelay = delay
	if j := s.GetJourney(); j != "" {
		jid, err := journeyNames.ParseID("survey.journey", j)
		if err != nil {
			return out, err
		}
		out.Journey = jid
	}
	return out, nil
}

func fromSurvey(s *feedback.Survey) *feedbackv1.Survey {
	out := &feedbackv1.Survey{Name: surveyNames.Format(s.ID), SurveyId: s.ID, DisplayName: s.DisplayName,
		Kind:          fromName[feedbackv1.SurveyKind](feedbackv1.SurveyKind_value, "SURVEY_KIND_", s.Kind),
		Trigger:       fromName[feedbackv1.SurveyTrigger](feedbackv1.SurveyTrigger_value, "SURVEY_TRIGGER_", s.Trigger),
		FollowUpQueue: s.FollowUpQueue, PromoterPoints: s.PromoterPoints, CreateTime: ts(s.CreateTime),
		InvitationDelay: durationOrNil(s.InvitationDelay)}
	if s.Journey != "" {
		out.Journey = journeyNames.Format(s.Journey)
	}
	return out
}

func durationOrNil(d time.Duration) *durationpb.Duration {
	if d == 0 {
		return nil
	}
	return durationpb.New(d)
}

func fromInvitation(inv feedback.Invitation) *feedbackv1.SurveyInvitation {
	out := &feedbackv1.SurveyInvitation{Name: invitationNames.Format(inv.SurveyID, inv.ID), CustomerId: inv.CustomerID,
		Occurrence: inv.Occurrence, Attempts: int32(inv.Attempts), DueTime: ts(inv.Due), CreateTime: ts(inv.CreateTime),
		State: fromName[feedbackv1.InvitationState](feedbackv1.InvitationState_value, "INVITATION_STATE_", inv.State)}
	if inv.Message != "" {
		out.OutreachMessage = messageNames.Format(inv.Message)
	}
	return out
}

func fromResponse(r *feedback.Response) *feedbackv1.SurveyResponse {
	out := &feedbackv1.SurveyResponse{Name: responseNames.Format(r.SurveyID, r.ID), ResponseId: r.ID, CustomerId: r.CustomerID,
		Score: int32(r.Score), Comment: r.Comment, Channel: fromChannel(r.Channel), Dismissed: r.Dismissed,
		ValueTier: r.ValueTier, LoyaltyTier: r.LoyaltyTier,
		RewardState: fromName[feedbackv1.RewardState](feedbackv1.RewardState_value, "REWARD_STATE_", r.Reward),
		CreateTime:  ts(r.CreateTime)}
	if r.FollowUpTicket != "" {
		out.FollowUpTicket = ticketNames.Format(r.FollowUpTicket)
	}
	return out
}

func fromScore(s feedback.Score) *feedbackv1.Score {
	return &feedbackv1.Score{Responses: s.Responses, Promoters: s.Promoters, Passives: s.Passives, Detractors: s.Detractors,
		Score: s.Value, ScoreLow: s.Low, ScoreHigh: s.High}
}

func fromGroups(gs []feedback.GroupScore) []*feedbackv1.GroupScore {
	out := make([]*feedbackv1.GroupScore, 0, len(gs))
	for _, g := range gs {
		out = append(out, &feedbackv1.GroupScore{Key: g.Key, Score: fromScore(g.Score)})
	}
	return out
}

func fromReport(r *feedback.Report) *feedbackv1.SurveyReport {
	out := &feedbackv1.SurveyReport{Survey: surveyNames.Format(r.SurveyID),
		Kind:    fromName[feedbackv1.SurveyKind](feedbackv1.SurveyKind_value, "SURVEY_KIND_", r.Kind),
		Overall: fromScore(r.Overall), Periods: fromGroups(r.Periods), Channels: fromGroups(r.Channels),
		ValueTiers: fromGroups(r.ValueTiers), LoyaltyTiers: fromGroups(r.Loyalty)}
	for i := range r.DetractorComments {
		out.DetractorComments = append(out.DetractorComments, fromResponse(&r.DetractorComments[i]))
	}
	return out
}

func fromTicketReport(r *feedback.TicketReport) *feedbackv1.TicketReport {
	count := func(cs []feedback.Count) []*feedbackv1.TicketCount {
		out := make([]*feedbackv1.TicketCount, 0, len(cs))
		for _, c := range cs {
			out = append(out, &feedbackv1.TicketCount{Key: c.Key, Tickets: c.N})
		}
		return out
	}
	return &feedbackv1.TicketReport{Tickets: r.Tickets, Types: count(r.Types), Queues: count(r.Queues),
		FirstReplyMet: r.FirstReplyMet, FirstReplyBreached: r.FirstReplyBreached, FirstReplyAttainment: r.FirstReplyAttainment,
		ResolutionMet: r.ResolutionMet, ResolutionBreached: r.ResolutionBreached, ResolutionAttainment: r.ResolutionAttainment,
		MedianFirstReplyTime: durationpb.New(r.MedianFirstReply), MedianResolutionTime: durationpb.New(r.MedianResolution)}
}
