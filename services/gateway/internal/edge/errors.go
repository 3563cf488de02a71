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
		err = gatewayError(httpStatus, codes.NotFound, ReasonRouteNotFound, "no route for "+r.Method+" "+r.URL.EscapedPath(), nil)
	case http.StatusMethodNotAllowed:
		err = gatewayError(httpStatus, codes.Unimplemented, ReasonMethodNotAllowed, "method "+r.Method+" not allowed on "+r.URL.EscapedPath(), nil)
	case http.StatusBadRequest:
		err = gatewayError(httpStatus, codes.InvalidArgument, ReasonMalformedRequest, http.StatusText(httpStatus), nil)
	default:
		err = gatewayError(http.StatusInternalServerError, codes.Internal, ReasonUnexpectedRouting, "unexpected routing error", nil)
	}
	runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, validUTF8(err))
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
		reason, msg = malformedMessage(method, st.Message())
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

// queryRewrites turn grpc-gateway's query parameter errors, which quote
// Go parse errors and proto field names, into messages about the request.
// The first group of each pattern is the field's proto name.
var queryRewrites = []struct {
	re  *regexp.Regexp
	msg func(name, detail string) string
}{
	{regexp.MustCompile(`^parsing (?:field|list) "([^"]+)": (.*)$`), parseMessage},
	{regexp.MustCompile(`^parsing map (?:key|value) "([^"]+)": (.*)$`), func(name, _ string) string {
		return fmt.Sprintf("query parameter %q has an invalid map key or value", name)
	}},
	{regexp.MustCompile(`^(?:too many values for field|duplicate field) "([^"]+)"`), func(name, _ string) string {
		return fmt.Sprintf("query parameter %q is given more than once; give it once", name)
	}},
	{regexp.MustCompile(`^more than one value provided for key "[^"]*" in map "[^"]*\.([^".]+)"$`), func(name, _ string) string {
		return fmt.Sprintf("query parameter %q repeats a map key; give each key once", name)
	}},
	{regexp.MustCompile(`^field already set for oneof "([^"]+)"$`), func(name, _ string) string {
		return fmt.Sprintf("query parameters set more than one field of %q; set only one", name)
	}},
	{regexp.MustCompile(`^invalid path: "([^"]+)" is not a message$`), func(name, _ string) string {
		return fmt.Sprintf("query parameter %q names a field inside one that has none", name)
	}},
	{regexp.MustCompile(`^type mismatch, parameter: ([^,]+), error: `), func(name, _ string) string {
		return fmt.Sprintf("path parameter %q has an invalid value", name)
	}},
}

// parseMessage describes a query parameter value that does not parse.
func parseMessage(name, detail string) string {
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

// bodyRewrites turn protojson's messages that name protobuf types into
// ones that name what the caller sent.
var bodyRewrites = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`^invalid google\.protobuf\.Timestamp value (.*)$`),
		`invalid timestamp $1: use RFC 3339, such as "2024-01-31T12:00:00Z"`},
	{regexp.MustCompile(`^google\.protobuf\.Timestamp value out of range: (.*)$`),
		`timestamp $1 is out of range: use a time from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z`},
	{regexp.MustCompile(`^invalid google\.protobuf\.Duration value (.*)$`),
		`invalid duration $1: use seconds with an "s" suffix, such as "1.5s"`},
	{regexp.MustCompile(`^google\.protobuf\.Duration value out of range: (.*)$`),
		`duration $1 is out of range`},
	{regexp.MustCompile(`^google\.protobuf\.FieldMask\.paths contains invalid path: (.*)$`),
		`invalid field mask path $1`},
	{regexp.MustCompile(`^error parsing ("[^"]+"), oneof [\w.]*?(\w+) is already set$`),
		`field $1 cannot be set with another field of "$2"; set only one`},
	// Any other full name, reduced to its last part.
	{regexp.MustCompile(`\b(?:tenure\.\w+\.v\d+|google\.protobuf)\.`), ``},
}

var (
	// position is where protojson puts the place of a syntax error (and,
	// without "syntax error", of its other errors).
	position = regexp.MustCompile(`^(syntax error )?\(line (\d+):(\d+)\):\s*`)
	// timeoutError is grpc-gateway's message for a Grpc-Timeout header it
	// cannot parse.
	timeoutError = "invalid grpc-timeout: "
)

// malformedMessage gives grpc-gateway's decoding errors a reason and a
// message about the request; other messages pass through with reason
// MALFORMED_REQUEST.
func malformedMessage(method, msg string) (reason, out string) {
	for _, rw := range queryRewrites {
		if m := rw.re.FindStringSubmatch(msg); m != nil {
			detail := ""
			if len(m) > 2 {
				detail = m[2]
			}
			return ReasonMalformedRequest, rw.msg(fieldName(m[1]), detail)
		}
	}
	if strings.HasPrefix(msg, timeoutError) {
		return ReasonMalformedRequest, `header "Grpc-Timeout" is not a valid timeout: use a positive integer and a unit (H, M, S, m, u or n), such as 30S`
	}
	if detail, ok := strings.CutPrefix(msg, protobufBodyError); ok {
		if strings.Contains(detail, "invalid UTF-8") {
			return ReasonInvalidText, protobufBodyError + "a string is not valid UTF-8; encode text as UTF-8"
		}
		return ReasonMalformedRequest, msg
	}
	prefix := "request body is not valid JSON"
	if name := bodyName(method); name != "" {
		prefix += fmt.Sprintf(" for %q", name)
	}
	// The JSON decoder reads the body before protojson sees it.
	if msg == io.ErrUnexpectedEOF.Error() {
		return ReasonMalformedRequest, prefix + ": unexpected end of input"
	}
	if strings.HasPrefix(msg, "invalid character ") {
		return ReasonMalformedRequest, prefix + ": " + msg
	}
	// protojson prefixes its errors with "proto:" and a space or, at random,
	// a no-break space.
	rest, ok := strings.CutPrefix(msg, "proto:")
	if !ok {
		return ReasonMalformedRequest, msg
	}
	rest = strings.TrimLeft(rest, " \u00a0")
	where := ""
	if m := position.FindStringSubmatch(rest); m != nil {
		rest = rest[len(m[0]):]
		if m[1] != "" {
			where = fmt.Sprintf(" at line %s, column %s", m[2], m[3])
		}
	}
	if rest == "invalid UTF-8 in string" {
		return ReasonInvalidText, prefix + ": a string is not valid UTF-8" + where + "; encode text as UTF-8"
	}
	for _, rw := range bodyRewrites {
		rest = rw.re.ReplaceAllString(rest, rw.with)
	}
	return ReasonMalformedRequest, prefix + ": " + rest + where
}

// bodyName is the JSON name of the field a method's HTTP body decodes
// into, from its google.api.http rule: "customer" for body: "customer", ""
// for body: "*" or when unknown.
func bodyName(method string) string {
	name := strings.ReplaceAll(strings.TrimPrefix(method, "/"), "/", ".")
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		return ""
	}
	md, ok := d.(protoreflect.MethodDescriptor)
	if !ok {
		return ""
	}
	rule, _ := proto.GetExtension(md.Options(), annotations.E_Http).(*annotations.HttpRule)
	body := rule.GetBody()
	if body == "" || body == "*" {
		return ""
	}
	if f := md.Input().Fields().ByName(protoreflect.Name(body)); f != nil {
		return f.JSONName()
	}
	return ""
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
