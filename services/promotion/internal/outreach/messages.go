package outreach

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/tenurehq/tenure/services/platform/fielderr"
	"github.com/tenurehq/tenure/services/platform/paging"
)

// MessageChange is one state a message entered, as the store records it
// with every change.
type MessageChange struct {
	State    State
	Reason   SuppressionReason
	Channel  Channel
	Attempts int
	Due      time.Time
	At       time.Time
}

// MessageFilter selects a customer's messages.
type MessageFilter struct {
	CustomerID string
	JourneyID  string // "" for every journey
	State      State  // StateUnspecified for every state
}

// MessagePosition is where a newest-first page of messages or inbox
// entries starts: after the entry created at CreateTime with id ID. The
// zero position is the start.
type MessagePosition struct {
	CreateTime time.Time
	ID         string
}

// MessageLister reads a customer's messages and their histories.
type MessageLister interface {
	// ListCustomerMessages returns up to limit messages of f, newest
	// first (create time, then id, descending), after pos.
	ListCustomerMessages(ctx context.Context, f MessageFilter, pos MessagePosition, limit int) ([]Message, error)
	// MessageHistories returns the recorded changes of each message of
	// ids, oldest first.
	MessageHistories(ctx context.Context, ids []string) (map[string][]MessageChange, error)
}

// MessagePages are the page sizes of a customer's messages and inbox.
var MessagePages = paging.Sizes{Default: 50, Max: 500}

// MessageWithHistory is a message and its changes, oldest first.
type MessageWithHistory struct {
	Message
	History []MessageChange
}

// CustomerMessages lists customers' messages.
type CustomerMessages struct {
	Store MessageLister
}

// List returns a page of f's messages, newest first, with their histories.
func (c CustomerMessages) List(ctx context.Context, f MessageFilter, pageSize int, token string) ([]MessageWithHistory, string, error) {
	p, err := paging.Parse(MessagePages, pageSize, token, paging.For("ListCustomerMessages").
		With("parent", f.CustomerID).With("journey", f.JourneyID).With("state", strconv.Itoa(int(f.State))))
	if err != nil {
		return nil, "", err
	}
	pos, err := parsePosition(p.After)
	if err != nil {
		return nil, "", err
	}
	ms, err := c.Store.ListCustomerMessages(ctx, f, pos, p.Limit())
	if err != nil {
		return nil, "", err
	}
	ms, next := paging.Cut(p, ms, func(m Message) string { return formatPosition(m.CreateTime, m.ID) })
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	hist, err := c.Store.MessageHistories(ctx, ids)
	if err != nil {
		return nil, "", err
	}
	out := make([]MessageWithHistory, len(ms))
	for i, m := range ms {
		out[i] = MessageWithHistory{Message: m, History: hist[m.ID]}
	}
	return out, next, nil
}

// formatPosition and parsePosition write and read a newest-first page
// position: the create time in nanoseconds and the id.
func formatPosition(t time.Time, id string) string {
	return strconv.FormatInt(t.UnixNano(), 10) + "/" + id
}

func parsePosition(s string) (MessagePosition, error) {
	if s == "" {
		return MessagePosition{}, nil
	}
	ns, id, ok := strings.Cut(s, "/")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil || id == "" {
		return MessagePosition{}, &fielderr.Error{Path: "page_token", Problem: "does not hold a position of this list",
			Fix: "send the next_page_token of the previous page, or none for the first", Err: paging.ErrInvalidPageToken}
	}
	return MessagePosition{CreateTime: time.Unix(0, n).UTC(), ID: id}, nil
}

// InboxMessage is an in-app message in a customer's inbox.
type InboxMessage struct {
	CustomerID string
	MessageID  string
	Subject    string
	Text       string
	CreateTime time.Time
	ReadTime   time.Time // zero while unread
}

// InboxStore keeps the customers' in-app inboxes.
type InboxStore interface {
	// ListInbox returns up to limit of a customer's inbox messages, newest
	// first (create time, then id, descending), after pos, and the number
	// of unread messages in the whole inbox.
	ListInbox(ctx context.Context, customerID string, pos MessagePosition, limit int) ([]InboxMessage, int, error)
	// MarkInboxRead sets the read time of a customer's inbox message to at
	// unless it was read before, and returns the message, or
	// ErrMessageNotFound when the customer's inbox does not hold it.
	MarkInboxRead(ctx context.Context, customerID, messageID string, at time.Time) (InboxMessage, error)
}

// Inbox is the in-app inbox use cases.
type Inbox struct {
	Store InboxStore
	Clock func() time.Time
}

// List returns a page of a customer's inbox, newest first, and the number
// of unread messages.
func (b Inbox) List(ctx context.Context, customerID string, pageSize int, token string) ([]InboxMessage, string, int, error) {
	p, err := paging.Parse(MessagePages, pageSize, token, paging.For("ListInboxMessages").With("parent", customerID))
	if err != nil {
		return nil, "", 0, err
	}
	pos, err := parsePosition(p.After)
	if err != nil {
		return nil, "", 0, err
	}
	ms, unread, err := b.Store.ListInbox(ctx, customerID, pos, p.Limit())
	if err != nil {
		return nil, "", 0, err
	}
	ms, next := paging.Cut(p, ms, func(m InboxMessage) string { return formatPosition(m.CreateTime, m.MessageID) })
	return ms, next, unread, nil
}

// MarkRead marks a customer's inbox message read now; a second call keeps
// the first read time.
func (b Inbox) MarkRead(ctx context.Context, customerID, messageID string) (InboxMessage, error) {
	return b.Store.MarkInboxRead(ctx, customerID, messageID, b.Clock().UTC())
}
