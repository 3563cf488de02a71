package feedback

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

// surveyTriggers are the triggers a survey may have.
var surveyTriggers = []string{"", "on_demand", "order_delivered", "ticket_solved"}

// CreateSurvey checks and stores a survey.
func (s *Service) CreateSurvey(ctx context.Context, sv Survey) (*Survey, error) {
	if err := checkID("survey_id", sv.ID); err != nil {
		return nil, err
	}
	switch {
	case sv.Kind != KindNPS && sv.Kind != KindCSAT:
		return nil, InvalidArgument("survey.kind", "is required: NPS or CSAT")
	case !slices.Contains(surveyTriggers, sv.Trigger):
		return nil, InvalidArgument("survey.trigger", "must be ON_DEMAND, ORDER_DELIVERED or TICKET_SOLVED")
	case sv.PromoterPoints < 0:
		return nil, InvalidArgument("survey.promoter_points", "must not be negative")
	}
	if err := sv.checkInvitations(); err != nil {
		return nil, err
	}
	if sv.Trigger == "" {
		sv.Trigger = "on_demand"
	}
	if sv.FollowUpQueue == "" {
		sv.FollowUpQueue = DefaultFollowUpQueue
	}
	sv.CreateTime = s.now()
	if err := s.store.CreateSurvey(ctx, sv); err != nil {
		return nil, err
	}
	return &sv, nil
}

// checkInvitations validates how sv's invitations are sent: a survey sent
// on an event needs the journey that delivers it.
func (sv Survey) checkInvitations() error {
	switch {
	case sv.Journey == "" && (sv.Trigger == "order_delivered" || sv.Trigger == "ticket_solved"):
		return &fielderr.Error{Path: "survey.journey", Problem: "is required when the trigger is " + strings.ToUpper(sv.Trigger),
			Fix: "name the outreach journey that delivers its invitations, such as journeys/delivery-survey"}
	case sv.Journey != "" && !idPattern.MatchString(sv.Journey):
		return InvalidArgument("survey.journey", "must be journeys/{journey_id}, the id 1 to 63 lower-case letters, digits and \"-\", starting with a letter")
	case sv.InvitationDelay < 0 || sv.InvitationDelay > MaxInvitationDelay:
		return InvalidArgument("survey.invitation_delay", fmt.Sprintf("must be from 0 to 30 days, got %s", sv.InvitationDelay))
	}
	return nil
}

// GetSurvey returns a survey.
func (s *Service) GetSurvey(ctx context.Context, id string) (*Survey, error) {
	return s.store.GetSurvey(ctx, id)
}

// SubmitResponse records an answer. A detractor's answer opens a
// follow-up ticket in the survey's queue with the comment; a promoter is
// thanked with the survey's points, once per survey and customer.
func (s *Service) SubmitResponse(ctx context.Context, surveyID string, r Response) (*Response, error) {
	sv, err := s.store.GetSurvey(ctx, surveyID)
	if err != nil {
		return nil, err
	}
	lo, hi := ScoreRange(sv.Kind)
	switch {
	case r.CustomerID == "":
		return nil, InvalidArgument("response.customer_id", "is required")
	case r.Score < lo || r.Score > hi:
		return nil, InvalidArgument("response.score", fmt.Sprintf("must be %d to %d for this survey, got %d", lo, hi, r.Score))
	case r.Channel != "" && !slices.Contains(Channels, r.Channel):
		return nil, InvalidArgument("response.channel", "must be web, email, chat, phone, app or social")
	case len([]rune(r.Comment)) > maxBody:
		return nil, InvalidArgument("response.comment", "must be at most 20000 characters")
	}
	cust := s.customerContext(ctx, r.CustomerID)
	r.SurveyID, r.ID, r.CreateTime, r.Dismissed = sv.ID, s.newID(), s.now(), false
	r.ValueTier, r.LoyaltyTier, r.Reward = cust.ValueTier, cust.LoyaltyTier, RewardNone
	if err := s.store.CreateResponse(ctx, r); err != nil {
		return nil, err
	}
	if err := s.closeLoop(ctx, sv, &r); err != nil {
		return nil, err
	}
	var retry time.Time // a thanks loyalty could not take is retried by RetryRewards
	if _, none := s.rewards.(NoRewards); r.Reward == RewardUnavailable && !none {
		retry = r.CreateTime
	}
	if err := s.store.SetResponseOutcome(ctx, sv.ID, r.ID, r.FollowUpTicket, r.Reward, retry); err != nil {
		return nil, err
	}
	return &r, nil
}

// WithRewardRetry sets the delay before retry n (1-based) of a promoter's
// thanks that loyalty could not take (default: a minute each time).
func WithRewardRetry(delay func(n int) time.Duration) Option {
	return func(s *Service) { s.rewardDelay = delay }
}

// RetryRewards tries again up to limit of the promoters' thanks that
// loyalty could not take and whose retry time has come. A thanks loyalty
// takes, or answers for good (the customer is no member, or was thanked by
// another answer), ends; one still unavailable waits longer each time.
func (s *Service) RetryRewards(ctx context.Context, limit int) error {
	due, err := s.store.RewardsDue(ctx, s.now(), limit)
	if err != nil {
		return err
	}
	for _, p := range due {
		sv, err := s.store.GetSurvey(ctx, p.SurveyID)
		if err != nil {
			return err
		}
		state, err := s.thank(ctx, sv, p.CustomerID)
		if err != nil {
			return err
		}
		if state == RewardUnavailable {
			n := p.Attempts + 1
			if err := s.store.DelayReward(ctx, p.SurveyID, p.ID, n, s.now().Add(s.rewardDelay(n))); err != nil {
				return err
			}
			continue
		}
		if err := s.store.SetResponseOutcome(ctx, p.SurveyID, p.ID, p.FollowUpTicket, state, time.Time{}); err != nil {
			return err
		}
		s.logger.InfoContext(ctx, "feedback: promoter thanked on retry", "survey", p.SurveyID, "response", p.ID,
			"reward", string(state), "attempts", p.Attempts+1)
	}
	return nil
}

// closeLoop opens a detractor's follow-up ticket or thanks a promoter.
func (s *Service) closeLoop(ctx context.Context, sv *Survey, r *Response) error {
	switch BandOf(sv.Kind, r.Score) {
	case Detractor:
		channel := r.Channel
		if channel == "" {
			channel = "web"
		}
		body := r.Comment
		if body == "" {
			body = "(no comment)"
		}
		t, err := s.CreateTicket(ctx, Ticket{
			CustomerID: r.CustomerID, Type: TypeComplaint, Channel: channel, Queue: sv.FollowUpQueue,
			Subject: fmt.Sprintf("Survey %s: score %d", sv.ID, r.Score), Body: body,
			Tags: []string{"survey-follow-up"}, SurveyResponse: responseName(sv.ID, r.ID),
		})
		if err != nil {
			return fmt.Errorf("feedback: open follow-up ticket: %w", err)
		}
		r.FollowUpTicket = t.ID
	case Promoter:
		if sv.PromoterPoints == 0 {
			return nil
		}
		state, err := s.thank(ctx, sv, r.CustomerID)
		if err != nil {
			return err
		}
		r.Reward = state
	}
	return nil
}

// thank gives a promoter the survey's points unless an earlier answer of
// the customer to the survey already did: loyalty's memory of the request
// id is limited, this survey's is not. A thanks that fails is logged and
// recorded as unavailable; the answer itself stands.
func (s *Service) thank(ctx context.Context, sv *Survey, customerID string) (RewardState, error) {
	done, err := s.store.PromoterRewarded(ctx, sv.ID, customerID)
	if err != nil {
		return "", fmt.Errorf("feedback: earlier rewards: %w", err)
	}
	if done {
		return RewardAlreadyGranted, nil
	}
	state, err := s.rewards.Thank(ctx, sv.ID, customerID, sv.PromoterPoints)
	if err != nil {
		s.logger.WarnContext(ctx, "feedback: promoter not rewarded", "survey", sv.ID, "customer", customerID, "error", err)
		return RewardUnavailable, nil
	}
	return state, nil
}

func responseName(surveyID, id string) string { return "surveys/" + surveyID + "/responses/" + id }

// DismissResponse excludes an answer from its survey's report.
func (s *Service) DismissResponse(ctx context.Context, surveyID, id string) (*Response, error) {
	return s.store.DismissResponse(ctx, surveyID, id)
}

// SurveyReport returns the report of a survey.
func (s *Service) SurveyReport(ctx context.Context, surveyID string) (*Report, error) {
	sv, err := s.store.GetSurvey(ctx, surveyID)
	if err != nil {
		return nil, err
	}
	responses, err := s.store.ListResponses(ctx, surveyID)
	if err != nil {
		return nil, err
	}
	r := BuildReport(sv, responses)
	return &r, nil
}
