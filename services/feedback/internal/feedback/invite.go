package feedback

import (
	"context"
	"fmt"
	"time"
)

// WithOutreach sets how invitations are sent (default NoOutreach, which
// leaves them pending) and the base of their survey links.
func WithOutreach(o Outreach, linkBase string) Option {
	return func(s *Service) { s.outreach, s.linkBase = o, linkBase }
}

// WithInvitationRetry sets the delay before retry n (1-based) of an
// invitation outreach did not take (default: a minute each time).
func WithInvitationRetry(delay func(n int) time.Duration) Option {
	return func(s *Service) { s.inviteDelay = delay }
}

// Delivery is an order profile's log reports delivered.
type Delivery struct {
	CustomerID, OrderID string
	At                  time.Time
}

// InviteDeliveries creates the invitations of every order_delivered
// survey with a journey for each delivery. Invitations are keyed by
// survey, customer and order, so a replayed delivery creates none.
func (s *Service) InviteDeliveries(ctx context.Context, ds []Delivery) error {
	surveys, err := s.surveysFor(ctx, "order_delivered")
	if err != nil || len(surveys) == 0 || len(ds) == 0 {
		return err
	}
	now := s.now()
	var invs []Invitation
	for _, d := range ds {
		for i := range surveys {
			invs = append(invs, NewInvitation(&surveys[i], d.CustomerID, OrderOccurrence(d.OrderID), d.At, now))
		}
	}
	_, err = s.store.CreateInvitations(ctx, invs)
	return err
}

// inviteTicket creates the invitations of every ticket_solved survey with
// a journey for a solved ticket, then marks it invited; on failure it
// stays pending and RetryTicketInvites creates them later.
func (s *Service) inviteTicket(ctx context.Context, t *Ticket) {
	if err := s.createTicketInvitations(ctx, t); err != nil {
		s.logger.WarnContext(ctx, "feedback: survey invitations of a solved ticket", "ticket", t.ID, "error", err)
		return
	}
	if err := s.store.MarkTicketInvited(ctx, t.ID); err != nil {
		s.logger.WarnContext(ctx, "feedback: mark ticket invited", "ticket", t.ID, "error", err)
	}
}

func (s *Service) createTicketInvitations(ctx context.Context, t *Ticket) error {
	surveys, err := s.surveysFor(ctx, "ticket_solved")
	if err != nil || len(surveys) == 0 {
		return err
	}
	now := s.now()
	invs := make([]Invitation, len(surveys))
	for i := range surveys {
		invs[i] = NewInvitation(&surveys[i], t.CustomerID, TicketOccurrence(t.ID), t.SolveTime, now)
	}
	_, err = s.store.CreateInvitations(ctx, invs)
	return err
}

// RetryTicketInvites creates the invitations of up to limit solved
// tickets whose invitations failed to be created.
func (s *Service) RetryTicketInvites(ctx context.Context, limit int) error {
	return s.eachPending(ctx, s.store.PendingInviteTickets, limit, s.inviteTicket)
}

// surveysFor returns the surveys with trigger that have a journey.
func (s *Service) surveysFor(ctx context.Context, trigger string) ([]Survey, error) {
	all, err := s.store.ListSurveys(ctx)
	if err != nil {
		return nil, err
	}
	var out []Survey
	for _, sv := range all {
		if sv.Trigger == trigger && sv.Journey != "" {
			out = append(out, sv)
		}
	}
	return out, nil
}

// SendSurvey invites customers to a survey about occurrenceID, once per
// customer and id, and sends the invitations that are due at once; the
// rest (and those outreach did not take) go with SendInvitations.
func (s *Service) SendSurvey(ctx context.Context, surveyID string, customerIDs []string, occurrenceID string) ([]Invitation, error) {
	if err := checkSendSurvey(customerIDs, occurrenceID); err != nil {
		return nil, err
	}
	sv, err := s.store.GetSurvey(ctx, surveyID)
	if err != nil {
		return nil, err
	}
	if sv.Journey == "" {
		return nil, fmt.Errorf("%w: %s; give it a journey to send it", ErrSurveyHasNoJourney, sv.ID)
	}
	now := s.now()
	invs := make([]Invitation, len(customerIDs))
	for i, c := range customerIDs {
		invs[i] = NewInvitation(sv, c, DemandOccurrence(occurrenceID), now, now)
	}
	stored, err := s.store.CreateInvitations(ctx, invs)
	if err != nil {
		return nil, err
	}
	for i, inv := range stored {
		if inv.State == InvitationPending && !inv.Due.After(now) {
			stored[i] = s.attempt(ctx, sv, inv)
		}
	}
	return stored, nil
}

// SendInvitations sends up to limit pending invitations that are due.
func (s *Service) SendInvitations(ctx context.Context, limit int) error {
	due, err := s.store.InvitationsDue(ctx, s.now(), limit)
	if err != nil {
		return err
	}
	surveys := map[string]*Survey{}
	for _, inv := range due {
		sv, ok := surveys[inv.SurveyID]
		if !ok {
			if sv, err = s.store.GetSurvey(ctx, inv.SurveyID); err != nil {
				return err
			}
			surveys[inv.SurveyID] = sv
		}
		s.attempt(ctx, sv, inv)
	}
	return nil
}

// attempt sends inv through sv's journey once and records the outcome;
// it returns inv as recorded (unchanged when another replica recorded an
// attempt first, or the record failed: the retry finds it again).
func (s *Service) attempt(ctx context.Context, sv *Survey, inv Invitation) Invitation {
	var msg string
	var err error = &RefusedError{Err: fmt.Errorf("survey %s has no journey", sv.ID)}
	if sv.Journey != "" {
		msg, err = s.outreach.Invite(ctx, sv.Journey, inv.CustomerID, inv.OutreachOccurrenceID(), inv.Vars(s.linkBase))
	}
	now := s.now()
	next := inv.After(msg, err, now.Add(s.inviteDelay(inv.Attempts+1)), now)
	if err != nil {
		s.logger.WarnContext(ctx, "feedback: survey invitation not sent", "survey", sv.ID, "invitation", inv.ID,
			"state", string(next.State), "error", err)
	}
	ok, rerr := s.store.RecordInvitation(ctx, inv, next)
	if rerr != nil {
		s.logger.WarnContext(ctx, "feedback: record survey invitation", "invitation", inv.ID, "error", rerr)
	}
	if rerr != nil || !ok {
		return inv
	}
	return next
}
