package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/auth"
)

func TestKeysCreateListRevoke(t *testing.T) {
	file := filepath.Join(t.TempDir(), "keys.json")
	run := func(args ...string) (string, int) {
		var out, errOut bytes.Buffer
		code := Run(context.Background(), Env{Stdout: &out, Stderr: &errOut}, args)
		return out.String() + errOut.String(), code
	}
	out, code := run("keys", "create", "--file", file, "--name", "shop", "--role", "storefront,analyst", "--expires", "24h")
	if code != 0 {
		t.Fatalf("create: exit %d: %s", code, out)
	}
	key := strings.TrimSpace(strings.SplitN(out, "\n", 2)[0])
	ks, err := auth.NewKeyStore(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := ks.Authenticate(key, time.Now()); err != nil || !p.Has(auth.Storefront) || !p.Has(auth.Analyst) {
		t.Fatalf("created key: %+v, %v", p, err)
	}
	if out, code := run("keys", "create", "--file", file, "--name", "x", "--role", "root"); code != 2 {
		t.Errorf("unknown role: exit %d %s, want 2", code, out)
	}
	out, code = run("keys", "list", "--file", file)
	if code != 0 || !strings.Contains(out, "shop") || !strings.Contains(out, "storefront,analyst") || !strings.Contains(out, "active") || strings.Contains(out, key) {
		t.Errorf("list: exit %d\n%s", code, out)
	}
	if out, code = run("keys", "revoke", "--file", file, "shop"); code != 0 {
		t.Fatalf("revoke: exit %d %s", code, out)
	}
	if _, err := ks.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Authenticate(key, time.Now()); err == nil {
		t.Error("revoked key still accepted")
	}
	if out, _ = run("keys", "list", "--file", file); !strings.Contains(out, "revoked") {
		t.Errorf("list after revoke:\n%s", out)
	}
}
