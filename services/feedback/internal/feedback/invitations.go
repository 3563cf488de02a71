package feedback

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
)

// ErrSurveyHasNoJourney: SendSurvey on a survey without a journey.
var ErrSurveyHasNoJourney = errors.New("feedback: survey has no outreach journey")

// RefusedError is an Outreach error that retrying cannot clear (the
// journey is gone, or is not API-triggered, or takes other variables).
type RefusedError struct{ Err error }

// Error implements error.
func (e *RefusedError) Error() string {
	return "feedback: outreach refused the invitation: " + e.Err.Error()
}

// Unwrap returns the outreach error.
func (e *RefusedError) Unwrap() error { return e.Err }

// InvitationState is where an invitation is.
type InvitationState string

// The invitation states.
const (
	InvitationPending InvitationState = "pending"
	InvitationSent    InvitationState = "sent"
	InvitationFailed  InvitationState = "failed"
)

// Invitation is one invitation of a customer to answer a survey about one
// occurrence (an order, a ticket, a SendSurvey call). It is created once
// per (survey, customer, occurrence), pending until outreach accepts it.
type Invitation struct {
	ID, SurveyID, CustomerID string
	// Occurrence is "order:{id}", "ticket:{id}" or "demand:{id}".
	Occurrence string
	State      InvitationState
	// Message is the outreach message id, once sent.
	Message  string
	Attempts int
	// Due is when it goes to outreach (or is tried again).
	Due                    time.Time
	CreateTime, UpdateTime time.Time
}

// The occurrences of each survey trigger.

// OrderOccurrence is the occurrence of a delivered order.
func OrderOccurrence(orderID string) string { return "order:" + orderID }

// TicketOccurrence is the occurrence of a solved ticket.
func TicketOccurrence(ticketID string) string { return "ticket:" + ticketID }

// DemandOccurrence is the occurrence of a SendSurvey call.
func DemandOccurrence(id string) string { return "demand:" + id }

// InvitationID is the id of the invitation of customer to survey about
// occurrence: the hex SHA-256 of the three, 32 characters, so the same
// occurrence always names the same invitation.
func InvitationID(surveyID, customerID, occurrence string) string {
	sum := sha256.Sum256([]byte(surveyID + "\x00" + customerID + "\x00" + occurrence))
	return hex.EncodeToString(sum[:16])
}

// NewInvitation returns the pending invitation of customer to sv about
// occurrence, triggered at: due after the survey's invitation delay.
func NewInvitation(sv *Survey, customerID, occurrence string, at, now time.Time) Invitation {
	return Invitation{ID: InvitationID(sv.ID, customerID, occurrence), SurveyID: sv.ID, CustomerID: customerID,
		Occurrence: occurrence, State: InvitationPending, Due: at.Add(sv.InvitationDelay), CreateTime: now, UpdateTime: now}
}

// OutreachOccurrenceID is the occurrence id the invitation's outreach
// message is created under: outreach makes one message per id, so an
// invitation sent twice (a retry after a lost answer) is one message.
func (inv Invitation) OutreachOccurrenceID() string { return "feedback-invitation-" + inv.ID }

// Vars are the template variables of the invitation's outreach message:
// survey_url, survey_id, and order_id or ticket_id (the other empty).
func (inv Invitation) Vars(linkBase string) map[string]string {
	q := url.Values{"invitation": {inv.ID}, "customer": {inv.CustomerID}}
	v := map[string]string{
		"survey_url": strings.TrimSuffix(linkBase, "/") + "/" + url.PathEscape(inv.SurveyID) + "?" + q.Encode(),
		"survey_id":  inv.SurveyID, "order_id": "", "ticket_id": "",
	}
	if id, ok := strings.CutPrefix(inv.Occurrence, "order:"); ok {
		v["order_id"] = id
	}
	if id, ok := strings.CutPrefix(inv.Occurrence, "ticket:"); ok {
		v["ticket_id"] = id
	}
	return v
}

// After returns inv after an attempt at now: sent with its message, failed
// for good when outreach refused it, else pending again at retry.
func (inv Invitation) After(message string, err error, retry, now time.Time) Invitation {
	next := inv
	next.Attempts++
	next.UpdateTime = now
	switch {
	case err == nil:
		next.State, next.Message = InvitationSent, message
	case errors.As(err, new(*RefusedError)):
		next.State = InvitationFailed
	default:
		next.Due = retry
	}
	return next
}

// Limits of SendSurvey.
const (
	MaxInviteCustomers  = 1000
	MaxOccurrenceID     = 200
	MaxInvitationDelay  = 30 * 24 * time.Hour
	maxInviteCustomerID = 200
)

// checkSendSurvey validates a SendSurvey request.
func checkSendSurvey(customerIDs []string, occurrenceID string) error {
	if len(customerIDs) == 0 || len(customerIDs) > MaxInviteCustomers {
		return InvalidArgument("customer_ids", fmt.Sprintf("must list 1 to %d customers, got %d", MaxInviteCustomers, len(customerIDs)))
	}
	for i, id := range customerIDs {
		if id == "" || len(id) > maxInviteCustomerID {
			return InvalidArgument(fmt.Sprintf("customer_ids[%d]", i), "must be 1 to 200 characters")
		}
	}
	if occurrenceID == "" || len(occurrenceID) > MaxOccurrenceID || strings.IndexFunc(occurrenceID, notPrintable) >= 0 {
		return InvalidArgument("occurrence_id", fmt.Sprintf("must be 1 to %d printable characters naming what this sending is about, such as 2026-q4", MaxOccurrenceID))
	}
	return nil
}

func notPrintable(r rune) bool { return !unicode.IsPrint(r) }

// Outreach sends an invitation through a journey of the promotion
// service's outreach and returns the message's id. The same invitation
// sent twice makes one message. A *RefusedError will not clear by
// retrying; any other error is retried.
type Outreach interface {
	Invite(ctx context.Context, journeyID, customerID, occurrenceID string, vars map[string]string) (messageID string, err error)
}

// NoOutreach is the Outreach without a promotion service: every
// invitation stays pending.
type NoOutreach struct{}

// Invite implements Outreach.
func (NoOutreach) Invite(context.Context, string, string, string, map[string]string) (string, error) {
	return "", errors.New("feedback: no promotion service to send invitations through")
}

// InvitationStore keeps invitations.
type InvitationStore interface {
	// CreateInvitations stores each invitation unless one with its id
	// exists, in one transaction, and returns each as stored (the
	// earlier one for an id seen before).
	CreateInvitations(ctx context.Context, invs []Invitation) ([]Invitation, error)
	// InvitationsDue returns up to limit pending invitations due at or
	// before now, the longest due first.
	InvitationsDue(ctx context.Context, now time.Time, limit int) ([]Invitation, error)
	// RecordInvitation stores next if the stored invitation is still
	// prev (pending, with prev's attempts); else it changes nothing and
	// answers false (another replica recorded an attempt first).
	RecordInvitation(ctx context.Context, prev, next Invitation) (bool, error)
	// ListSurveys returns every survey, in id order.
	ListSurveys(ctx context.Context) ([]Survey, error)
	// PendingInviteTickets returns up to limit ids of solved tickets whose
	// invitations are not created yet; MarkTicketInvited records that they
	// are.
	PendingInviteTickets(ctx context.Context, limit int) ([]string, error)
	MarkTicketInvited(ctx context.Context, id string) error
}
