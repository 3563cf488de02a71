package feedback

import (
	"context"
	"time"
)

// TicketFilter selects tickets for ListTickets; zero values select all.
type TicketFilter struct {
	Status     Status
	Queue      string
	CustomerID string
	// Breached selects tickets with a breached target as of Now.
	Breached bool
	Now      time.Time
}

// TicketStore keeps tickets.
type TicketStore interface {
	CreateTicket(ctx context.Context, t *Ticket) error
	GetTicket(ctx context.Context, id string) (*Ticket, error)
	// UpdateTicket reads the ticket, lets fn change it and writes it back
	// in one transaction; fn's error aborts the change.
	UpdateTicket(ctx context.Context, id string, fn func(*Ticket) error) (*Ticket, error)
	// UpdateTickets is UpdateTicket for each id, in one transaction.
	UpdateTickets(ctx context.Context, ids []string, fn func(*Ticket) error) ([]*Ticket, error)
	// CreateTickets is CreateTicket for each, in one transaction.
	CreateTickets(ctx context.Context, tickets []*Ticket) error
	// ListTickets returns up to limit tickets matching f after the
	// ticket with id after (empty: from the start), newest first.
	ListTickets(ctx context.Context, f TicketFilter, after string, limit int) ([]Ticket, error)
	// EachTicket calls fn for every ticket created in [from, to), a zero
	// bound being open.
	EachTicket(ctx context.Context, from, to time.Time, fn func(*Ticket) error) error
	// UpdateDueTickets is UpdateTickets for up to limit active tickets,
	// in id order after after, whose next escalation time is at or
	// before asOf: one read and one transaction per page of a sweep.
	UpdateDueTickets(ctx context.Context, asOf time.Time, after string, limit int, fn func(*Ticket) error) ([]*Ticket, error)
	// PendingContactIDs returns up to limit ids of tickets whose
	// service_contacted event profile has not confirmed;
	// MarkContactRecorded records that it has.
	PendingContactIDs(ctx context.Context, limit int) ([]string, error)
	MarkContactRecorded(ctx context.Context, id string) error
}

// RuleStore keeps classification rules. Rules are only added, so their
// count identifies the rule set.
type RuleStore interface {
	CreateRule(ctx context.Context, r Rule) error
	// ListRules returns every rule by position, then id.
	ListRules(ctx context.Context) ([]Rule, error)
	CountRules(ctx context.Context) (int, error)
}

// PolicyStore keeps SLA policies.
type PolicyStore interface {
	CreatePolicy(ctx context.Context, p Policy) error
	// ListPolicies returns every policy in id order.
	ListPolicies(ctx context.Context) ([]Policy, error)
}

// SurveyStore keeps surveys and their responses.
type SurveyStore interface {
	CreateSurvey(ctx context.Context, s Survey) error
	GetSurvey(ctx context.Context, id string) (*Survey, error)
	CreateResponse(ctx context.Context, r Response) error
	GetResponse(ctx context.Context, surveyID, id string) (*Response, error)
	// SetResponseOutcome records the ticket a response opened and its
	// reward state; a non-zero retry makes the reward pending, to be
	// tried again from then on (RewardsDue), a zero one ends it.
	SetResponseOutcome(ctx context.Context, surveyID, id, ticket string, reward RewardState, retry time.Time) error
	// RewardsDue returns up to limit pending rewards whose retry time is
	// at or before now, the longest due first.
	RewardsDue(ctx context.Context, now time.Time, limit int) ([]PendingReward, error)
	// DelayReward records a failed retry of a pending reward: its count
	// of attempts and when to try again. A reward no longer pending (its
	// customer erased meanwhile) stays so.
	DelayReward(ctx context.Context, surveyID, id string, attempts int, retry time.Time) error
	// DismissResponse marks a response dismissed and returns it.
	DismissResponse(ctx context.Context, surveyID, id string) (*Response, error)
	// ListResponses returns the survey's responses, newest first.
	ListResponses(ctx context.Context, surveyID string) ([]Response, error)
	// PromoterRewarded reports whether a response of the customer to the
	// survey has its reward granted or already granted.
	PromoterRewarded(ctx context.Context, surveyID, customerID string) (bool, error)
}

// OperationStore keeps escalation sweeps.
type OperationStore interface {
	CreateOperation(ctx context.Context, op Operation) error
	UpdateOperation(ctx context.Context, op Operation) error
	GetOperation(ctx context.Context, id string) (*Operation, error)
}

// Store is every storage interface of the feedback domain.
type Store interface {
	TicketStore
	RuleStore
	PolicyStore
	SurveyStore
	InvitationStore
	OperationStore
	ErasureStore
}
