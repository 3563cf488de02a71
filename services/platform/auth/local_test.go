package auth_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/auth"
)

func TestEnsureLocalKeys(t *testing.T) {
	dir := t.TempDir()
	cfg, created, err := auth.EnsureLocalKeys(dir, time.Now())
	if err != nil || !created {
		t.Fatalf("first start: created=%v err=%v, want a new admin key", created, err)
	}
	admin, err := os.ReadFile(filepath.Join(dir, auth.LocalAdminKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	again, created, err := auth.EnsureLocalKeys(dir, time.Now())
	if err != nil || created || again.ServiceKey != cfg.ServiceKey {
		t.Fatalf("second start: created=%v err=%v, want the same keys", created, err)
	}
	t.Setenv("TENURE_API_KEY", "")
	t.Setenv("TENURE_API_KEY_FILE", filepath.Join(dir, auth.LocalAdminKeyFile))
	key, err := auth.ClientKey()
	if err != nil || key+"\n" != string(admin) {
		t.Fatalf("client key %q, %v: want the admin key", key, err)
	}
	ks, err := auth.NewKeyStore(cfg.KeysFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := ks.Authenticate(key, time.Now()); err != nil || !p.Has(auth.Admin) {
		t.Errorf("admin key: %+v, %v", p, err)
	}
	// A revoked admin key is replaced on the next start.
	if _, err := auth.RevokeKey(cfg.KeysFile, "local-admin", time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, created, err := auth.EnsureLocalKeys(dir, time.Now()); err != nil || !created {
		t.Errorf("after revocation: created=%v err=%v, want a new admin key", created, err)
	}
}
