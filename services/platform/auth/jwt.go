package auth

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// JWT defaults.
const (
	DefaultLeeway          = 30 * time.Second
	DefaultJWKSRefresh     = 5 * time.Minute
	DefaultRolesClaim      = "roles"
	jwksMaxBytes           = 1 << 20
	jwksMinRefetchInterval = 30 * time.Second
	// A verified token is remembered for up to tokenCacheTTL (never past
	// its exp), so that a caller's token, checked at the gateway and again
	// at each service, costs one signature check a minute rather than one
	// per hop and call. At most tokenCacheSize tokens are remembered.
	tokenCacheTTL  = time.Minute
	tokenCacheSize = 10000
)

// signingMethods are the algorithms a token may be signed with: asymmetric
// ones only, so a public JWKS key can never be used as an HMAC secret, and
// never "none".
var signingMethods = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// Errors of tokens.
var (
	ErrNoJWKS      = errors.New("auth: tokens are not accepted: no JWKS configured")
	ErrUnknownKID  = errors.New("auth: token signed with a key the JWKS does not hold")
	ErrInvalidJWKS = errors.New("auth: invalid JWKS")
)

// JWTConfig configures token verification. JWKSFile or JWKSURL is
// required; Issuer and Audience are required.
type JWTConfig struct {
	JWKSFile string
	JWKSURL  string
	Issuer   string
	Audience string
	// RolesClaim names the claim holding the roles, a list of strings or
	// one space-separated string; dots reach into objects
	// ("realm_access.roles"). Default "roles".
	RolesClaim string
	// Leeway is the clock skew allowed on exp, nbf and iat; default 30 s.
	Leeway time.Duration
	// Refresh is how often the JWKS is fetched again; default 5 minutes. A
	// token naming an unknown key also triggers a fetch, at most every
	// 30 s.
	Refresh time.Duration
	// HTTPClient fetches JWKSURL; default a client with a 10 s timeout.
	HTTPClient *http.Client
}

// Verifier checks JWTs against a cached, refreshed JWKS.
type Verifier struct {
	cfg    JWTConfig
	parser *jwt.Parser
	log    *slog.Logger

	mu        sync.RWMutex
	keys      jose.JSONWebKeySet
	fetchedAt time.Time
	fetchMu   sync.Mutex

	now     func() time.Time
	cacheMu sync.Mutex
	cache   map[[sha256.Size]byte]cachedToken
}

type cachedToken struct {
	p     Principal
	until time.Time
}

// NewVerifier loads the JWKS once and returns a verifier; now is the clock
// that expiry is checked against.
func NewVerifier(ctx context.Context, cfg JWTConfig, now func() time.Time, log *slog.Logger) (*Verifier, error) {
	if (cfg.JWKSFile == "") == (cfg.JWKSURL == "") {
		return nil, errors.New("auth: jwt: set exactly one of the JWKS file and the JWKS URL")
	}
	if cfg.Issuer == "" || cfg.Audience == "" {
		return nil, errors.New("auth: jwt: issuer and audience are required")
	}
	if cfg.RolesClaim == "" {
		cfg.RolesClaim = DefaultRolesClaim
	}
	if cfg.Leeway <= 0 {
		cfg.Leeway = DefaultLeeway
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = DefaultJWKSRefresh
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	v := &Verifier{cfg: cfg, log: log, now: now, cache: map[[sha256.Size]byte]cachedToken{}, parser: jwt.NewParser(
		jwt.WithValidMethods(signingMethods),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(now),
	)}
	if err := v.fetch(ctx); err != nil {
		return nil, err
	}
	return v, nil
}

// Run refreshes the JWKS every Refresh until ctx is done; a failed fetch
// keeps the keys loaded before.
func (v *Verifier) Run(ctx context.Context) {
	every(ctx, v.cfg.Refresh, func() {
		if err := v.fetch(ctx); err != nil {
			v.log.WarnContext(ctx, "JWKS refresh failed; keeping the keys loaded before", "error", err)
		}
	})
}

// fetch loads the JWKS from its file or URL.
func (v *Verifier) fetch(ctx context.Context) error {
	v.fetchMu.Lock()
	defer v.fetchMu.Unlock()
	b, err := v.read(ctx)
	if err != nil {
		return err
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(b, &set); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidJWKS, err)
	}
	pub := jose.JSONWebKeySet{}
	for _, k := range set.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		pub.Keys = append(pub.Keys, k.Public())
	}
	v.mu.Lock()
	v.keys, v.fetchedAt = pub, time.Now()
	v.mu.Unlock()
	return nil
}

func (v *Verifier) read(ctx context.Context) ([]byte, error) {
	if v.cfg.JWKSFile != "" {
		b, err := os.ReadFile(v.cfg.JWKSFile)
		if err != nil {
			return nil, fmt.Errorf("auth: jwks file: %w", err)
		}
		return b, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.cfg.JWKSURL, nil)
	if err != nil {
		return nil, fmt.Errorf("auth: jwks url: %w", err)
	}
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("auth: jwks url: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("auth: jwks url: HTTP %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, jwksMaxBytes))
	if err != nil {
		return nil, fmt.Errorf("auth: jwks url: %w", err)
	}
	return b, nil
}

// key returns the verification key for a token header, fetching the JWKS
// again (at most every 30 s) when the key id is unknown.
func (v *Verifier) key(ctx context.Context, t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	if k, ok := v.lookup(kid, t.Method.Alg()); ok {
		return k, nil
	}
	v.mu.RLock()
	stale := time.Since(v.fetchedAt) >= jwksMinRefetchInterval
	v.mu.RUnlock()
	if stale {
		if err := v.fetch(ctx); err != nil {
			v.log.WarnContext(ctx, "JWKS fetch for an unknown key failed", "error", err)
		}
		if k, ok := v.lookup(kid, t.Method.Alg()); ok {
			return k, nil
		}
	}
	return nil, ErrUnknownKID
}

// lookup finds the key kid (the only key when the token names none) whose
// algorithm, when the JWKS states one, is alg.
func (v *Verifier) lookup(kid, alg string) (any, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	keys := v.keys.Keys
	if kid != "" {
		keys = v.keys.Key(kid)
	} else if len(keys) != 1 {
		return nil, false
	}
	for _, k := range keys {
		if k.Algorithm == "" || k.Algorithm == alg {
			return k.Key, true
		}
	}
	return nil, false
}

// Authenticate verifies token and returns its principal: the subject, with
// the roles of the configured claim that Tenure knows.
func (v *Verifier) Authenticate(ctx context.Context, token string) (Principal, error) {
	sum := sha256.Sum256([]byte(token))
	now := v.now()
	v.cacheMu.Lock()
	c, ok := v.cache[sum]
	v.cacheMu.Unlock()
	if ok && now.Before(c.until) {
		return c.p, nil
	}
	claims := jwt.MapClaims{}
	if _, err := v.parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) { return v.key(ctx, t) }); err != nil {
		return Principal{}, fmt.Errorf("auth: token: %w", err)
	}
	sub, _ := claims["sub"].(string)
	if sub == "" {
		return Principal{}, errors.New("auth: token: no subject")
	}
	p := Principal{Name: sub, Kind: KindJWT, Roles: claimRoles(claims, v.cfg.RolesClaim)}
	until := now.Add(tokenCacheTTL)
	if exp, err := claims.GetExpirationTime(); err == nil && exp != nil && exp.Before(until) {
		until = exp.Time
	}
	v.cacheMu.Lock()
	if len(v.cache) >= tokenCacheSize {
		clear(v.cache)
	}
	v.cache[sum] = cachedToken{p: p, until: until}
	v.cacheMu.Unlock()
	return p, nil
}

// claimRoles reads the roles at path (dot-separated) in claims.
func claimRoles(claims map[string]any, path string) []Role {
	var cur any = claims
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	var names []string
	switch x := cur.(type) {
	case string:
		names = strings.Fields(x)
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok {
				names = append(names, s)
			}
		}
	}
	var roles []Role
	for _, n := range names {
		if r, ok := ParseRole(n); ok {
			roles = append(roles, r)
		}
	}
	return roles
}
