// Package channel delivers outreach messages: email over SMTP, webhooks
// (the default for SMS and push: the shop's own dispatcher sends the
// text) and the in-app inbox, each behind the Provider interface the
// dispatcher calls.
package channel

import (
	"context"
	"errors"
	"time"
)

// ErrPermanent is wrapped by a provider's error when sending the same
// message again cannot succeed (a rejected address, a receiver answering
// 4xx): the dispatcher marks the message dead at once instead of retrying.
var ErrPermanent = errors.New("channel: permanent failure")

// Message is one rendered message to one customer.
type Message struct {
	// ID identifies the message; providers pass it on so receivers drop
	// duplicates (Message-ID, Idempotency-Key).
	ID         string
	JourneyID  string
	CustomerID string
	Channel    string // "email", "sms", "push", "in_app", "webhook"
	// To is the channel's address: an email address, a phone number, a
	// device token; empty for in-app and webhooks.
	To      string
	Subject string
	Text    string
	HTML    string
	// UnsubscribeURL is the signed one-click unsubscribe link of a
	// marketing message; empty for transactional ones.
	UnsubscribeURL string
	Locale         string
	// SentAt is when the message was handed over, by the service's clock:
	// the inbox's time of arrival.
	SentAt time.Time
}

// Provider sends messages on one channel.
type Provider interface {
	// Send delivers m or returns why not; an error wrapping ErrPermanent
	// will not go away by retrying.
	Send(ctx context.Context, m Message) error
}

// Inbox keeps in-app messages per customer; the promotion service's store
// implements it.
type Inbox interface {
	// Deliver adds m to its customer's inbox, once per message id.
	Deliver(ctx context.Context, m Message) error
}

// InApp is the in-app provider: it puts messages into the customers'
// inboxes, which the API reads and marks as read.
type InApp struct {
	Inbox Inbox
}

// Send implements Provider.
func (p InApp) Send(ctx context.Context, m Message) error { return p.Inbox.Deliver(ctx, m) }
