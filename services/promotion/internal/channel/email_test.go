package channel

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/unsubscribe"
	"github.com/tenurehq/tenure/services/promotion/internal/channel/smtptest"
)

func TestEmailOverStartTLSWithAuth(t *testing.T) {
	r := smtptest.Start(t, smtptest.Options{TLS: true, User: "shop", Pass: "s3cret"})
	e, err := NewEmail(EmailConfig{Host: r.Addr, Port: r.Port, Username: "shop", Password: "s3cret", TLSConfig: r.Client,
		From: "Shop <news@shop.example.com>"})
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("unsubscribe-key")
	now := time.Now()
	tok, err := unsubscribe.Sign(secret, unsubscribe.Claims{CustomerID: "c-1", Channel: "email", MessageID: "m-1", Expires: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	link, err := unsubscribe.Link("https://shop.example.com/v1/unsubscribe", tok)
	if err != nil {
		t.Fatal(err)
	}
	m := Message{ID: "m-1", CustomerID: "c-1", Channel: "email", To: "ada@example.com", Subject: "Your cart is waiting",
		Text: "Hello Ada, your cart is waiting.", HTML: "<p>Hello Ada</p>", UnsubscribeURL: link}
	if err := e.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := r.Messages()
	if len(got) != 1 {
		t.Fatalf("relay received %d messages, want 1", len(got))
	}
	if got[0].From != "news@shop.example.com" || len(got[0].To) != 1 || got[0].To[0] != "ada@example.com" || got[0].User != "shop" {
		t.Errorf("envelope: from %q to %q as %q, want news@shop.example.com to ada@example.com as shop", got[0].From, got[0].To, got[0].User)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(got[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	for name, want := range map[string]string{
		"Subject": "Your cart is waiting", "Message-Id": "<m-1@shop.example.com>",
		"List-Unsubscribe": "<" + link + ">", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
	} {
		if h.Get(name) != want {
			t.Errorf("header %s: got %q, want %q", name, h.Get(name), want)
		}
	}
	// The link in the header works: its token verifies for the customer.
	u, err := url.Parse(strings.Trim(h.Get("List-Unsubscribe"), "<>"))
	if err != nil {
		t.Fatal(err)
	}
	if c, err := unsubscribe.Verify(secret, u.Query().Get("token"), now); err != nil || c.CustomerID != "c-1" || c.Channel != "email" {
		t.Errorf("unsubscribe token: got %+v, %v", c, err)
	}
	parts := bodyParts(t, msg)
	if !strings.Contains(parts["text/plain"], "Hello Ada, your cart is waiting.") || !strings.Contains(parts["text/html"], "<p>Hello Ada</p>") {
		t.Errorf("body parts: got %q", parts)
	}
}

// bodyParts returns the decoded parts of a multipart/alternative message
// by content type.
func bodyParts(t *testing.T, msg *mail.Message) map[string]string {
	t.Helper()
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("content type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	out := map[string]string{}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		out[ct] = string(b)
	}
}

func TestEmailFailures(t *testing.T) {
	ctx := context.Background()
	m := Message{ID: "m-2", CustomerID: "c-2", To: "gone@example.com", Subject: "Hi", Text: "Hi"}

	r := smtptest.Start(t, smtptest.Options{Reject: map[string]int{"gone@example.com": 550, "full@example.com": 452}})
	plain, err := NewEmail(EmailConfig{Host: r.Addr, Port: r.Port, TLS: TLSNone, From: "news@shop.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.Send(ctx, m); !errors.Is(err, ErrPermanent) {
		t.Errorf("recipient rejected with 550: got %v, want ErrPermanent", err)
	}
	m.To = "full@example.com"
	if err := plain.Send(ctx, m); err == nil || errors.Is(err, ErrPermanent) {
		t.Errorf("recipient deferred with 452: got %v, want a temporary error", err)
	}
	m.To = "not an address"
	if err := plain.Send(ctx, m); !errors.Is(err, ErrPermanent) {
		t.Errorf("invalid address: got %v, want ErrPermanent", err)
	}
	m.To = "ok@example.com"
	if err := plain.Send(ctx, m); err != nil {
		t.Errorf("plain relay: %v", err)
	}

	// STARTTLS is mandatory unless configured otherwise: a relay without
	// it is refused before anything is sent.
	mandatory, err := NewEmail(EmailConfig{Host: r.Addr, Port: r.Port, From: "news@shop.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if err := mandatory.Send(ctx, m); err == nil {
		t.Error("mandatory STARTTLS against a relay without it: sent")
	}
	if n := len(r.Messages()); n != 1 {
		t.Errorf("relay received %d messages, want 1", n)
	}

	authed := smtptest.Start(t, smtptest.Options{TLS: true, User: "shop", Pass: "s3cret"})
	wrong, err := NewEmail(EmailConfig{Host: authed.Addr, Port: authed.Port, Username: "shop", Password: "nope",
		TLSConfig: authed.Client, From: "news@shop.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if err := wrong.Send(ctx, m); err == nil || errors.Is(err, ErrPermanent) {
		t.Errorf("wrong password: got %v, want an error that a retry after fixing the configuration can clear", err)
	}

	for _, cfg := range []EmailConfig{{From: "news@shop.example.com"}, {Host: "smtp.example.com", From: "not an address"}} {
		if _, err := NewEmail(cfg); err == nil {
			t.Errorf("NewEmail(%+v) succeeded", cfg)
		}
	}
}
