package edge

import (
	"net/textproto"
	"strings"
)

// IncomingHeader is the grpc-gateway incoming header matcher. It is an
// allowlist: only the headers below reach backends, as lower-case gRPC
// metadata. Everything else, notably Grpc-Metadata-*, stays at the gateway,
// so callers cannot set metadata that backends might trust. Trace context
// travels separately, through the otelhttp and otelgrpc propagators.
func IncomingHeader(key string) (string, bool) {
	switch k := textproto.CanonicalMIMEHeaderKey(key); k {
	case "X-Request-Id", "X-Correlation-Id", "Accept-Language":
		return strings.ToLower(k), true
	}
	return "", false
}

// OutgoingHeader is the grpc-gateway outgoing header matcher, also an
// allowlist: of the metadata a backend sends in its response headers, only
// x-request-id becomes an HTTP response header (X-Request-Id). grpc-gateway
// would otherwise copy every key as Grpc-Metadata-<key>, exposing whatever
// internal metadata a backend or its middleware sets.
func OutgoingHeader(key string) (string, bool) {
	if strings.EqualFold(key, "x-request-id") {
		return "X-Request-Id", true
	}
	return "", false
}

// OutgoingTrailer is the grpc-gateway outgoing trailer matcher: no backend
// trailer metadata reaches callers (grpc-gateway would otherwise send it as
// Grpc-Trailer-<key> HTTP trailers to callers that accept trailers).
func OutgoingTrailer(string) (string, bool) { return "", false }
