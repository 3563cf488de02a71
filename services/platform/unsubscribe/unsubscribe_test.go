package unsubscribe

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSignVerify(t *testing.T) {
	secret := []byte("k1")
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	c := Claims{CustomerID: "c-1|x", Channel: "email", MessageID: "m-1", Expires: now.Add(24 * time.Hour)}
	tok, err := Sign(secret, c)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Verify(secret, tok, now); err != nil || got != c {
		t.Fatalf("Verify: got %+v, %v; want %+v", got, err, c)
	}
	other, _ := Sign(secret, Claims{CustomerID: "c-2", Channel: "email", Expires: c.Expires})
	forged := strings.Split(other, ".")[0] + "." + strings.Split(tok, ".")[1]
	for _, tt := range []struct {
		name, token string
		secret      []byte
		now         time.Time
	}{
		{"other secret", tok, []byte("k2"), now},
		{"expired", tok, secret, c.Expires},
		{"claims of another token", forged, secret, now},
		{"no signature", strings.Split(tok, ".")[0], secret, now},
		{"garbage", "!!.!!", secret, now},
		{"no secret", tok, nil, now},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Verify(tt.secret, tt.token, tt.now); !errors.Is(err, ErrBadToken) {
				t.Errorf("got %v, want ErrBadToken", err)
			}
		})
	}
	if _, err := Sign(nil, c); err == nil {
		t.Error("Sign without a secret succeeded")
	}
}

func TestLink(t *testing.T) {
	link, err := Link("https://shop.example.com/v1/unsubscribe?lang=en", "a.b")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(link)
	if u.Query().Get("token") != "a.b" || u.Query().Get("lang") != "en" || u.Host != "shop.example.com" {
		t.Errorf("got %s", link)
	}
	if _, err := Link("/relative", "a.b"); err == nil {
		t.Error("a relative base was accepted")
	}
}
