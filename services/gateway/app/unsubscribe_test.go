package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/unsubscribe"
)

// TestOneClickUnsubscribe follows a signed unsubscribe link as a mail
// client does (RFC 8058): a GET shows a page and changes nothing, the
// one-click POST revokes the email consent in profile, and a forged or
// expired link is refused.
func TestOneClickUnsubscribe(t *testing.T) {
	secret := "unsub-secret"
	s := startStack(t, stackOptions{unsubscribe: secret})
	if code, b := s.do(t, http.MethodPost, "/v1/customers?customerId=u1",
		strings.NewReader(`{"fullName":"Ada","email":"ada@example.com","consent":{"email":"CONSENT_STATE_GRANTED","sms":"CONSENT_STATE_GRANTED"}}`), nil); code != http.StatusOK {
		t.Fatalf("create customer = %d %s", code, b)
	}
	consent := func() map[string]string {
		t.Helper()
		code, b := s.do(t, http.MethodGet, "/v1/customers/u1", nil, nil)
		if code != http.StatusOK {
			t.Fatalf("get customer = %d %s", code, b)
		}
		return decode[struct {
			Customer struct {
				Consent map[string]string `json:"consent"`
			} `json:"customer"`
		}](t, b).Customer.Consent
	}
	link := func(customer string, secret string, expires time.Time) string {
		tok, err := unsubscribe.Sign([]byte(secret), unsubscribe.Claims{CustomerID: customer, Channel: "email", MessageID: "m-1", Expires: expires})
		if err != nil {
			t.Fatal(err)
		}
		return "/v1/unsubscribe?token=" + url.QueryEscape(tok)
	}
	good := link("u1", secret, time.Now().Add(time.Hour))
	oneClick := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}

	code, b := s.do(t, http.MethodGet, good, nil, nil)
	if code != http.StatusOK || !strings.Contains(string(b), `method="post"`) {
		t.Fatalf("GET link = %d %s, want the page with its form", code, b)
	}
	if c := consent(); c["email"] != "CONSENT_STATE_GRANTED" {
		t.Fatalf("after GET: consent %v, want email still granted", c)
	}
	for _, bad := range []string{link("u1", "other", time.Now().Add(time.Hour)), link("u1", secret, time.Now().Add(-time.Minute)), "/v1/unsubscribe"} {
		if code, b := s.do(t, http.MethodPost, bad, strings.NewReader("List-Unsubscribe=One-Click"), oneClick); code != http.StatusBadRequest {
			t.Errorf("POST %s = %d %s, want 400", bad, code, b)
		}
	}
	if c := consent(); c["email"] != "CONSENT_STATE_GRANTED" {
		t.Fatalf("after bad links: consent %v, want email still granted", c)
	}
	for range 2 { // a second click changes nothing more
		if code, b := s.do(t, http.MethodPost, good, strings.NewReader("List-Unsubscribe=One-Click"), oneClick); code != http.StatusOK {
			t.Fatalf("POST link = %d %s", code, b)
		}
	}
	if c := consent(); c["email"] != "CONSENT_STATE_DENIED" || c["sms"] != "CONSENT_STATE_GRANTED" {
		t.Errorf("after the one-click POST: consent %v, want email denied and sms still granted", c)
	}
}
