package webhook

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestSendVerify(t *testing.T) {
	secret := []byte("s3cret")
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	type got struct {
		h    http.Header
		body []byte
	}
	received := make(chan got, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		received <- got{r.Header.Clone(), b}
	}))
	defer srv.Close()
	s := &Sender{Secret: secret, Clock: func() time.Time { return now }}
	body := []byte(`{"ticket":"t1"}`)
	if err := s.Send(context.Background(), srv.URL, "d-1", body); err != nil {
		t.Fatal(err)
	}
	g := <-received
	if g.h.Get(HeaderID) != "d-1" || string(g.body) != string(body) {
		t.Fatalf("received id %q body %q, want d-1 and %s", g.h.Get(HeaderID), g.body, body)
	}
	tests := []struct {
		name   string
		secret []byte
		body   []byte
		now    time.Time
		want   error
	}{
		{"valid", secret, body, now.Add(time.Minute), nil},
		{"wrong secret", []byte("other"), body, now, ErrBadSignature},
		{"changed body", secret, []byte(`{"ticket":"t2"}`), now, ErrBadSignature},
		{"replayed late", secret, body, now.Add(time.Hour), ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Verify(tt.secret, g.h, tt.body, tt.now, 5*time.Minute); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSendFailsOnErrorStatus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "nope", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	if err := (&Sender{}).Send(context.Background(), srv.URL, "d", []byte("{}")); err == nil {
		t.Fatal("Send succeeded against a 503, want an error")
	}
}
