package feedback

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Channels are the channels a ticket or answer may come from.
var Channels = []Channel{"web", "email", "chat", "phone", "app", "social"}

// Types are the ticket types.
var Types = []TicketType{TypeComplaint, TypeSuggestion, TypeInquiry, TypePraise}

// Limits of a ticket's text.
const (
	maxSubject = 500
	maxBody    = 20_000
	maxTags    = 50
)

// validateTicket checks a new ticket; path prefixes field names.
func validateTicket(t *Ticket, path string) error {
	switch {
	case t.CustomerID == "" && t.Email == "":
		return InvalidArgument(path+"customer_id", "is required, or an email for a guest")
	case t.Email != "" && !strings.Contains(t.Email, "@"):
		return InvalidArgument(path+"email", "must be an email address such as ada@example.com")
	case !slices.Contains(Channels, t.Channel):
		return InvalidArgument(path+"channel", "is required: web, email, chat, phone, app or social")
	case t.Type != "" && !slices.Contains(Types, t.Type):
		return InvalidArgument(path+"type", "must be COMPLAINT, SUGGESTION, INQUIRY or PRAISE, or unset")
	case t.Priority < 0 || t.Priority > PriorityUrgent:
		return InvalidArgument(path+"priority", "must be LOW, NORMAL, HIGH or URGENT, or unset")
	case strings.TrimSpace(t.Body) == "":
		return InvalidArgument(path+"body", "is required")
	case len([]rune(t.Subject)) > maxSubject:
		return InvalidArgument(path+"subject", fmt.Sprintf("must be at most %d characters", maxSubject))
	case len([]rune(t.Body)) > maxBody:
		return InvalidArgument(path+"body", fmt.Sprintf("must be at most %d characters", maxBody))
	case len(t.Tags) > maxTags:
		return InvalidArgument(path+"tags", fmt.Sprintf("must be at most %d tags", maxTags))
	}
	return nil
}

// CreateTicket classifies a new ticket, starts its SLA clocks, stores it
// and records it as a contact in the customer's profile.
func (s *Service) CreateTicket(ctx context.Context, t Ticket) (*Ticket, error) {
	if err := validateTicket(&t, "ticket."); err != nil {
		return nil, err
	}
	now := s.now()
	t.ID, t.Status, t.CreateTime, t.UpdateTime = s.newID(), StatusNew, now, now
	t.History = []StatusChange{{Status: StatusNew, At: now}}
	t.Comments, t.Escalations, t.FirstReplyTime, t.SolveTime = nil, nil, time.Time{}, time.Time{}
	if t.Type == "" {
		t.Type = TypeInquiry
	}
	if t.Priority == 0 {
		t.Priority = PriorityNormal
	}
	if t.Queue == "" {
		t.Queue = DefaultQueue
	}
	cust := s.customerContext(ctx, t.CustomerID)
	rules, err := s.compiledRules(ctx)
	if err != nil {
		return nil, err
	}
	t.MatchedRules = Classify(&t, rules, cust)
	policy, err := s.policyFor(ctx, &t, cust.ValueTier)
	if err != nil {
		return nil, err
	}
	t.Refresh(policy, now)
	if err := s.store.CreateTicket(ctx, &t); err != nil {
		return nil, err
	}
	s.recordContact(ctx, &t)
	return &t, nil
}

// customerContext asks for the customer's tiers; a failure is logged and
// leaves them empty, so a ticket is never refused for it.
func (s *Service) customerContext(ctx context.Context, customerID string) CustomerContext {
	if customerID == "" {
		return CustomerContext{}
	}
	c, err := s.customers.Context(ctx, customerID)
	if err != nil {
		s.logger.WarnContext(ctx, "feedback: customer tiers unavailable", "customer", customerID, "error", err)
	}
	return c
}

// recordContact records the ticket in profile and marks it recorded; on
// failure the ticket stays pending and RetryContacts records it later.
func (s *Service) recordContact(ctx context.Context, t *Ticket) {
	if t.CustomerID == "" {
		return
	}
	if err := s.contacts.RecordContact(ctx, t); err != nil {
		s.logger.WarnContext(ctx, "feedback: record contact in profile", "ticket", t.ID, "error", err)
		return
	}
	if err := s.store.MarkContactRecorded(ctx, t.ID); err != nil {
		s.logger.WarnContext(ctx, "feedback: mark contact recorded", "ticket", t.ID, "error", err)
	}
}

// RetryContacts records up to limit tickets profile has not confirmed.
func (s *Service) RetryContacts(ctx context.Context, limit int) error {
	return s.eachPending(ctx, s.store.PendingContactIDs, limit, s.recordContact)
}

// eachPending calls fn on up to limit tickets whose ids pending answers.
func (s *Service) eachPending(ctx context.Context, pending func(context.Context, int) ([]string, error), limit int,
	fn func(context.Context, *Ticket)) error {
	ids, err := pending(ctx, limit)
	if err != nil {
		return err
	}
	for _, id := range ids {
		t, err := s.store.GetTicket(ctx, id)
		if err != nil {
			return err
		}
		fn(ctx, t)
	}
	return nil
}

// GetTicket returns a ticket.
func (s *Service) GetTicket(ctx context.Context, id string) (*Ticket, error) {
	return s.store.GetTicket(ctx, id)
}

// ListTickets returns a page of tickets, newest first.
func (s *Service) ListTickets(ctx context.Context, f TicketFilter, after string, limit int) ([]Ticket, error) {
	if f.Status != "" && !f.Status.Valid() {
		return nil, InvalidArgument("status", "must be a ticket status")
	}
	f.Now = s.now()
	return s.store.ListTickets(ctx, f, after, limit)
}

// ETag is a ticket's entity tag.
func (t *Ticket) ETag() string { return strconv.Quote(strconv.FormatInt(t.Version, 10)) }

// TicketView is a ticket with its SLA clocks and states at a moment.
type TicketView struct {
	*Ticket
	Clocks                 Clocks
	FirstReply, Resolution SLAState
	Now                    time.Time
}

// Describe returns the views of tickets now.
func (s *Service) Describe(ctx context.Context, tickets ...*Ticket) ([]TicketView, error) {
	policies, err := s.store.ListPolicies(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]TicketView, len(tickets))
	for i, t := range tickets {
		p := findPolicy(policies, t.PolicyID)
		out[i] = TicketView{Ticket: t, Clocks: p.Measure(t.History, now), FirstReply: t.FirstReplyState(now),
			Resolution: t.ResolutionState(p, now), Now: now}
	}
	return out, nil
}
