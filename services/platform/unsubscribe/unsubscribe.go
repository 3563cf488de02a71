// Package unsubscribe makes and checks the signed tokens of one-click
// unsubscribe links (RFC 8058): the sender of a marketing message puts a
// token naming the customer, the channel and the message into the link of
// its List-Unsubscribe header, and whoever serves the link checks the
// signature before revoking the customer's consent, so a link cannot be
// forged for another customer. Tokens are URL-safe and expire.
package unsubscribe

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// ErrBadToken is returned for a token that is malformed, not signed with
// the secret, or expired.
var ErrBadToken = errors.New("unsubscribe: bad token")

// Claims are what a token says.
type Claims struct {
	CustomerID string    `json:"c"`
	Channel    string    `json:"ch"`
	MessageID  string    `json:"m,omitempty"`
	Expires    time.Time `json:"e"`
}

// Sign returns a token for claims: base64url of their JSON, ".", and
// base64url of the HMAC-SHA256 of that with secret.
func Sign(secret []byte, c Claims) (string, error) {
	if len(secret) == 0 {
		return "", errors.New("unsubscribe: no secret")
	}
	c.Expires = c.Expires.UTC().Truncate(time.Second)
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("unsubscribe: %w", err)
	}
	p := base64.RawURLEncoding.EncodeToString(payload)
	return p + "." + base64.RawURLEncoding.EncodeToString(mac(secret, p)), nil
}

// Verify returns the claims of a token signed with secret that has not
// expired at now, or an error wrapping ErrBadToken.
func Verify(secret []byte, token string, now time.Time) (Claims, error) {
	p, sig, ok := strings.Cut(token, ".")
	if !ok {
		return Claims{}, fmt.Errorf("%w: no signature", ErrBadToken)
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || len(secret) == 0 || !hmac.Equal(got, mac(secret, p)) {
		return Claims{}, fmt.Errorf("%w: wrong signature", ErrBadToken)
	}
	payload, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %v", ErrBadToken, err)
	}
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return Claims{}, fmt.Errorf("%w: %v", ErrBadToken, err)
	}
	if !now.Before(c.Expires) {
		return Claims{}, fmt.Errorf("%w: expired at %s", ErrBadToken, c.Expires.Format(time.RFC3339))
	}
	return c, nil
}

func mac(secret []byte, payload string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// Link returns base (an https URL) with the token as its "token" query
// parameter.
func Link(base, token string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("unsubscribe: link base %q is not an absolute URL", base)
	}
	q := u.Query()
	q.Set("token", token)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
