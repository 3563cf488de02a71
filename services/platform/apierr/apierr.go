// Package apierr converts errors into gRPC statuses at the API boundary,
// through one mapping table per service.
//
// Domain packages return sentinel errors (wrapped with %w as needed); the
// service's Table maps each sentinel to a status code and a stable
// UPPER_SNAKE reason carried in a google.rpc.ErrorInfo detail. Errors nobody
// mapped become codes.Internal with a generic message: the detail goes to the
// log, never to the caller.
package apierr

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"unicode"

	"github.com/tenurehq/tenure/services/platform/fielderr"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrInvalidArgument is the generic sentinel for a bad request that needs no
// domain-specific reason. Every Table maps it (after its own rules). A bad
// value in one request field is better a *fielderr.Error, which every Table
// maps the same way (INVALID_ARGUMENT, with a BadRequest entry naming the
// field) unless one of its rules matches the error's more specific Err.
var ErrInvalidArgument = errors.New("apierr: invalid argument")

// ErrInvalidText is fielderr.ErrInvalidText, named here beside the other
// generic sentinels: text that cannot be stored (a NUL character or invalid
// UTF-8). It maps to InvalidArgument with reason INVALID_TEXT.
var ErrInvalidText = fielderr.ErrInvalidText

// ErrMalformedRequest is the generic sentinel for a request message that
// does not decode (corrupt protobuf). It maps to InvalidArgument with
// reason MALFORMED_REQUEST.
var ErrMalformedRequest = errors.New("apierr: malformed request")

// genericRules apply after a Table's own rules.
var genericRules = []Rule{
	{Err: ErrInvalidArgument, Code: codes.InvalidArgument, Reason: "INVALID_ARGUMENT"},
	{Err: fielderr.ErrInvalidText, Code: codes.InvalidArgument, Reason: "INVALID_TEXT"},
	{Err: ErrMalformedRequest, Code: codes.InvalidArgument, Reason: "MALFORMED_REQUEST"},
	{Err: fielderr.ErrInvalidArgument, Code: codes.InvalidArgument, Reason: "INVALID_ARGUMENT"},
}

// InternalMessage is the only message a caller sees for an unmapped error.
const InternalMessage = "internal error"

// Rule maps errors matching Err (by errors.Is) to Code and Reason.
type Rule struct {
	Err  error
	Code codes.Code
	// Reason is a stable UPPER_SNAKE identifier; empty means the code's
	// name, e.g. NOT_FOUND.
	Reason string
}

// FieldViolation is an error about one request field, such as a
// *fielderr.Error (the type services use). Every FieldViolation
// in an error's chain (including errors.Join branches) becomes an entry of a
// google.rpc.BadRequest detail. Its description is the error's
// Description() string if it has one (the explanation alone, without the
// field name the violation already carries), else its Error().
type FieldViolation interface {
	error
	Field() string
}

// Table is a service's error mapping.
type Table struct {
	// Domain is the ErrorInfo domain, e.g. "profile.tenure.dev".
	Domain string
	// Rules are tried in order; the first match wins.
	Rules []Rule
	// Logger receives unmapped errors; nil means slog.Default().
	Logger *slog.Logger
}

// Status converts err into a status:
//   - nil stays nil;
//   - an error that already carries a gRPC status is returned as is;
//   - the first rule whose Err matches (errors.Is) gives the code, the
//     error's text as the message and an ErrorInfo{Reason, Domain}, with
//     metadata from an ErrorMetadata() map[string]string method in the chain
//     if any, and a BadRequest detail listing the chain's FieldViolations;
//   - context.Canceled and context.DeadlineExceeded give Canceled and
//     DeadlineExceeded;
//   - an error saying the database cannot be reached now (see Unavailable)
//     gives Unavailable with UnavailableMessage and reason UNAVAILABLE, and
//     is logged as a warning;
//   - anything else gives Internal with InternalMessage and reason INTERNAL,
//     and the full error is logged with the request's context (trace id).
func (t *Table) Status(ctx context.Context, err error) *status.Status {
	if err == nil {
		return nil
	}
	if s, ok := status.FromError(err); ok {
		return s
	}
	var rules []Rule
	if t != nil {
		rules = t.Rules
	}
	for _, group := range [][]Rule{rules, genericRules} {
		for _, r := range group {
			if r.Err != nil && errors.Is(err, r.Err) {
				return t.build(r.Code, err.Error(), reasonOf(r), err)
			}
		}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return t.build(codes.Canceled, context.Canceled.Error(), "CANCELED", nil)
	case errors.Is(err, context.DeadlineExceeded):
		return t.build(codes.DeadlineExceeded, context.DeadlineExceeded.Error(), "DEADLINE_EXCEEDED", nil)
	case Unavailable(err):
		t.logger().WarnContext(ctx, "backend unavailable", loggedAttrs(ctx, err)...)
		return t.build(codes.Unavailable, UnavailableMessage, "UNAVAILABLE", nil)
	}
	t.logger().ErrorContext(ctx, "internal error", loggedAttrs(ctx, err)...)
	return t.build(codes.Internal, InternalMessage, "INTERNAL", nil)
}

func loggedAttrs(ctx context.Context, err error) []any {
	attrs := []any{"error", err.Error()}
	if m, ok := grpc.Method(ctx); ok {
		attrs = append(attrs, "method", m)
	}
	return attrs
}

func (t *Table) logger() *slog.Logger {
	if t == nil || t.Logger == nil {
		return slog.Default()
	}
	return t.Logger
}

func (t *Table) domain() string {
	if t == nil {
		return ""
	}
	return t.Domain
}

// build assembles a status with an ErrorInfo and, when err is non-nil,
// the details derived from err's chain.
func (t *Table) build(code codes.Code, msg, reason string, err error) *status.Status {
	info := &errdetails.ErrorInfo{Reason: reason, Domain: t.domain()}
	var bad *errdetails.BadRequest
	if err != nil {
		walk(err, func(e error) {
			if fv, ok := e.(FieldViolation); ok {
				if bad == nil {
					bad = &errdetails.BadRequest{}
				}
				desc := fv.Error()
				if d, ok := fv.(interface{ Description() string }); ok {
					desc = d.Description()
				}
				bad.FieldViolations = append(bad.FieldViolations, &errdetails.BadRequest_FieldViolation{
					Field:       fv.Field(),
					Description: desc,
				})
			}
			if md, ok := e.(interface{ ErrorMetadata() map[string]string }); ok && info.Metadata == nil {
				info.Metadata = md.ErrorMetadata()
			}
		})
	}
	s := status.New(code, msg)
	var withDetails *status.Status
	var derr error
	if bad != nil {
		withDetails, derr = s.WithDetails(info, bad)
	} else {
		withDetails, derr = s.WithDetails(info)
	}
	if derr != nil {
		return s // details only fail to marshal on invalid UTF-8; keep the code
	}
	return withDetails
}

// walk calls fn for every error in err's tree, depth first. A FieldViolation
// is not descended into, so a violation wrapping another is reported once.
func walk(err error, fn func(error)) {
	if err == nil {
		return
	}
	fn(err)
	if _, ok := err.(FieldViolation); ok {
		return
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		walk(u.Unwrap(), fn)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			walk(e, fn)
		}
	}
}

func reasonOf(r Rule) string {
	if r.Reason != "" {
		return r.Reason
	}
	return CodeReason(r.Code)
}

// ReasonOf returns the ErrorInfo reason of an error a gRPC call returned,
// as a client sees it; "" when err carries none.
func ReasonOf(err error) string {
	st, ok := status.FromError(err)
	if !ok {
		return ""
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

// CodeReason is the ErrorInfo reason used for an error that has no more
// specific one: the code's name in upper snake case, such as
// "FAILED_PRECONDITION".
func CodeReason(c codes.Code) string {
	var b strings.Builder
	for i, r := range c.String() {
		if i > 0 && unicode.IsUpper(r) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

// UnaryServerInterceptor converts handler errors with t.Status.
func (t *Table) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		if err != nil {
			return nil, t.Status(ctx, err).Err()
		}
		return resp, nil
	}
}

// StreamServerInterceptor converts handler errors with t.Status.
func (t *Table) StreamServerInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if err := handler(srv, ss); err != nil {
			return t.Status(ss.Context(), err).Err()
		}
		return nil
	}
}
