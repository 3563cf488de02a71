package edge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/tenurehq/tenure/services/platform/apierr"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// ErrorInfo reasons of routing and decoding errors.
const (
	ReasonRouteNotFound     = "ROUTE_NOT_FOUND"
	ReasonMethodNotAllowed  = "METHOD_NOT_ALLOWED"
	ReasonMalformedRequest  = "MALFORMED_REQUEST"
	ReasonUnexpectedRouting = "ROUTING_ERROR"
)

// gatewayError is an error raised by the gateway itself: a status with
// ErrorInfo in the gateway's domain, answered with the given HTTP status.
func gatewayError(httpStatus int, code codes.Code, reason, msg string, md map[string]string) error {
	st := status.New(code, msg)
	if d, err := st.WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: Domain, Metadata: md}); err == nil {
		st = d
	}
	return &runtime.HTTPStatusError{HTTPStatus: httpStatus, Err: st.Err()}
}

// routingError answers requests that match no route, keeping the HTTP
// status (grpc-gateway's default turns 405 into 501) and adding ErrorInfo.
func routingError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	var err error
	switch httpStatus {
	case http.StatusNotFound:
		err = gatewayError(httpStatus, codes.NotFound, ReasonRouteNotFound, "no route for "+r.Method+" "+r.URL.Path, nil)
	case http.StatusMethodNotAllowed:
		err = gatewayError(httpStatus, codes.Unimplemented, ReasonMethodNotAllowed, "method "+r.Method+" not allowed on "+r.URL.Path, nil)
	case http.StatusBadRequest:
		err = gatewayError(httpStatus, codes.InvalidArgument, ReasonMalformedRequest, http.StatusText(httpStatus), nil)
	default:
		err = gatewayError(http.StatusInternalServerError, codes.Internal, ReasonUnexpectedRouting, "unexpected routing error", nil)
	}
	runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, err)
}

// ErrorInfo reasons the gateway gives to statuses that arrive without one:
// its own decoding failures and transport failures on the way to a backend.
const (
	ReasonBackendUnavailable = "BACKEND_UNAVAILABLE"
	ReasonDeadlineExceeded   = "DEADLINE_EXCEEDED"
	ReasonInternal           = "INTERNAL"
)

// describe gives err an ErrorInfo in the gateway's domain unless it has
// one, and replaces messages that would expose internals with ones written
// for the caller. Failures on the server's side are logged with their
// detail; the caller sees only the generic message.
func (e *Edge) describe(ctx context.Context, err error) error {
	var hse *runtime.HTTPStatusError
	if errors.As(err, &hse) {
		return err // raised by the gateway, already described
	}
	st := status.Convert(err)
	method, _ := runtime.RPCMethod(ctx)
	code := st.Code()
	if hasErrorInfo(st) {
		switch code {
		case codes.Internal, codes.Unknown, codes.Unavailable, codes.DataLoss:
			e.log.WarnContext(ctx, "backend call failed", "rpc", method, "err", err)
		}
		return err
	}
	var reason, msg string
	switch code {
	case codes.InvalidArgument:
		reason, msg = ReasonMalformedRequest, malformedMessage(method, st.Message())
	case codes.Unavailable:
		e.log.WarnContext(ctx, "backend unavailable", "rpc", method, "err", err)
		reason, msg = ReasonBackendUnavailable, "the "+serviceOf(method)+" service is unavailable, retry later"
	case codes.DeadlineExceeded:
		e.log.WarnContext(ctx, "backend call timed out", "rpc", method, "err", err)
		reason, msg = ReasonDeadlineExceeded, "the "+serviceOf(method)+" service did not answer in time"
	case codes.Internal, codes.Unknown, codes.DataLoss:
		e.log.ErrorContext(ctx, "backend call failed", "rpc", method, "err", err)
		code, reason, msg = codes.Internal, ReasonInternal, "internal error"
	default:
		reason, msg = apierr.CodeReason(code), st.Message()
	}
	return gatewayError(runtime.HTTPStatusFromCode(code), code, reason, msg, nil)
}

func hasErrorInfo(st *status.Status) bool {
	for _, d := range st.Details() {
		if _, ok := d.(*errdetails.ErrorInfo); ok {
			return true
		}
	}
	return false
}

// serviceOf names the backend of a full gRPC method name:
// "/tenure.profile.v1.ProfileService/GetCustomer" is "profile".
func serviceOf(method string) string {
	svc, _, _ := strings.Cut(strings.TrimPrefix(method, "/"), "/")
	if parts := strings.Split(svc, "."); len(parts) >= 3 && parts[0] == "tenure" {
		return parts[1]
	}
	return "backend"
}

var (
	// queryError is grpc-gateway's message for a query parameter it could
	// not parse, e.g. `parsing field "page_size": strconv.ParseInt: ...`.
	queryError = regexp.MustCompile(`^parsing (?:field|list) "([^"]+)": (.*)$`)
	// pathError is its message for a path parameter it could not parse.
	pathError = regexp.MustCompile(`^type mismatch, parameter: ([^,]+), error: `)
	// linePrefix is the position protojson puts before its message.
	linePrefix = regexp.MustCompile(`^\(line \d+:\d+\):\s*`)
)

// malformedMessage rewrites grpc-gateway's decoding errors, which quote Go
// parse errors, into messages about the request; the rest pass through.
func malformedMessage(method, msg string) string {
	if m := queryError.FindStringSubmatch(msg); m != nil {
		name, detail := lowerCamel(m[1]), m[2]
		switch {
		case strings.Contains(detail, "value out of range"):
			return fmt.Sprintf("query parameter %q is out of range", name)
		case strings.Contains(detail, "ParseInt"), strings.Contains(detail, "ParseUint"):
			return fmt.Sprintf("query parameter %q must be an integer", name)
		case strings.Contains(detail, "ParseFloat"):
			return fmt.Sprintf("query parameter %q must be a number", name)
		case strings.Contains(detail, "ParseBool"):
			return fmt.Sprintf("query parameter %q must be true or false", name)
		case strings.HasSuffix(detail, "is not a valid value"):
			return fmt.Sprintf("query parameter %q: %s", name, detail)
		default:
			return fmt.Sprintf("query parameter %q has an invalid value", name)
		}
	}
	if m := pathError.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("path parameter %q has an invalid value", lowerCamel(m[1]))
	}
	// The JSON decoder reads the body before protojson sees it.
	if msg == io.ErrUnexpectedEOF.Error() {
		return "request body is not valid JSON for " + bodyType(method) + ": unexpected end of input"
	}
	if strings.HasPrefix(msg, "invalid character ") {
		return "request body is not valid JSON for " + bodyType(method) + ": " + msg
	}
	// protojson prefixes its errors with "proto:" and a space or, at random,
	// a no-break space.
	if rest, ok := strings.CutPrefix(msg, "proto:"); ok {
		rest = linePrefix.ReplaceAllString(strings.TrimLeft(rest, " \u00a0"), "")
		return "request body is not valid JSON for " + bodyType(method) + ": " + rest
	}
	return msg
}

// bodyType is the full name of the message a method's HTTP body decodes
// into, from its google.api.http rule, or "the request" when unknown.
func bodyType(method string) string {
	const unknown = "the request"
	name := strings.ReplaceAll(strings.TrimPrefix(method, "/"), "/", ".")
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		return unknown
	}
	md, ok := d.(protoreflect.MethodDescriptor)
	if !ok {
		return unknown
	}
	rule, _ := proto.GetExtension(md.Options(), annotations.E_Http).(*annotations.HttpRule)
	switch body := rule.GetBody(); body {
	case "":
		return unknown
	case "*":
		return string(md.Input().FullName())
	default:
		f := md.Input().Fields().ByName(protoreflect.Name(body))
		if f == nil || f.Message() == nil {
			return unknown
		}
		return string(f.Message().FullName())
	}
}

// lowerCamel turns a proto field name into its JSON name: page_size is
// pageSize.
func lowerCamel(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if p := parts[i]; p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "")
}
