// Package unsubscribe makes and checks the signed tokens of one-click
// unsubscribe links (RFC 8058): the sender of a marketing message puts a
// token naming the customer, the channel and the message into the link of
// its List-Unsubscribe header, and whoever serves the link checks the
// signature before revoking the customer's consent, so a link cannot be
// forged for another customer. Tokens are URL-safe and expire.
package unsubscribe

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/tenurehq/tenure/services/platform/signedtoken"
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

// Expiry implements signedtoken.Claims.
func (c Claims) Expiry() time.Time { return c.Expires }

// Sign returns a token for claims (see platform/signedtoken).
func Sign(secret []byte, c Claims) (string, error) {
	c.Expires = c.Expires.UTC().Truncate(time.Second)
	tok, err := signedtoken.Sign(secret, c)
	if err != nil {
		return "", fmt.Errorf("unsubscribe: %w", err)
	}
	return tok, nil
}

// Verify returns the claims of a token signed with secret that has not
// expired at now, or an error wrapping ErrBadToken.
func Verify(secret []byte, token string, now time.Time) (Claims, error) {
	var c Claims
	if err := signedtoken.Verify(secret, token, now, &c); err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrBadToken, err)
	}
	return c, nil
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
