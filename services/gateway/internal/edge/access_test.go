package edge

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tenurehq/tenure/services/platform/auth"
)

// countingAuth counts authentications and admits the key "good".
type countingAuth struct{ n atomic.Int64 }

func (c *countingAuth) Authenticate(_ context.Context, v string) (auth.Principal, error) {
	c.n.Add(1)
	if v == "Bearer good" {
		return auth.Principal{Name: "good", Kind: auth.KindKey, Roles: []auth.Role{auth.Operator}}, nil
	}
	return auth.Principal{}, errors.New("no")
}

// TestBodyLimitAheadOfAuthentication: a body over the limit is answered
// 413 without any authentication work; probes need no credentials.
func TestBodyLimitAheadOfAuthentication(t *testing.T) {
	a := &countingAuth{}
	e := New(Options{MaxBodyBytes: 10, Access: &Access{Auth: a, OpenPaths: []string{"/healthz"}}})
	if err := e.HandleGet("/healthz", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})); err != nil {
		t.Fatal(err)
	}
	h := e.Handler()
	for _, tc := range []struct {
		name, method, path, body, authz string
		want                            int
		auths                           int64
	}{
		{"oversized without credentials", http.MethodPost, "/v1/customers", strings.Repeat("x", 11), "", http.StatusRequestEntityTooLarge, 0},
		{"oversized with bad credentials", http.MethodPost, "/v1/customers", strings.Repeat("x", 11), "Bearer bad", http.StatusRequestEntityTooLarge, 0},
		{"probe", http.MethodGet, "/healthz", "", "", http.StatusOK, 0},
		{"small without credentials", http.MethodPost, "/v1/customers", "{}", "", http.StatusUnauthorized, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a.n.Store(0)
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			if tc.authz != "" {
				req.Header.Set("Authorization", tc.authz)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.want || a.n.Load() != tc.auths {
				t.Errorf("got %d after %d authentications, want %d after %d", rec.Code, a.n.Load(), tc.want, tc.auths)
			}
			if rec.Code == http.StatusUnauthorized && rec.Header().Get("WWW-Authenticate") != `Bearer realm="tenure"` {
				t.Errorf("challenge %q", rec.Header().Get("WWW-Authenticate"))
			}
		})
	}
}

func TestRateLimitTakesTheMostGenerousRole(t *testing.T) {
	g := &guard{Access: Access{Rates: map[auth.Role]Rate{auth.Storefront: {PerSecond: 1, Burst: 1}, auth.Analyst: {PerSecond: 1, Burst: 3}}}, limiters: map[string]*limiter{}}
	p := auth.Principal{Name: "two", Kind: auth.KindKey, ID: "x", Roles: []auth.Role{auth.Storefront, auth.Analyst}}
	for i := range 3 {
		if _, ok := g.allow(p); !ok {
			t.Fatalf("request %d limited, want a burst of 3", i+1)
		}
	}
	if wait, ok := g.allow(p); ok || wait <= 0 {
		t.Errorf("fourth request: ok=%v wait=%s, want limited with a wait", ok, wait)
	}
	if _, ok := g.allow(auth.Principal{Name: "root", Roles: []auth.Role{auth.Admin}}); !ok {
		t.Error("admin limited, want no limit for a role without one")
	}
}
