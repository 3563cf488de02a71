package auth_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tenurehq/tenure/services/platform/auth"
	"github.com/tenurehq/tenure/services/platform/auth/authtest"
)

// FuzzAuthenticate feeds arbitrary authorization values to the parsing of
// credentials: nothing may panic, and nothing but the one real key is
// accepted.
func FuzzAuthenticate(f *testing.F) {
	kf := authtest.NewKeyFile(f)
	key := kf.Create(f, "fuzz", auth.Operator)
	iss := authtest.NewIssuer(f)
	a, err := auth.NewAuthenticator(context.Background(), auth.Config{KeysFile: kf.Path, JWT: iss.Config()}, nil)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"", "Bearer " + key, "bearer " + key, "Basic abc", "Bearer ", "Bearer a.b.c",
		"Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "Bearer tnr_0123456789ab_" + strings.Repeat("A", 43), key} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		p, err := a.Authenticate(context.Background(), v)
		if err != nil {
			return
		}
		tok, _ := auth.ParseBearer(v)
		if tok != key || p.Name != "fuzz" {
			t.Fatalf("%q accepted as %+v", v, p)
		}
	})
}
