package signedtoken

import (
	"errors"
	"strings"
	"testing"
	"time"
)

type claims struct {
	Subject string    `json:"s"`
	Expires time.Time `json:"e"`
}

func (c claims) Expiry() time.Time { return c.Expires }

func TestSignVerify(t *testing.T) {
	secret := []byte("k1")
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	c := claims{Subject: "m-1", Expires: now.Add(time.Hour)}
	tok, err := Sign(secret, c)
	if err != nil {
		t.Fatal(err)
	}
	var got claims
	if err := Verify(secret, tok, now, &got); err != nil || got != c {
		t.Fatalf("Verify: got %+v, %v; want %+v", got, err, c)
	}
	other, _ := Sign(secret, claims{Subject: "m-2", Expires: c.Expires})
	forged := strings.Split(other, ".")[0] + "." + strings.Split(tok, ".")[1]
	for _, tt := range []struct {
		name, token string
		secret      []byte
		now         time.Time
		want        error
	}{
		{"other secret", tok, []byte("k2"), now, ErrBadToken},
		{"expired", tok, secret, c.Expires, ErrExpired},
		{"claims of another token", forged, secret, now, ErrBadToken},
		{"no signature", strings.Split(tok, ".")[0], secret, now, ErrBadToken},
		{"garbage", "!!.!!", secret, now, ErrBadToken},
		{"no secret", tok, nil, now, ErrBadToken},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got claims
			if err := Verify(tt.secret, tt.token, tt.now, &got); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := Sign(nil, c); err == nil {
		t.Error("Sign without a secret succeeded")
	}
}
