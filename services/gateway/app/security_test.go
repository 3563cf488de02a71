package app_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"

	"github.com/tenurehq/tenure/services/gateway/app"
	"github.com/tenurehq/tenure/services/gateway/internal/edge"
	"github.com/tenurehq/tenure/services/platform/auth"
	"github.com/tenurehq/tenure/services/platform/auth/authtest"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	profileapp "github.com/tenurehq/tenure/services/profile/app"
)

// bearer is an Authorization header with key.
func bearer(key string) http.Header { return http.Header{"Authorization": {"Bearer " + key}} }

// noCredentials sends no Authorization header.
var noCredentials = http.Header{"Authorization": {""}}

// waitKey waits until the gateway accepts key (the key file reloads).
func (s *stack) waitKey(t *testing.T, key string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, _ := s.do(t, http.MethodGet, "/v1/customers", nil, bearer(key))
		if code != http.StatusUnauthorized {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("key not accepted 10 s after it was created")
		}
		time.Sleep(stacktest.KeyReloadInterval / 2)
	}
}

// roleKeys creates a key for every role and waits until they work.
func (s *stack) roleKeys(t *testing.T) map[auth.Role]string {
	t.Helper()
	keys := map[auth.Role]string{}
	for _, r := range []auth.Role{auth.Admin, auth.Operator, auth.Storefront, auth.Analyst, auth.Privacy} {
		keys[r] = s.st.CreateKey("test-"+string(r), r)
	}
	for _, k := range keys {
		s.waitKey(t, k)
	}
	return keys
}

// TestRolesThroughGatewayAndGRPC: every role against a table of calls,
// through the gateway (allowed → 2xx, denied → 403, none → 401) and
// straight to the service over gRPC (OK, PERMISSION_DENIED,
// UNAUTHENTICATED).
func TestRolesThroughGatewayAndGRPC(t *testing.T) {
	s := startStack(t, stackOptions{})
	keys := s.roleKeys(t)
	if code, b := s.do(t, http.MethodPost, "/v1/customers?customerId=seed", strings.NewReader(`{"fullName":"Seed"}`), nil); code != http.StatusOK {
		t.Fatalf("seed customer = %d %s", code, b)
	}
	type call struct {
		name, method, path, body string
		allowed                  []auth.Role
	}
	calls := []call{
		{"ListCustomers", http.MethodGet, "/v1/customers", "", []auth.Role{auth.Operator, auth.Analyst}},
		{"CreateCustomer", http.MethodPost, "/v1/customers?customerId=new-%s", `{"fullName":"New"}`, []auth.Role{auth.Operator, auth.Storefront}},
		{"ExportCustomer", http.MethodGet, "/v1/customers/seed:export", "", []auth.Role{auth.Privacy}},
		{"GetEventLogHead", http.MethodGet, "/v1/events:head", "", []auth.Role{auth.Operator, auth.Analyst}},
		{"ListSegments", http.MethodGet, "/v1/segments", "", []auth.Role{auth.Operator, auth.Analyst}},
		{"GetProgramme", http.MethodGet, "/v1/loyalty/programme", "", []auth.Role{auth.Operator, auth.Analyst, auth.Storefront}},
	}
	for _, c := range calls {
		for _, role := range []auth.Role{auth.Admin, auth.Operator, auth.Storefront, auth.Analyst, auth.Privacy, ""} {
			t.Run(c.name+"/"+roleName(role), func(t *testing.T) {
				path := c.path
				if strings.Contains(path, "%s") {
					path = fmt.Sprintf(path, role)
				}
				var body io.Reader
				if c.body != "" {
					body = strings.NewReader(c.body)
				}
				header := noCredentials
				want := http.StatusUnauthorized
				if role != "" {
					header = bearer(keys[role])
					want = http.StatusForbidden
					if role == auth.Admin || contains(c.allowed, role) {
						want = http.StatusOK
					}
				}
				resp, b := s.send(t, c.method, path, body, header)
				if resp.StatusCode != want {
					t.Fatalf("%s %s as %q = %d %s, want %d", c.method, path, role, resp.StatusCode, b, want)
				}
				switch want {
				case http.StatusUnauthorized:
					if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
						t.Errorf("401 without a Bearer WWW-Authenticate challenge: %v", resp.Header)
					}
				case http.StatusForbidden:
					if !strings.Contains(string(b), auth.ReasonPermissionDenied) || !strings.Contains(string(b), string(c.allowed[0])) {
						t.Errorf("403 body %s: want reason %s naming role %s", b, auth.ReasonPermissionDenied, c.allowed[0])
					}
				}
			})
		}
	}

	// The same rules straight over gRPC: bypassing the gateway gains nothing.
	grpcCalls := map[string]func(profilev1.ProfileServiceClient, string) error{
		"ListCustomers": func(c profilev1.ProfileServiceClient, _ string) error {
			_, err := c.ListCustomers(context.Background(), &profilev1.ListCustomersRequest{})
			return err
		},
		"CreateCustomer": func(c profilev1.ProfileServiceClient, role string) error {
			_, err := c.CreateCustomer(context.Background(), &profilev1.CreateCustomerRequest{CustomerId: "grpc-" + role, Customer: &profilev1.Customer{}})
			return err
		},
		"ExportCustomer": func(c profilev1.ProfileServiceClient, _ string) error {
			_, err := c.ExportCustomer(context.Background(), &profilev1.ExportCustomerRequest{Name: "customers/seed"})
			return err
		},
	}
	for _, c := range calls[:3] {
		for _, role := range []auth.Role{auth.Admin, auth.Operator, auth.Storefront, auth.Analyst, auth.Privacy, ""} {
			t.Run("grpc/"+c.name+"/"+roleName(role), func(t *testing.T) {
				want := codes.Unauthenticated
				if role != "" {
					want = codes.PermissionDenied
					if role == auth.Admin || contains(c.allowed, role) {
						want = codes.OK
					}
				}
				client := profilev1.NewProfileServiceClient(stacktest.DialKey(t, s.profileAddr, keys[role]))
				if err := grpcCalls[c.name](client, string(role)); status.Code(err) != want {
					t.Errorf("%s as %q: got %v, want %v", c.name, role, err, want)
				}
			})
		}
	}
}

func roleName(r auth.Role) string {
	if r == "" {
		return "none"
	}
	return string(r)
}

func contains(roles []auth.Role, r auth.Role) bool {
	for _, x := range roles {
		if x == r {
			return true
		}
	}
	return false
}

// TestForgedHeadersChangeNothing: metadata and forwarding headers a caller
// makes up neither authenticate it nor widen its roles.
func TestForgedHeadersChangeNothing(t *testing.T) {
	s := startStack(t, stackOptions{})
	store := s.st.CreateKey("shop", auth.Storefront)
	s.waitKey(t, store)
	forged := func(h http.Header) http.Header {
		h.Set("Grpc-Metadata-Authorization", stacktest.AuthHeader())
		h.Set("Grpc-Metadata-X-Tenure-Roles", "admin")
		h.Set("X-Forwarded-For", "127.0.0.1")
		h.Set("X-Forwarded-Host", "internal.tenure")
		h.Set("X-Forwarded-User", "admin")
		h.Set("X-Forwarded-Proto", "https")
		return h
	}
	for _, tc := range []struct {
		name   string
		header http.Header
		want   int
	}{
		{"no credentials", forged(http.Header{"Authorization": {""}}), http.StatusUnauthorized},
		{"storefront key", forged(bearer(store)), http.StatusForbidden},
		{"two authorization headers", forged(http.Header{"Authorization": {"Bearer " + store, stacktest.AuthHeader()}}), http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, b := s.do(t, http.MethodGet, "/v1/customers", nil, tc.header); code != tc.want {
				t.Errorf("got %d %s, want %d", code, b, tc.want)
			}
		})
	}
	// What the storefront may do, it still may: its own credentials reach
	// the backend, not the forged ones.
	if code, b := s.do(t, http.MethodPost, "/v1/customers?customerId=forged", strings.NewReader(`{"fullName":"F"}`), forged(bearer(store))); code != http.StatusOK {
		t.Errorf("create as storefront with forged headers = %d %s, want 200", code, b)
	}
}

// TestTokensThroughGateway: a token from the configured issuer works; an
// expired, not yet valid, wrongly signed, wrong-audience or alg "none"
// token is refused with 401.
func TestTokensThroughGateway(t *testing.T) {
	iss := authtest.NewIssuer(t)
	other := authtest.NewIssuer(t)
	cfg := stacktest.AuthConfig(t)
	cfg.JWT = iss.Config()
	st := stacktest.Start(t, stacktest.Options{Auth: &cfg})
	st.Add(profileapp.Component(nil))
	gw := st.Add(app.Component(nil))
	base := "http://" + gw.Addr()
	now := time.Now()
	claims := func(edit func(jwt.MapClaims)) string {
		c := iss.Claims("dana", auth.Analyst)
		edit(c)
		return iss.Sign(t, c)
	}
	otherSigned := other.Sign(t, iss.Claims("dana", auth.Analyst))
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, iss.Claims("dana", auth.Admin)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	for _, tc := range []struct {
		name  string
		token string
		want  int
	}{
		{"valid", claims(func(jwt.MapClaims) {}), http.StatusOK},
		{"expired", claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Hour).Unix() }), http.StatusUnauthorized},
		{"not yet valid", claims(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Hour).Unix() }), http.StatusUnauthorized},
		{"wrongly signed", otherSigned, http.StatusUnauthorized},
		{"wrong audience", claims(func(c jwt.MapClaims) { c["aud"] = "not-tenure" }), http.StatusUnauthorized},
		{"alg none", none, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, base+"/v1/customers", nil)
			req.Header.Set("Authorization", "Bearer "+tc.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("got %d %s, want %d", resp.StatusCode, b, tc.want)
			}
		})
	}
}

// TestRevokedKeyStopsWorking: a revoked key is refused, at the gateway and
// over gRPC, within the reload interval of the key file.
func TestRevokedKeyStopsWorking(t *testing.T) {
	s := startStack(t, stackOptions{noBackends: false})
	key := s.st.CreateKey("leaver", auth.Operator)
	s.waitKey(t, key)
	if _, err := auth.RevokeKey(s.st.KeysFile(), "leaver", time.Now()); err != nil {
		t.Fatal(err)
	}
	revoked := time.Now()
	client := profilev1.NewProfileServiceClient(stacktest.DialKey(t, s.profileAddr, key))
	for {
		code, _ := s.do(t, http.MethodGet, "/v1/customers", nil, bearer(key))
		_, err := client.ListCustomers(context.Background(), &profilev1.ListCustomersRequest{})
		if code == http.StatusUnauthorized && status.Code(err) == codes.Unauthenticated {
			break
		}
		// The interval, plus generous room for a loaded machine.
		if time.Since(revoked) > 20*stacktest.KeyReloadInterval {
			t.Fatalf("revoked key still works %s later: gateway %d, gRPC %v", time.Since(revoked), code, err)
		}
		time.Sleep(stacktest.KeyReloadInterval / 4)
	}
}

// TestBodyLimitBeforeAuthentication: an oversized body is refused with 413
// before the caller's credentials are looked at.
func TestBodyLimitBeforeAuthentication(t *testing.T) {
	s := startStack(t, stackOptions{noBackends: true, maxBodyBytes: 64})
	for _, h := range []http.Header{noCredentials, bearer("tnr_not_a_key")} {
		resp, b := s.send(t, http.MethodPost, "/v1/customers?customerId=x", strings.NewReader(strings.Repeat("x", 100)), h)
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("got %d %s, want 413", resp.StatusCode, b)
		}
	}
}

// TestRateLimitPerPrincipal: with concurrent callers, one principal gets
// its burst and then 429 with Retry-After; another principal of the same
// role is unaffected.
func TestRateLimitPerPrincipal(t *testing.T) {
	s := startStack(t, stackOptions{gateway: func(c *app.Config) {
		c.RateLimits = map[auth.Role]edge.Rate{auth.Storefront: {PerSecond: 1, Burst: 10}}
	}})
	busy, calm := s.st.CreateKey("busy", auth.Storefront), s.st.CreateKey("calm", auth.Storefront)
	// waitKey uses a request of its own against the bucket: one token.
	s.waitKey(t, busy)
	s.waitKey(t, calm)
	var ok, limited atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range 8 {
		wg.Go(func() {
			for range 5 {
				resp, b := s.send(t, http.MethodGet, "/v1/loyalty/programme", nil, bearer(busy))
				switch resp.StatusCode {
				case http.StatusOK:
					ok.Add(1)
				case http.StatusTooManyRequests:
					limited.Add(1)
					if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 {
						t.Errorf("429 with Retry-After %q, want whole seconds ≥ 1", resp.Header.Get("Retry-After"))
					}
				default:
					t.Errorf("got %d %s", resp.StatusCode, b)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	// 10 tokens of burst, one used by waitKey, plus one per second.
	maxOK := int64(9 + int(elapsed.Seconds()) + 1)
	if ok.Load() > maxOK || ok.Load() < 9 || ok.Load()+limited.Load() != 40 {
		t.Errorf("%d answered, %d limited in %s; want 9 to %d answered", ok.Load(), limited.Load(), elapsed, maxOK)
	}
	if code, b := s.do(t, http.MethodGet, "/v1/loyalty/programme", nil, bearer(calm)); code != http.StatusOK {
		t.Errorf("another storefront key = %d %s, want 200", code, b)
	}
}

// TestAuditLog: mutations and privacy operations leave a record naming the
// principal, method, resource, request id and outcome in the structured log.
func TestAuditLog(t *testing.T) {
	var mu sync.Mutex
	var logs bytes.Buffer
	logger := func(name string) *slog.Logger {
		if name != "profile" {
			return slog.New(slog.DiscardHandler)
		}
		return slog.New(slog.NewJSONHandler(lockedWriter{&mu, &logs}, nil))
	}
	st := stacktest.Start(t, stacktest.Options{Logger: logger})
	p := st.Add(profileapp.Component(nil))
	client := profilev1.NewProfileServiceClient(stacktest.Dial(t, p.Addr()))
	priv := st.CreateKey("dpo", auth.Privacy)
	if _, err := client.CreateCustomer(context.Background(), &profilev1.CreateCustomerRequest{CustomerId: "aud-1", Customer: &profilev1.Customer{}, RequestId: "req-create"}); err != nil {
		t.Fatal(err)
	}
	privClient := profilev1.NewProfileServiceClient(stacktest.DialKey(t, p.Addr(), priv))
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := privClient.ExportCustomer(context.Background(), &profilev1.ExportCustomerRequest{Name: "customers/aud-1"})
		if err == nil {
			break
		}
		if status.Code(err) != codes.Unauthenticated || time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(stacktest.KeyReloadInterval / 2)
	}
	mu.Lock()
	defer mu.Unlock()
	var records []map[string]any
	for _, line := range bytes.Split(logs.Bytes(), []byte("\n")) {
		var m map[string]any
		if json.Unmarshal(line, &m) == nil && m["msg"] == "audit" {
			records = append(records, m)
		}
	}
	want := []map[string]string{
		{"principal": "key:test-admin", "method": "/tenure.profile.v1.ProfileService/CreateCustomer", "resource": "aud-1", "request_id": "req-create", "outcome": "OK"},
		{"principal": "key:dpo", "method": "/tenure.profile.v1.ProfileService/ExportCustomer", "resource": "customers/aud-1", "outcome": "OK"},
	}
	for _, w := range want {
		found := false
		for _, r := range records {
			match := true
			for k, v := range w {
				if k == "resource" && w["method"] == "/tenure.profile.v1.ProfileService/CreateCustomer" {
					continue // a create names its parent, if any
				}
				if fmt.Sprint(r[k]) != v {
					match = false
				}
			}
			if match {
				found = true
			}
		}
		if !found {
			t.Errorf("no audit record %v in %v", w, records)
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestEdgeHeadersCORSAndTLS: security headers on every answer, CORS only
// for allowed origins, probes open, and TLS when certificate files are
// configured.
func TestEdgeHeadersCORSAndTLS(t *testing.T) {
	ca := authtest.NewCA(t, "client")
	s := startStack(t, stackOptions{noBackends: true, gateway: func(c *app.Config) {
		c.CORSOrigins = []string{"https://shop.example"}
		c.TLS = auth.TLSConfig{CertFile: ca.ServerCertFile, KeyFile: ca.ServerKeyFile}
	}})
	pem, err := os.ReadFile(ca.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	s.gateway = strings.Replace(s.gateway, "http://", "https://", 1)
	s.http.Transport = withAdminKey{&http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}

	resp, _ := s.send(t, http.MethodGet, "/healthz", nil, noCredentials)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz over TLS without credentials = %d, want 200", resp.StatusCode)
	}
	for _, h := range []string{"X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy", "Referrer-Policy", "Strict-Transport-Security"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("/healthz has no %s header", h)
		}
	}
	resp, _ = s.send(t, http.MethodGet, "/v1/customers", nil, noCredentials)
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("401 answer %d without security headers: %v", resp.StatusCode, resp.Header)
	}
	preflight := func(origin string) *http.Response {
		resp, _ := s.send(t, http.MethodOptions, "/v1/customers", nil, http.Header{"Authorization": {""}, "Origin": {origin}, "Access-Control-Request-Method": {"GET"}})
		return resp
	}
	if r := preflight("https://shop.example"); r.StatusCode != http.StatusNoContent || r.Header.Get("Access-Control-Allow-Origin") != "https://shop.example" {
		t.Errorf("allowed preflight = %d %v", r.StatusCode, r.Header)
	}
	if r := preflight("https://evil.example"); r.StatusCode != http.StatusForbidden || r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("foreign preflight = %d %v, want 403 without CORS headers", r.StatusCode, r.Header)
	}
}

// TestEveryBackendRPCHasAPolicy: the gateway links every service it routes
// to, so the registry holds all their RPCs; each needs a policy line, or it
// would be denied to everyone.
func TestEveryBackendRPCHasAPolicy(t *testing.T) {
	methods := auth.RegisteredMethods("tenure.")
	if len(methods) == 0 {
		t.Fatal("no tenure RPCs registered")
	}
	if err := auth.CheckPolicy(auth.DefaultPolicy(), methods); err != nil {
		t.Error(err)
	}
}
