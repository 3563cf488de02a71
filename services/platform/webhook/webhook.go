// Package webhook sends signed JSON webhooks and verifies them: every
// request carries an id, a timestamp and an HMAC-SHA256 signature over
// both and the body, so a receiver can check it came from Tenure, was not
// changed, and is not a replay of an old one.
package webhook

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Header names of a webhook request.
const (
	HeaderID        = "Tenure-Webhook-Id"
	HeaderTimestamp = "Tenure-Webhook-Timestamp"
	HeaderSignature = "Tenure-Webhook-Signature"
	// HeaderIdempotencyKey repeats the id under the name receivers'
	// HTTP stacks commonly deduplicate requests by.
	HeaderIdempotencyKey = "Idempotency-Key"
)

// DefaultTimeout bounds one delivery when the Sender has no client.
const DefaultTimeout = 10 * time.Second

// defaultClient is the client of Senders without one.
var defaultClient = &http.Client{Timeout: DefaultTimeout, Transport: func() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return t
}()}

// ErrBadSignature is returned by Verify for a request that is not signed
// with the secret, or is too old.
var ErrBadSignature = errors.New("webhook: bad signature")

// Sender posts signed webhooks.
type Sender struct {
	// Secret signs every request; an empty secret still signs (with the
	// empty key), so configure one.
	Secret []byte
	// Client sends the requests; nil means a shared one with
	// DefaultTimeout that keeps up to 64 idle connections per receiver, so
	// parallel sends reuse connections instead of dialling each time.
	Client *http.Client
	// Clock gives the timestamp; nil means time.Now.
	Clock func() time.Time
}

// Sign returns the signature header value of a request: "v1=" and the hex
// HMAC-SHA256 of "id.timestamp.body".
func Sign(secret []byte, id string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	fmt.Fprintf(mac, "%s.%d.", id, timestamp)
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Send posts body (JSON) to url with id, which receivers use to drop
// duplicates. A response other than 2xx is an error.
func (s *Sender) Send(ctx context.Context, url, id string, body []byte) error {
	now := time.Now
	if s.Clock != nil {
		now = s.Clock
	}
	client := cmp.Or(s.Client, defaultClient)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	ts := now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderID, id)
	req.Header.Set(HeaderIdempotencyKey, id)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(s.Secret, id, ts, body))
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: post %s: %w", url, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook: post %s: %w", url, &StatusError{Code: resp.StatusCode, Status: resp.Status})
	}
	return nil
}

// StatusError is a receiver's answer other than 2xx.
type StatusError struct {
	Code   int
	Status string // e.g. "503 Service Unavailable"
}

func (e *StatusError) Error() string { return "status " + e.Status }

// Temporary reports whether the same request may succeed later: a timeout
// (408), too early (425), too many requests (429) or a server error (5xx).
// Any other answer will be the same however often it is sent.
func (e *StatusError) Temporary() bool {
	return e.Code == http.StatusRequestTimeout || e.Code == http.StatusTooEarly ||
		e.Code == http.StatusTooManyRequests || e.Code >= 500
}

// Verify checks a received request's signature headers against body: it
// must be signed with secret and its timestamp within tolerance of now.
func Verify(secret []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(h.Get(HeaderTimestamp), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: no timestamp", ErrBadSignature)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: timestamp %d is outside the tolerance", ErrBadSignature, ts)
	}
	want := Sign(secret, h.Get(HeaderID), ts, body)
	if !hmac.Equal([]byte(want), []byte(h.Get(HeaderSignature))) {
		return ErrBadSignature
	}
	return nil
}
