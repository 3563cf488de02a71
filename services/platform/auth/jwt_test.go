package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tenurehq/tenure/services/platform/auth"
	"github.com/tenurehq/tenure/services/platform/auth/authtest"
)

func TestTokens(t *testing.T) {
	iss := authtest.NewIssuer(t)
	v, err := auth.NewVerifier(context.Background(), iss.Config(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	claims := func(edit func(jwt.MapClaims)) jwt.MapClaims {
		c := iss.Claims("alice", auth.Analyst, auth.Privacy, "unknown-role")
		edit(c)
		return c
	}
	wrongKey := jwt.NewWithClaims(jwt.SigningMethodRS256, iss.Claims("alice", auth.Admin))
	wrongKey.Header["kid"] = iss.KID
	wrongSig, _ := wrongKey.SignedString(other)
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, iss.Claims("alice", auth.Admin)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	hmac := jwt.NewWithClaims(jwt.SigningMethodHS256, iss.Claims("alice", auth.Admin))
	hmac.Header["kid"] = iss.KID
	hs, _ := hmac.SignedString([]byte("secret"))
	for _, tc := range []struct {
		name  string
		token string
		ok    bool
	}{
		{"valid", iss.Sign(t, claims(func(jwt.MapClaims) {})), true},
		{"within leeway after exp", iss.Sign(t, claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-10 * time.Second).Unix() })), true},
		{"expired", iss.Sign(t, claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() })), false},
		{"no exp", iss.Sign(t, claims(func(c jwt.MapClaims) { delete(c, "exp") })), false},
		{"not yet valid", iss.Sign(t, claims(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Minute).Unix() })), false},
		{"wrong audience", iss.Sign(t, claims(func(c jwt.MapClaims) { c["aud"] = "someone-else" })), false},
		{"wrong issuer", iss.Sign(t, claims(func(c jwt.MapClaims) { c["iss"] = "https://evil.example/" })), false},
		{"no subject", iss.Sign(t, claims(func(c jwt.MapClaims) { delete(c, "sub") })), false},
		{"wrongly signed", wrongSig, false},
		{"alg none", none, false},
		{"hmac with the public key id", hs, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := v.Authenticate(context.Background(), tc.token)
			if (err == nil) != tc.ok {
				t.Fatalf("got error %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && (p.Name != "alice" || p.Kind != auth.KindJWT || len(p.Roles) != 2 || !p.Has(auth.Analyst) || !p.Has(auth.Privacy)) {
				t.Errorf("principal %+v, want alice with analyst and privacy", p)
			}
		})
	}
}

func TestTokenRolesFromNestedClaim(t *testing.T) {
	iss := authtest.NewIssuer(t)
	cfg := iss.Config()
	cfg.RolesClaim = "realm_access.roles"
	v, err := auth.NewVerifier(context.Background(), cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := iss.Claims("bob")
	c["realm_access"] = map[string]any{"roles": []string{"operator"}}
	p, err := v.Authenticate(context.Background(), iss.Sign(t, c))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Roles) != 1 || p.Roles[0] != auth.Operator {
		t.Errorf("roles %v, want [operator]", p.Roles)
	}
}

func TestNoJWKSRefusesTokens(t *testing.T) {
	iss := authtest.NewIssuer(t)
	a, err := auth.NewAuthenticator(context.Background(), auth.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(context.Background(), "Bearer "+iss.Token(t, "x", auth.Admin)); !errors.Is(err, auth.ErrNoJWKS) {
		t.Errorf("got %v, want %v", err, auth.ErrNoJWKS)
	}
}

// TestVerifiedTokensAreRememberedUntilExpiry: a token verified once is
// accepted again from the cache, but never past its exp.
func TestVerifiedTokensAreRememberedUntilExpiry(t *testing.T) {
	iss := authtest.NewIssuer(t)
	now := time.Now()
	clock := func() time.Time { return now }
	v, err := auth.NewVerifier(context.Background(), iss.Config(), clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := iss.Claims("erin", auth.Analyst)
	c["exp"] = now.Add(20 * time.Second).Unix()
	token := iss.Sign(t, c)
	for i := range 2 {
		if _, err := v.Authenticate(context.Background(), token); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	now = now.Add(2 * time.Minute) // past exp and its leeway
	if _, err := v.Authenticate(context.Background(), token); err == nil {
		t.Error("expired token accepted from the cache")
	}
}
