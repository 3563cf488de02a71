package channel

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/unsubscribe"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
)

type recorder struct {
	got []Message
	err error
}

func (r *recorder) Send(_ context.Context, m Message) error {
	r.got = append(r.got, m)
	return r.err
}

func TestRouter(t *testing.T) {
	now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	email, sms := &recorder{}, &recorder{err: ErrPermanent}
	r := &Router{Providers: map[outreach.Channel]Provider{outreach.ChannelEmail: email, outreach.ChannelSMS: sms},
		UnsubscribeBase: "https://shop.example.com/v1/unsubscribe", Secret: []byte("k"), Clock: func() time.Time { return now }}
	ctx := context.Background()
	m := outreach.Message{ID: "m1", JourneyID: "j", CustomerID: "c1"}
	content := outreach.Rendered{Subject: "Hi", Text: "Hello"}
	if err := r.Send(ctx, m, outreach.ChannelEmail, "ada@example.com", content); err != nil {
		t.Fatal(err)
	}
	got := email.got[0]
	if got.To != "ada@example.com" || got.Channel != "email" || got.Subject != "Hi" || got.Text != "Hello" {
		t.Errorf("provider got %+v", got)
	}
	u, err := url.Parse(got.UnsubscribeURL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := unsubscribe.Verify([]byte("k"), u.Query().Get("token"), now)
	if err != nil || c.CustomerID != "c1" || c.Channel != "email" || c.MessageID != "m1" {
		t.Errorf("unsubscribe token: got %+v, %v", c, err)
	}
	m.Transactional = true
	if err := r.Send(ctx, m, outreach.ChannelEmail, "ada@example.com", content); err != nil || email.got[1].UnsubscribeURL != "" {
		t.Errorf("transactional: got link %q, %v; want none", email.got[1].UnsubscribeURL, err)
	}
	if err := r.Send(ctx, m, outreach.ChannelSMS, "+44", content); !errors.Is(err, outreach.ErrPermanent) {
		t.Errorf("permanent provider failure: got %v, want outreach.ErrPermanent", err)
	}
	if err := r.Send(ctx, m, outreach.ChannelPush, "tok", content); !errors.Is(err, outreach.ErrPermanent) {
		t.Errorf("no provider: got %v, want outreach.ErrPermanent", err)
	}
}
