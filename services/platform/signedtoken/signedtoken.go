// Package signedtoken makes and checks URL-safe signed tokens: the JSON of
// a claims value, base64url, ".", and base64url of its HMAC-SHA256 with a
// secret. Links that act without credentials (one-click unsubscribe,
// outreach open pixels and click redirects) carry one, so whoever serves
// the link can check it was made with the secret, unchanged, and has not
// expired.
package signedtoken

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors of Verify.
var (
	// ErrBadToken: malformed, or not signed with the secret.
	ErrBadToken = errors.New("signedtoken: bad token")
	// ErrExpired: signed with the secret, but expired.
	ErrExpired = errors.New("signedtoken: token expired")
)

// Claims are what a token says; each kind of token has its own, with an
// expiry time.
type Claims interface {
	Expiry() time.Time
}

// Sign returns the token of claims signed with secret.
func Sign(secret []byte, claims Claims) (string, error) {
	if len(secret) == 0 {
		return "", errors.New("signedtoken: no secret")
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("signedtoken: %w", err)
	}
	p := base64.RawURLEncoding.EncodeToString(payload)
	return p + "." + base64.RawURLEncoding.EncodeToString(mac(secret, p)), nil
}

// Verify decodes a token signed with secret into claims (a pointer) and
// checks it has not expired at now. It returns an error wrapping
// ErrBadToken or ErrExpired.
func Verify(secret []byte, token string, now time.Time, claims Claims) error {
	p, sig, ok := strings.Cut(token, ".")
	if !ok {
		return fmt.Errorf("%w: no signature", ErrBadToken)
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || len(secret) == 0 || !hmac.Equal(got, mac(secret, p)) {
		return fmt.Errorf("%w: wrong signature", ErrBadToken)
	}
	payload, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadToken, err)
	}
	if err := json.Unmarshal(payload, claims); err != nil {
		return fmt.Errorf("%w: %v", ErrBadToken, err)
	}
	if e := claims.Expiry(); !now.Before(e) {
		return fmt.Errorf("%w at %s", ErrExpired, e.UTC().Format(time.RFC3339))
	}
	return nil
}

func mac(secret []byte, payload string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(payload))
	return m.Sum(nil)
}
