package edge

import (
	"context"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"golang.org/x/time/rate"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	"github.com/tenurehq/tenure/services/platform/auth"
)

// ErrorInfo reasons of the gateway's access checks.
const (
	ReasonUnauthenticated = auth.ReasonUnauthenticated
	ReasonRateLimited     = "RATE_LIMITED"
	ReasonOriginForbidden = "ORIGIN_NOT_ALLOWED"
)

// Authenticator turns an authorization header value into a principal.
type Authenticator interface {
	Authenticate(ctx context.Context, authorization string) (auth.Principal, error)
}

// Rate is a token bucket: PerSecond tokens refill each second up to Burst.
// A zero PerSecond means no limit.
type Rate struct {
	PerSecond float64
	Burst     int
}

// Access configures who gets past the edge: authentication, rate limits,
// CORS and the paths open to everyone.
type Access struct {
	// Auth authenticates callers; nil admits everyone (authentication
	// disabled).
	Auth Authenticator
	// OpenPaths need no credentials: exact paths, or prefixes ending in "/".
	OpenPaths []string
	// Rates limit each principal by its role; a principal with several
	// roles gets the most generous. A role missing here is not limited.
	Rates map[auth.Role]Rate
	// CORSOrigins are the web origins allowed to call the API from a
	// browser, e.g. "https://shop.example"; "*" allows any.
	CORSOrigins []string
	// HSTS adds Strict-Transport-Security (served over TLS).
	HSTS bool
}

// credentialKey carries the authenticated authorization value to the
// metadata of the backend call.
type credentialKey struct{}

// forwardCredentials is the grpc-gateway metadata annotator: the backend
// call carries the credentials the edge authenticated, and nothing a
// header could forge.
func forwardCredentials(ctx context.Context, _ *http.Request) metadata.MD {
	if v, ok := ctx.Value(credentialKey{}).(string); ok {
		return metadata.Pairs("authorization", v)
	}
	return nil
}

// guard is the access layer in front of the mux.
type guard struct {
	Access
	e        *Edge
	mu       sync.Mutex
	limiters map[string]*limiter
}

type limiter struct {
	*rate.Limiter
	used time.Time
}

// maxLimiters bounds the principals remembered; idle ones are forgotten
// when the table is full.
const maxLimiters = 10000

// serve runs the checks in order: security headers, CORS, open paths, the
// body limit (ahead of any authentication work), authentication, the rate
// limit; then next with the credentials to forward.
func (g *guard) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	w = &challengeWriter{ResponseWriter: w, challenge: `Bearer realm="tenure"`}
	g.securityHeaders(w, r)
	if !g.cors(w, r) {
		return
	}
	if g.open(r.URL.Path) {
		next.ServeHTTP(w, r)
		return
	}
	if g.e.maxBody > 0 && r.ContentLength > g.e.maxBody {
		g.e.fail(w, r, bodyTooLarge(g.e.maxBody))
		return
	}
	if g.Auth == nil {
		next.ServeHTTP(w, r)
		return
	}
	authz := r.Header.Get("Authorization")
	p, err := g.Auth.Authenticate(r.Context(), authz)
	if err != nil || len(r.Header.Values("Authorization")) > 1 {
		if authz != "" {
			w.(*challengeWriter).challenge += `, error="invalid_token"`
		}
		g.e.log.InfoContext(r.Context(), "credentials refused", "path", r.URL.Path, "error", err)
		g.e.fail(w, r, gatewayError(http.StatusUnauthorized, codes.Unauthenticated, ReasonUnauthenticated, auth.UnauthenticatedMessage, nil))
		return
	}
	if wait, ok := g.allow(p); !ok {
		secs := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
		g.e.fail(w, r, gatewayError(http.StatusTooManyRequests, codes.ResourceExhausted, ReasonRateLimited,
			"too many requests for "+p.String()+": retry after "+strconv.Itoa(max(secs, 1))+"s", nil))
		return
	}
	ctx := context.WithValue(auth.WithPrincipal(r.Context(), p), credentialKey{}, authz)
	next.ServeHTTP(w, r.WithContext(ctx))
}

func (g *guard) open(path string) bool {
	return slices.ContainsFunc(g.OpenPaths, func(p string) bool {
		return path == p || (strings.HasSuffix(p, "/") && strings.HasPrefix(path, p))
	})
}

// securityHeaders are set on every response. The API reference page runs
// Swagger UI, whose inline scripts and styles need a wider policy.
func (g *guard) securityHeaders(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	if r.URL.Path == "/docs" || strings.HasPrefix(r.URL.Path, "/docs/") {
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'")
	} else {
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		h.Set("Cache-Control", "no-store")
	}
	if g.HSTS {
		h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	}
}

// cors answers preflight requests and marks allowed origins; it reports
// whether the request goes on.
func (g *guard) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	w.Header().Add("Vary", "Origin")
	allowed := slices.Contains(g.CORSOrigins, origin) || slices.Contains(g.CORSOrigins, "*")
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	if !allowed {
		if preflight {
			g.e.fail(w, r, gatewayError(http.StatusForbidden, codes.PermissionDenied, ReasonOriginForbidden, "origin "+origin+" is not allowed to call this API", nil))
			return false
		}
		return true // no CORS headers: the browser withholds the answer
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Expose-Headers", "X-Request-Id, Retry-After, WWW-Authenticate")
	if preflight {
		h.Set("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-Id, Grpc-Timeout")
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return false
	}
	return true
}

// allow takes a token from p's bucket, or says how long to wait for one.
func (g *guard) allow(p auth.Principal) (time.Duration, bool) {
	var best Rate
	for _, role := range p.Roles {
		rt, ok := g.Rates[role]
		if !ok || rt.PerSecond <= 0 {
			return 0, true // a role without a limit
		}
		if rt.PerSecond > best.PerSecond || (rt.PerSecond == best.PerSecond && rt.Burst > best.Burst) {
			best = rt
		}
	}
	if best.PerSecond <= 0 {
		return 0, true
	}
	key := p.String() + "/" + p.ID
	now := time.Now()
	g.mu.Lock()
	l, ok := g.limiters[key]
	if !ok {
		if len(g.limiters) >= maxLimiters {
			g.forgetIdle(now)
		}
		l = &limiter{Limiter: rate.NewLimiter(rate.Limit(best.PerSecond), max(best.Burst, 1))}
		g.limiters[key] = l
	}
	l.used = now
	g.mu.Unlock()
	res := l.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return d, false
	}
	return 0, true
}

// forgetIdle drops the limiters of principals idle for a minute (their
// buckets are full again by then for any sensible rate); g.mu is held.
func (g *guard) forgetIdle(now time.Time) {
	for k, l := range g.limiters {
		if now.Sub(l.used) > time.Minute {
			delete(g.limiters, k)
		}
	}
}

// challengeWriter gives every 401 answer, the gateway's or a backend's, a
// Bearer challenge in WWW-Authenticate (grpc-gateway would put the status
// message there).
type challengeWriter struct {
	http.ResponseWriter
	challenge string
}

func (c *challengeWriter) WriteHeader(code int) {
	if code == http.StatusUnauthorized {
		c.Header().Set("WWW-Authenticate", c.challenge)
	}
	c.ResponseWriter.WriteHeader(code)
}

// Flush keeps server streams flowing through the wrapper.
func (c *challengeWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (c *challengeWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// fail renders err as the gateway renders every error.
func (e *Edge) fail(w http.ResponseWriter, r *http.Request, err error) {
	_, out := runtime.MarshalerForRequest(e.mux, r)
	runtime.DefaultHTTPErrorHandler(r.Context(), e.mux, out, w, r, err)
}
