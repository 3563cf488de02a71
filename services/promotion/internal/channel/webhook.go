package channel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tenurehq/tenure/services/platform/webhook"
)

// Webhook is the provider that posts messages to the shop's endpoint as
// signed JSON (platform webhook: HMAC-SHA256 signature headers and an
// Idempotency-Key of the message id), so that the shop's own dispatcher
// sends the SMS or push notification. A 4xx answer other than 408, 425
// and 429 is permanent.
type Webhook struct {
	URL    string
	Sender *webhook.Sender
}

// webhookBody is what the endpoint receives.
type webhookBody struct {
	MessageID      string `json:"message_id"`
	JourneyID      string `json:"journey_id,omitempty"`
	CustomerID     string `json:"customer_id"`
	Channel        string `json:"channel"`
	To             string `json:"to,omitempty"`
	Subject        string `json:"subject,omitempty"`
	Text           string `json:"text,omitempty"`
	HTML           string `json:"html,omitempty"`
	UnsubscribeURL string `json:"unsubscribe_url,omitempty"`
	Locale         string `json:"locale,omitempty"`
}

// Send implements Provider.
func (p Webhook) Send(ctx context.Context, m Message) error {
	body, err := json.Marshal(webhookBody{MessageID: m.ID, JourneyID: m.JourneyID, CustomerID: m.CustomerID,
		Channel: m.Channel, To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML,
		UnsubscribeURL: m.UnsubscribeURL, Locale: m.Locale})
	if err != nil {
		return fmt.Errorf("channel: webhook body: %w", err)
	}
	err = p.Sender.Send(ctx, p.URL, m.ID, body)
	var se *webhook.StatusError
	if errors.As(err, &se) && !se.Temporary() {
		return fmt.Errorf("%w: %w", ErrPermanent, err)
	}
	return err
}
