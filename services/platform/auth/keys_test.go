package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/auth"
	"github.com/tenurehq/tenure/services/platform/auth/authtest"
)

func TestNewKeyIsStoredOnlyAsAHash(t *testing.T) {
	f := authtest.NewKeyFile(t)
	key := f.Create(t, "ci", auth.Operator)
	id, secret, err := auth.ParseKey(key)
	if err != nil {
		t.Fatalf("parse %q: %v", key, err)
	}
	if len(secret) < 43 {
		t.Errorf("secret %d characters, want at least 43 (32 bytes)", len(secret))
	}
	kf, err := auth.ReadKeyFile(f.Path)
	if err != nil {
		t.Fatal(err)
	}
	if len(kf.Keys) != 1 || kf.Keys[0].ID != id || kf.Keys[0].Name != "ci" {
		t.Fatalf("key file %+v, want one key %s named ci", kf, id)
	}
	if strings.Contains(kf.Keys[0].Hash, secret) || !strings.HasPrefix(kf.Keys[0].Hash, "sha256:") {
		t.Errorf("stored hash %q: want a sha256 hash, not the secret", kf.Keys[0].Hash)
	}
}

func TestKeyStoreAuthenticates(t *testing.T) {
	f := authtest.NewKeyFile(t)
	key := f.Create(t, "shop", auth.Storefront)
	expiring, _, err := auth.CreateKey(f.Path, "temp", []auth.Role{auth.Analyst}, time.Now(), time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	ks, err := auth.NewKeyStore(f.Path, nil)
	if err != nil {
		t.Fatal(err)
	}
	id, secret, _ := auth.ParseKey(key)
	// Change the first character to another one of the base64url alphabet,
	// so the key stays well formed and only the secret is wrong.
	wrong := []byte(secret)
	if wrong[0] == 'A' {
		wrong[0] = 'B'
	} else {
		wrong[0] = 'A'
	}
	for _, tc := range []struct {
		name  string
		token string
		at    time.Time
		want  error
	}{
		{"valid", key, time.Now(), nil},
		{"wrong secret", auth.KeyPrefix + id + "_" + string(wrong), time.Now(), auth.ErrUnknownKey},
		{"unknown id", auth.KeyPrefix + "000000000000_" + secret, time.Now(), auth.ErrUnknownKey},
		{"malformed", "tnr_abc", time.Now(), auth.ErrMalformedKey},
		{"expired", expiring, time.Now().Add(2 * time.Minute), auth.ErrExpiredKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ks.Authenticate(tc.token, tc.at)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if err == nil && (p.Name != "shop" || !p.Has(auth.Storefront) || p.Kind != auth.KindKey) {
				t.Errorf("principal %+v, want key shop with storefront", p)
			}
		})
	}
}

func TestRevokedKeyStopsWorkingWithinTheReloadInterval(t *testing.T) {
	f := authtest.NewKeyFile(t)
	key := f.Create(t, "ops", auth.Operator)
	ks, err := auth.NewKeyStore(f.Path, nil)
	if err != nil {
		t.Fatal(err)
	}
	const interval = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go ks.Run(ctx, interval)
	if _, err := ks.Authenticate(key, time.Now()); err != nil {
		t.Fatalf("before revocation: %v", err)
	}
	if _, err := auth.RevokeKey(f.Path, "ops", time.Now()); err != nil {
		t.Fatal(err)
	}
	revoked := time.Now()
	for {
		_, err := ks.Authenticate(key, time.Now())
		if errors.Is(err, auth.ErrRevokedKey) {
			break
		}
		if time.Since(revoked) > 50*interval {
			t.Fatalf("key still accepted %s after revocation (reload interval %s): %v", time.Since(revoked), interval, err)
		}
		time.Sleep(interval / 4)
	}
}

func TestKeyFileRejectsBadEntries(t *testing.T) {
	for _, doc := range []string{
		`{"keys":[{"id":"short","hash":"sha256:00"}]}`,
		`{"keys":[{"id":"0123456789ab","hash":"md5:00"}]}`,
		`{"keys":[{"id":"0123456789ab","hash":"sha256:` + strings.Repeat("0", 64) + `","roles":["root"]}]}`,
		`{"keys":[], "extra": 1}`,
	} {
		f := authtest.NewKeyFile(t)
		writeFile(t, f.Path, doc)
		if _, err := auth.NewKeyStore(f.Path, nil); err == nil {
			t.Errorf("key file %s accepted, want an error", doc)
		}
	}
}
