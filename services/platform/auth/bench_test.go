package auth_test

import (
	"context"
	"testing"

	"google.golang.org/grpc/metadata"

	"github.com/tenurehq/tenure/services/platform/auth"
	"github.com/tenurehq/tenure/services/platform/auth/authtest"
)

// BenchmarkGuardCheck is the work the guard adds to one call: parse the
// authorization metadata, look the key up and compare its hash, check the
// policy (api_key), or verify an RS256 token against the JWKS (jwt).
func BenchmarkGuardCheck(b *testing.B) {
	kf := authtest.NewKeyFile(b)
	key := kf.Create(b, "bench", auth.Analyst)
	iss := authtest.NewIssuer(b)
	a, err := auth.NewAuthenticator(context.Background(), auth.Config{KeysFile: kf.Path, JWT: iss.Config()}, nil)
	if err != nil {
		b.Fatal(err)
	}
	g := &auth.Guard{Auth: a, Policy: auth.DefaultPolicy()}
	const method = "/tenure.profile.v1.ProfileService/GetCustomer"
	for name, cred := range map[string]string{"api_key": key, "jwt": iss.Token(b, "bench", auth.Analyst)} {
		b.Run(name, func(b *testing.B) {
			ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+cred))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := g.Check(ctx, method); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
