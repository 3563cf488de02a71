package edge

import (
	"context"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrorInfo reasons of routing errors.
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
