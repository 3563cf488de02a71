package clients

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tenurehq/tenure/services/feedback/internal/feedback"
	"github.com/tenurehq/tenure/services/platform/webhook"
)

// Webhooks implements feedback.Notifier with signed webhooks.
type Webhooks struct {
	Sender *webhook.Sender
}

var _ feedback.Notifier = Webhooks{}

// notice is the JSON body of an escalation webhook.
type notice struct {
	Event         string    `json:"event"`
	Ticket        string    `json:"ticket"`
	Step          string    `json:"step"`
	CustomerID    string    `json:"customerId,omitempty"`
	Priority      string    `json:"priority"`
	Queue         string    `json:"queue"`
	Subject       string    `json:"subject,omitempty"`
	FirstReplyDue time.Time `json:"firstReplyDueTime,omitzero"`
	ResolutionDue time.Time `json:"resolutionDueTime,omitzero"`
}

// Notify implements feedback.Notifier. The delivery id is the ticket and
// step, the same for every attempt, so receivers can drop duplicates.
func (w Webhooks) Notify(ctx context.Context, n feedback.Notice, t *feedback.Ticket) error {
	body, err := json.Marshal(notice{Event: "ticket.escalated", Ticket: "tickets/" + t.ID, Step: n.StepID, CustomerID: t.CustomerID,
		Priority: t.Priority.String(), Queue: t.Queue, Subject: t.Subject, FirstReplyDue: t.FirstReplyDue, ResolutionDue: t.ResolutionDue})
	if err != nil {
		return fmt.Errorf("clients: webhook body: %w", err)
	}
	return w.Sender.Send(ctx, n.URL, t.ID+"/"+n.StepID, body)
}
