package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// Domain is the ErrorInfo domain of authentication and authorization
// errors, the same on every service and the gateway.
const Domain = "auth.tenure.dev"

// ErrorInfo reasons.
const (
	ReasonUnauthenticated  = "UNAUTHENTICATED"
	ReasonPermissionDenied = "PERMISSION_DENIED"
)

// UnauthenticatedMessage tells a caller what to send.
const UnauthenticatedMessage = `missing or invalid credentials: send "authorization: Bearer <API key or token>"`

// Unauthenticated is the status of a call without valid credentials.
func Unauthenticated() *status.Status {
	return withInfo(status.New(codes.Unauthenticated, UnauthenticatedMessage), &errdetails.ErrorInfo{Reason: ReasonUnauthenticated, Domain: Domain})
}

// PermissionDenied is the status of a call the principal's roles do not
// allow; it names the roles that would.
func PermissionDenied(method string, need []Role) *status.Status {
	names := make([]string, len(need))
	for i, r := range need {
		names[i] = string(r)
	}
	msg := fmt.Sprintf("%s needs one of the roles %s", method, strings.Join(names, ", "))
	if len(need) == 0 {
		msg = fmt.Sprintf("%s is not in the access policy: no role may call it", method)
	}
	return withInfo(status.New(codes.PermissionDenied, msg), &errdetails.ErrorInfo{
		Reason: ReasonPermissionDenied, Domain: Domain,
		Metadata: map[string]string{"requiredRoles": strings.Join(names, ",")},
	})
}

func withInfo(st *status.Status, info *errdetails.ErrorInfo) *status.Status {
	if d, err := st.WithDetails(info); err == nil {
		return d
	}
	return st
}

// Guard authenticates and authorizes every gRPC call of a server and
// writes its audit records.
type Guard struct {
	Auth   *Authenticator
	Policy Policy
	// Log receives audit records and the reasons credentials were refused.
	Log *slog.Logger
	// Persist, when set, also stores the audit record of every privacy
	// operation; a failure is logged as an error (the operation has run).
	Persist func(context.Context, Record) error
}

// Check authenticates the call in ctx (its authorization metadata, else a
// verified client certificate) and authorizes method; it returns ctx with
// the principal, also when the principal is denied (for the audit record).
func (g *Guard) Check(ctx context.Context, method string) (context.Context, error) {
	if Open(method) {
		return ctx, nil
	}
	p, err := g.authenticate(ctx)
	if err != nil {
		g.Log.InfoContext(ctx, "credentials refused", "method", method, "error", err)
		return nil, Unauthenticated().Err()
	}
	if !g.Policy.Allows(method, p) {
		return WithPrincipal(ctx, p), PermissionDenied(method, g.Policy.Needed(method)).Err()
	}
	return WithPrincipal(ctx, p), nil
}

func (g *Guard) authenticate(ctx context.Context) (Principal, error) {
	if g.Auth.Disabled() {
		return Anonymous, nil
	}
	vals := metadata.ValueFromIncomingContext(ctx, "authorization")
	switch len(vals) {
	case 0:
		if p, ok := certPrincipal(ctx); ok {
			return p, nil
		}
		return Principal{}, ErrNoCredentials
	case 1:
		return g.Auth.Authenticate(ctx, vals[0])
	}
	return Principal{}, ErrAmbiguous
}

// certPrincipal is the principal of a verified client certificate: another
// Tenure service under mutual TLS.
func certPrincipal(ctx context.Context) (Principal, bool) {
	pr, ok := peer.FromContext(ctx)
	if !ok {
		return Principal{}, false
	}
	ti, ok := pr.AuthInfo.(credentials.TLSInfo)
	if !ok || len(ti.State.VerifiedChains) == 0 || len(ti.State.VerifiedChains[0]) == 0 {
		return Principal{}, false
	}
	return Principal{Name: ti.State.VerifiedChains[0][0].Subject.CommonName, Kind: KindCert, Roles: []Role{Service}}, true
}

// UnaryServerInterceptor checks every unary call and audits mutations.
func (g *Guard) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		actx, err := g.Check(ctx, info.FullMethod)
		if err != nil {
			if actx != nil {
				ctx = actx
			}
			g.audit(ctx, info.FullMethod, req, err)
			return nil, err
		}
		resp, err := handler(actx, req)
		g.audit(actx, info.FullMethod, req, err)
		return resp, err
	}
}

// StreamServerInterceptor checks every stream before its handler runs.
func (g *Guard) StreamServerInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := g.Check(ss.Context(), info.FullMethod)
		if err != nil {
			return err
		}
		return handler(srv, &principalStream{ServerStream: ss, ctx: ctx})
	}
}

type principalStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *principalStream) Context() context.Context { return s.ctx }

// KeyCredentials sends a service's own API key on every call it makes.
type KeyCredentials struct {
	Key string
	// Secure requires a TLS connection before the key is sent.
	Secure bool
}

// GetRequestMetadata implements credentials.PerRPCCredentials.
func (c KeyCredentials) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	if c.Key == "" {
		return nil, errors.New("auth: no service key")
	}
	return map[string]string{"authorization": "Bearer " + c.Key}, nil
}

// RequireTransportSecurity implements credentials.PerRPCCredentials.
func (c KeyCredentials) RequireTransportSecurity() bool { return c.Secure }
