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
