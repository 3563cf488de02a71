// Package auth is who may call what in Tenure: API keys kept hashed in a key
// file that reloads on change, JWTs from the shop's identity provider checked
// against a JWKS, client certificates under mutual TLS, one policy table from
// full gRPC method to the roles allowed, and the gRPC interceptors and
// per-RPC credentials every service and the gateway use. A method missing
// from the policy is denied.
package auth

import (
	"context"
	"slices"
	"strings"
)

// Role is what a principal is allowed to do; the policy maps methods to
// roles.
type Role string

// The roles. Admin may call everything; Service is the identity of another
// Tenure service calling this one (its own key or client certificate).
const (
	Admin      Role = "admin"
	Operator   Role = "operator"
	Storefront Role = "storefront"
	Analyst    Role = "analyst"
	Privacy    Role = "privacy"
	Service    Role = "service"
)

// Roles lists every role, in a stable order.
var Roles = []Role{Admin, Operator, Storefront, Analyst, Privacy, Service}

// ParseRole returns the role named s, or false.
func ParseRole(s string) (Role, bool) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	return r, slices.Contains(Roles, r)
}

// Kind says how a principal proved who it is.
type Kind string

// The kinds of credential.
const (
	KindKey  Kind = "key"
	KindJWT  Kind = "jwt"
	KindCert Kind = "cert"
)

// Principal is the authenticated caller of one request.
type Principal struct {
	// Name is the key's name, the token's subject or the certificate's
	// common name.
	Name string
	// ID is the key id for keys; empty otherwise.
	ID    string
	Kind  Kind
	Roles []Role
}

// Has reports whether p holds role r.
func (p Principal) Has(r Role) bool { return slices.Contains(p.Roles, r) }

// String names the principal for logs and audit records, e.g. "key:ci".
func (p Principal) String() string { return string(p.Kind) + ":" + p.Name }

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal of the request ctx belongs to.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
