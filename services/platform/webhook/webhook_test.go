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
	if g.h.Get(HeaderID) != "d-1" || g.h.Get(HeaderIdempotencyKey) != "d-1" || string(g.body) != string(body) {
		t.Fatalf("received id %q, idempotency key %q, body %q; want d-1, d-1 and %s", g.h.Get(HeaderID), g.h.Get(HeaderIdempotencyKey), g.body, body)
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
	for _, tt := range []struct {
		code      int
		temporary bool
	}{
		{http.StatusServiceUnavailable, true}, {http.StatusTooManyRequests, true}, {http.StatusRequestTimeout, true},
		{http.StatusBadRequest, false}, {http.StatusGone, false},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "nope", tt.code)
		}))
		err := (&Sender{}).Send(context.Background(), srv.URL, "d", []byte("{}"))
		srv.Close()
		var se *StatusError
		if !errors.As(err, &se) || se.Code != tt.code || se.Temporary() != tt.temporary {
			t.Errorf("status %d: got %v, want a StatusError with code %d, temporary %v", tt.code, err, tt.code, tt.temporary)
		}
	}
}
