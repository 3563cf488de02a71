package channel

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/webhook"
)

func TestWebhook(t *testing.T) {
	secret := []byte("hook-key")
	var mu sync.Mutex
	var calls int
	var bodies []webhookBody
	var keys []string
	answers := []int{http.StatusServiceUnavailable, http.StatusTooManyRequests, http.StatusOK, http.StatusBadRequest}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if err := webhook.Verify(secret, r.Header, b, time.Now(), time.Minute); err != nil {
			t.Errorf("signature: %v", err)
		}
		mu.Lock()
		code := answers[calls]
		calls++
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		var body webhookBody
		if err := json.Unmarshal(b, &body); err != nil {
			t.Errorf("body %s: %v", b, err)
		}
		bodies = append(bodies, body)
		mu.Unlock()
		w.WriteHeader(code)
	}))
	defer srv.Close()
	p := Webhook{URL: srv.URL, Sender: &webhook.Sender{Secret: secret}}
	m := Message{ID: "m-7", JourneyID: "cart", CustomerID: "c-7", Channel: "sms", To: "+447700900123", Text: "Your cart misses you"}
	ctx := context.Background()
	// Fails twice (503, 429: retry), then accepts.
	for i, want := range []bool{false, false, true} {
		err := p.Send(ctx, m)
		if (err == nil) != want || errors.Is(err, ErrPermanent) {
			t.Errorf("attempt %d: got %v, want success %v and never permanent", i+1, err, want)
		}
	}
	// A 400 will not change: permanent.
	if err := p.Send(ctx, m); !errors.Is(err, ErrPermanent) {
		t.Errorf("400: got %v, want ErrPermanent", err)
	}
	want := webhookBody{MessageID: "m-7", JourneyID: "cart", CustomerID: "c-7", Channel: "sms", To: "+447700900123", Text: "Your cart misses you"}
	for i := range bodies {
		if bodies[i] != want || keys[i] != "m-7" {
			t.Errorf("request %d: body %+v key %q, want %+v with key m-7", i+1, bodies[i], keys[i], want)
		}
	}
}

type memInbox struct{ got []Message }

func (b *memInbox) Deliver(_ context.Context, m Message) error {
	b.got = append(b.got, m)
	return nil
}

func TestInApp(t *testing.T) {
	var inbox memInbox
	var p Provider = InApp{Inbox: &inbox}
	if err := p.Send(context.Background(), Message{ID: "m-1", CustomerID: "c-1", Subject: "Hi"}); err != nil {
		t.Fatal(err)
	}
	if len(inbox.got) != 1 || inbox.got[0].ID != "m-1" {
		t.Errorf("inbox: got %+v", inbox.got)
	}
}
