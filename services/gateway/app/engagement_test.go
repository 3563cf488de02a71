package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	"github.com/tenurehq/tenure/services/platform/webhook"
	promotionapp "github.com/tenurehq/tenure/services/promotion/app"
)

// outreachHook is the shop's dispatcher: it keeps the messages posted to
// it.
type outreachHook struct {
	mu   sync.Mutex
	msgs []map[string]string
}

func (h *outreachHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var m map[string]string
	_ = json.Unmarshal(b, &m)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msgs = append(h.msgs, m)
}

// await returns the first message posted, waiting up to 30 s.
func (h *outreachHook) await(t *testing.T) map[string]string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		h.mu.Lock()
		n := len(h.msgs)
		h.mu.Unlock()
		if n > 0 {
			h.mu.Lock()
			defer h.mu.Unlock()
			return h.msgs[0]
		}
	}
	t.Fatal("no outreach message reached the shop's webhook in 30 s")
	return nil
}

// anon sends a request without an API key, as a browser or a provider
// does, and does not follow redirects.
func anon(t *testing.T, s *stack, method, path string, body []byte, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.gateway+path, strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	c := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// signedCallback posts an engagement callback signed with secret at ts.
func signedCallback(t *testing.T, s *stack, secret string, ts time.Time, body string) (*http.Response, []byte) {
	t.Helper()
	id := fmt.Sprintf("cb-%d", time.Now().UnixNano())
	h := http.Header{"Content-Type": {"application/json"}}
	h.Set(webhook.HeaderID, id)
	h.Set(webhook.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(webhook.HeaderSignature, webhook.Sign([]byte(secret), id, ts.Unix(), []byte(body)))
	return anon(t, s, http.MethodPost, "/v1/outreach/engagements", []byte(body), h)
}

func wantReason(t *testing.T, what string, resp *http.Response, b []byte, code int, reason string) {
	t.Helper()
	var st rpcStatus
	_ = json.Unmarshal(b, &st)
	if resp.StatusCode != code || len(st.Details) == 0 || st.Details[0].Reason != reason {
		t.Errorf("%s = %d %s, want %d %s", what, resp.StatusCode, b, code, reason)
	}
}

// TestOutreachEngagement sends a journey's SMS through the shop's webhook,
// then reports on it without an API key, as the shop's dispatcher and the
// customer's browser do: a signed delivery callback makes the message
// DELIVERED (a tampered or stale one is refused), the open pixel and the
// click link record an open and a click (the link redirects to its
// signed destination only), the one-click unsubscribe link an
// unsubscription, each once, and profile's event log gets one
// message_engaged event per action. The journey report counts them, and
// promotion's /metrics the send.
func TestOutreachEngagement(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	hook := &outreachHook{}
	srv := httptest.NewServer(hook)
	defer srv.Close()
	const callbackSecret, unsubSecret = "callback-secret", "unsub-secret"
	s := startStack(t, stackOptions{unsubscribe: unsubSecret, promotion: func(c *promotionapp.Config) {
		c.Outreach.Interval, c.Outreach.QuietHours = 50*time.Millisecond, ""
		c.Outreach.WebhookURL, c.Outreach.WebhookSecret = srv.URL, "hook"
		c.Outreach.TrackingURL, c.Outreach.TrackingKey = "https://api.shop.example.com", "tracking-secret"
		c.Outreach.CallbackKey = callbackSecret
		c.AdminAddr = "127.0.0.1:0"
		c.Outreach.UnsubscribeURL, c.Outreach.UnsubscribeKey = "https://api.shop.example.com/v1/unsubscribe", unsubSecret
	}})
	for _, req := range []struct{ path, body string }{
		{"/v1/customers?customerId=ada", `{"fullName":"Ada Lovelace","phone":"+447700900123","consent":{"sms":"CONSENT_STATE_GRANTED"}}`},
		{"/v1/journeys?journeyId=sale", `{"trigger":{"kind":"TRIGGER_KIND_AUDIENCE_ENTERED","audience":"stages/new"},
			"channels":["OUTREACH_CHANNEL_SMS"],"templates":[{"channel":"OUTREACH_CHANNEL_SMS",
			"text":"Sale: {{.Links.Click \"https://shop.example.com/sale\"}} {{.Links.Open}}"}]}`},
	} {
		if code, b := s.do(t, http.MethodPost, req.path, strings.NewReader(req.body), nil); code != http.StatusOK {
			t.Fatalf("POST %s = %d %s", req.path, code, b)
		}
	}
	s.recompute(t) // ada is a prospect
	if code, b := s.do(t, http.MethodPost, "/v1/events", strings.NewReader(`{"eventId":"o1","customerId":"ada",
		"occurredAt":"2011-12-01T10:00:00Z","orderPlaced":{"orderId":"o1","total":{"currencyCode":"GBP","amountMinor":"2500"}}}`), nil); code != http.StatusOK {
		t.Fatalf("record order = %d %s", code, b)
	}
	s.recompute(t) // ada enters stages/new: the journey's SMS goes out
	msg := hook.await(t)
	id := msg["message_id"]
	fields := strings.Fields(msg["text"])
	if len(fields) != 3 {
		t.Fatalf("SMS text %q, want the sale text, a click link and an open link", msg["text"])
	}
	click, open := tokenOf(t, fields[1], "/v1/outreach/click"), tokenOf(t, fields[2], "/v1/outreach/open")

	delivered := `{"message":"messages/` + id + `","action":"ENGAGEMENT_ACTION_DELIVERED"}`
	resp, b := signedCallback(t, s, "wrong-secret", time.Now(), delivered)
	wantReason(t, "callback signed with another secret", resp, b, http.StatusUnauthorized, "ENGAGEMENT_SIGNATURE_INVALID")
	resp, b = signedCallback(t, s, callbackSecret, time.Now().Add(-time.Hour), delivered)
	wantReason(t, "callback an hour old", resp, b, http.StatusUnauthorized, "ENGAGEMENT_SIGNATURE_EXPIRED")
	ts := time.Now()
	hdr := http.Header{"Content-Type": {"application/json"}}
	hdr.Set(webhook.HeaderID, "cb-tampered")
	hdr.Set(webhook.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	hdr.Set(webhook.HeaderSignature, webhook.Sign([]byte(callbackSecret), "cb-tampered", ts.Unix(), []byte(delivered)))
	tampered := strings.Replace(delivered, "DELIVERED", "CLICKED", 1)
	resp, b = anon(t, s, http.MethodPost, "/v1/outreach/engagements", []byte(tampered), hdr)
	wantReason(t, "callback whose body was changed", resp, b, http.StatusUnauthorized, "ENGAGEMENT_SIGNATURE_INVALID")
	if code, b := s.do(t, http.MethodGet, "/v1/messages/"+id, nil, nil); code != http.StatusOK || !strings.Contains(string(b), `"MESSAGE_STATE_SENT"`) {
		t.Fatalf("message after refused callbacks = %d %s, want still SENT", code, b)
	}
	for i, wantDup := range []bool{false, true} {
		resp, b := signedCallback(t, s, callbackSecret, time.Now(), delivered)
		if resp.StatusCode != http.StatusOK || strings.Contains(string(b), `"duplicate":true`) != wantDup {
			t.Fatalf("signed delivery callback %d = %d %s, want 200, duplicate %v", i+1, resp.StatusCode, b, wantDup)
		}
	}
	if code, b := s.do(t, http.MethodGet, "/v1/messages/"+id, nil, nil); code != http.StatusOK || !strings.Contains(string(b), `"MESSAGE_STATE_DELIVERED"`) {
		t.Fatalf("message after the delivery callback = %d %s, want DELIVERED", code, b)
	}

	resp, b = anon(t, s, http.MethodGet, "/v1/outreach/open?token="+url.QueryEscape(open), nil, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/gif" || !strings.HasPrefix(string(b), "GIF89a") {
		t.Errorf("open pixel = %d %s %q, want a GIF", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	resp, b = anon(t, s, http.MethodGet, "/v1/outreach/click?token="+url.QueryEscape(click[:len(click)-2]+"xx"), nil, nil)
	wantReason(t, "click link with a tampered token", resp, b, http.StatusUnauthorized, "ENGAGEMENT_SIGNATURE_INVALID")
	for range 2 {
		resp, b = anon(t, s, http.MethodGet, "/v1/outreach/click?token="+url.QueryEscape(click), nil, nil)
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://shop.example.com/sale" {
			t.Errorf("click link = %d %s, Location %q; want 302 to https://shop.example.com/sale", resp.StatusCode, b, resp.Header.Get("Location"))
		}
	}
	resp, b = signedCallback(t, s, callbackSecret, time.Now(), `{"message":"`+id+`","action":"ENGAGEMENT_ACTION_CLICKED"}`)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"duplicate":true`) {
		t.Errorf("click callback after the click = %d %s, want a duplicate", resp.StatusCode, b)
	}
	unsub, err := url.Parse(msg["unsubscribe_url"])
	if err != nil || unsub.Query().Get("token") == "" {
		t.Fatalf("unsubscribe_url %q has no token", msg["unsubscribe_url"])
	}
	resp, b = anon(t, s, http.MethodPost, "/v1/unsubscribe?"+unsub.RawQuery, []byte("List-Unsubscribe=One-Click"),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("one-click unsubscribe = %d %s", resp.StatusCode, b)
	}

	wantEvents := []string{"clicked", "delivered", "opened", "unsubscribed"}
	if got := engagedActions(t, s, "ada", id); strings.Join(got, ",") != strings.Join(wantEvents, ",") {
		t.Errorf("profile's message_engaged events: got %v, want %v", got, wantEvents)
	}
	body := stacktest.Scrape(t, "http://"+s.promotion.AdminAddr()+"/metrics")
	if want := `(?m)^tenure_promotion_outreach_messages_sent_total{[^}]*channel="sms"[^}]*} 1$`; !regexp.MustCompile(want).MatchString(body) {
		t.Errorf("no %s in promotion's /metrics:\n%s", want, stacktest.Grep(body, "tenure_promotion_outreach"))
	}
	code, b := s.do(t, http.MethodGet, "/v1/journeys/sale/report", nil, nil)
	r := decode[map[string]any](t, b)
	for k, want := range map[string]string{"triggered": "1", "sent": "1", "delivered": "1", "opened": "1", "clicked": "1", "unsubscribed": "1"} {
		if r[k] != want {
			t.Errorf("report %s = %v, want %s (%d %s)", k, r[k], want, code, b)
		}
	}
}

// tokenOf returns the token of a link to path.
func tokenOf(t *testing.T, link, path string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || u.Host != "api.shop.example.com" || u.Path != path || u.Query().Get("token") == "" {
		t.Fatalf("link %q: want https://api.shop.example.com%s?token=…", link, path)
	}
	return u.Query().Get("token")
}

// engagedActions returns the sorted actions of the customer's
// message_engaged events for a message.
func engagedActions(t *testing.T, s *stack, customer, messageID string) []string {
	t.Helper()
	code, b := s.do(t, http.MethodGet, "/v1/customers/"+customer+"/events?pageSize=100", nil, nil)
	if code != http.StatusOK {
		t.Fatalf("list events = %d %s", code, b)
	}
	var resp struct {
		Events []struct {
			MessageEngaged *struct {
				MessageID string `json:"messageId"`
				Channel   string `json:"channel"`
				Action    string `json:"action"`
			} `json:"messageEngaged"`
		} `json:"events"`
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range resp.Events {
		if m := e.MessageEngaged; m != nil && m.MessageID == messageID && m.Channel == "sms" {
			out = append(out, m.Action)
		}
	}
	slices.Sort(out)
	return out
}
