package channel

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tenurehq/tenure/services/platform/unsubscribe"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
)

// Router is the dispatcher's outreach.Sender: it hands each message to the
// provider of its channel, with a signed one-click unsubscribe link on
// marketing messages when UnsubscribeBase is set.
type Router struct {
	Providers map[outreach.Channel]Provider
	// UnsubscribeBase is the gateway's unsubscribe URL
	// (https://shop.example.com/v1/unsubscribe); Secret signs its tokens,
	// valid for TokenTTL (default 60 days).
	UnsubscribeBase string
	Secret          []byte
	TokenTTL        time.Duration
	Clock           func() time.Time
}

var _ outreach.Sender = (*Router)(nil)

// Send implements outreach.Sender.
func (r *Router) Send(ctx context.Context, m outreach.Message, ch outreach.Channel, to string, content outreach.Rendered) error {
	p, ok := r.Providers[ch]
	if !ok {
		return fmt.Errorf("%w: no provider for %s", outreach.ErrPermanent, ch)
	}
	msg := Message{ID: m.ID, JourneyID: m.JourneyID, CustomerID: m.CustomerID, Channel: ch.String(), To: to,
		Subject: content.Subject, Text: content.Text, HTML: content.HTML, SentAt: r.now().UTC()}
	if !m.Transactional && r.UnsubscribeBase != "" && ch != outreach.ChannelInApp {
		link, err := r.unsubscribeLink(m, ch)
		if err != nil {
			return err
		}
		msg.UnsubscribeURL = link
	}
	err := p.Send(ctx, msg)
	if errors.Is(err, ErrPermanent) {
		return fmt.Errorf("%w: %w", outreach.ErrPermanent, err)
	}
	return err
}

func (r *Router) unsubscribeLink(m outreach.Message, ch outreach.Channel) (string, error) {
	ttl := r.TokenTTL
	if ttl <= 0 {
		ttl = 60 * 24 * time.Hour
	}
	now := r.now
	tok, err := unsubscribe.Sign(r.Secret, unsubscribe.Claims{CustomerID: m.CustomerID, Channel: ch.String(), MessageID: m.ID,
		Expires: now().Add(ttl)})
	if err != nil {
		return "", err
	}
	return unsubscribe.Link(r.UnsubscribeBase, tok)
}

// now is the service clock's time (the wall clock when none is set).
func (r *Router) now() time.Time {
	if r.Clock != nil {
		return r.Clock()
	}
	return time.Now()
}
