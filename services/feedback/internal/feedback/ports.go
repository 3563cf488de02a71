package feedback

import (
	"context"
)

// Customers tells what other services know of a customer: its value tier
// and lifecycle stage (segmentation) and loyalty tier (loyalty). Unknown
// values are empty; an error means the answer could not be had.
type Customers interface {
	Context(ctx context.Context, customerID string) (CustomerContext, error)
}

// Contacts records a ticket as a service_contacted event in the customer's
// profile. Recording the same ticket twice records one event.
type Contacts interface {
	RecordContact(ctx context.Context, t *Ticket) error
}

// Rewards thanks a promoter with loyalty points, once per survey and
// customer. It answers what became of the thanks; an
// error means the thanks could not be given, for a reason the state does
// not cover.
type Rewards interface {
	Thank(ctx context.Context, surveyID, customerID string, points int64) (RewardState, error)
}

// Notifier sends an escalation step's webhook notification.
type Notifier interface {
	Notify(ctx context.Context, n Notice, t *Ticket) error
}

// ContactEventID is the profile event id of a ticket's service_contacted
// event: the same for every attempt, so profile records it once.
func ContactEventID(ticketID string) string { return "feedback-ticket-" + ticketID }

// NoCustomers knows nothing about customers (no segmentation or loyalty
// service).
type NoCustomers struct{}

// Context implements Customers.
func (NoCustomers) Context(context.Context, string) (CustomerContext, error) {
	return CustomerContext{}, nil
}

// NoContacts records nothing (no profile service).
type NoContacts struct{}

// RecordContact implements Contacts.
func (NoContacts) RecordContact(context.Context, *Ticket) error { return nil }

// NoRewards is the Rewards without a loyalty service: it grants nothing and
// says so (RewardUnavailable).
type NoRewards struct{}

// Thank implements Rewards.
func (NoRewards) Thank(context.Context, string, string, int64) (RewardState, error) {
	return RewardUnavailable, nil
}

// NoNotifier sends nothing.
type NoNotifier struct{}

// Notify implements Notifier.
func (NoNotifier) Notify(context.Context, Notice, *Ticket) error { return nil }
