// Package edge builds the HTTP face of the gateway: a grpc-gateway ServeMux
// with a header allowlist, lowerCamel protojson (request bodies may also be
// binary protobuf, see MIMEProtobuf), google.rpc.Status errors
// (streams included), a UTF-8 check of path and query parameters and a
// request body limit.
package edge

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Domain is the google.rpc.ErrorInfo domain of errors the gateway raises
// itself (backends use their own).
const Domain = "gateway.tenure.dev"

// Options configure an Edge.
type Options struct {
	// MaxBodyBytes limits request bodies; larger bodies are answered with
	// HTTP 413. Zero or less means no limit.
	MaxBodyBytes int64
	// Access is who gets past the edge (authentication, rate limits, CORS,
	// open paths) and the security headers; nil admits everyone.
	Access *Access
	// Logger receives the detail of failures that are the server's, not
	// the caller's, fault (the caller gets a generic message). Nil discards
	// them.
	Logger *slog.Logger
}

// Edge is the grpc-gateway mux plus the HTTP middleware in front of it.
type Edge struct {
	mux     *runtime.ServeMux
	maxBody int64
	log     *slog.Logger
	guard   *guard
}

// New returns an Edge with no routes; register backends on Mux.
func New(opts Options) *Edge {
	e := &Edge{maxBody: opts.MaxBodyBytes, log: opts.Logger}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if opts.Access != nil {
		e.guard = &guard{Access: *opts.Access, e: e, limiters: map[string]*limiter{}}
	}
	json := &runtime.HTTPBodyMarshaler{
		Marshaler: &jsonMarshaler{JSONPb: runtime.JSONPb{
			// Zero scalars and empty lists are written out, so that an
			// amount of 0 or an index of 0 is visible; unset messages
			// stay omitted.
			MarshalOptions: protojson.MarshalOptions{
				EmitDefaultValues: true,
				UseProtoNames:     false,
			},
			// Unknown fields are rejected so that a misspelt field is an
			// INVALID_ARGUMENT rather than silently ignored.
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}},
	}
	e.mux = runtime.NewServeMux(
		runtime.WithIncomingHeaderMatcher(IncomingHeader),
		runtime.WithOutgoingHeaderMatcher(OutgoingHeader),
		runtime.WithOutgoingTrailerMatcher(OutgoingTrailer),
		// A route answers only its own HTTP method: no X-HTTP-Method-Override
		// and no POST-as-GET for form posts.
		runtime.WithDisableHTTPMethodOverride(),
		runtime.WithDisablePathLengthFallback(),
		// The backend call carries the credentials the edge checked, never
		// a caller's Grpc-Metadata-* header.
		runtime.WithMetadata(forwardCredentials),
		runtime.WithErrorHandler(e.handleError),
		runtime.WithStreamErrorHandler(e.streamError),
		runtime.WithRoutingErrorHandler(routingError),
		runtime.WithMiddlewares(nameSpan, trackExchange, e.checkParams),
		runtime.WithMarshalerOption(runtime.MIMEWildcard, json),
		runtime.WithMarshalerOption(MIMEProtobuf, protobufBody{json}),
	)
	return e
}

// Mux is the grpc-gateway mux that backend handlers are registered on.
func (e *Edge) Mux() *runtime.ServeMux { return e.mux }

// HandleGet adds a plain HTTP GET route, such as a probe, to the mux so that
// it shares routing, error rendering and span naming with the API.
func (e *Edge) HandleGet(path string, h http.Handler) error {
	return e.mux.HandlePath(http.MethodGet, path, func(w http.ResponseWriter, r *http.Request, _ map[string]string) {
		h.ServeHTTP(w, r)
	})
}

// Handle adds a plain HTTP route for method, like HandleGet.
func (e *Edge) Handle(method, path string, h http.Handler) error {
	return e.mux.HandlePath(method, path, func(w http.ResponseWriter, r *http.Request, _ map[string]string) {
		h.ServeHTTP(w, r)
	})
}

// Handler serves the registered routes behind the access checks, when
// configured, and the body limit.
func (e *Edge) Handler() http.Handler {
	h := e.routes()
	if e.guard == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { e.guard.serve(w, r, h) })
}

func (e *Edge) routes() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// grpc-gateway forwards Authorization to backends whatever the header
		// matcher says. The access checks forward the credentials they
		// authenticated (forwardCredentials); the raw header stops here.
		r.Header.Del("Authorization")
		if r.Method == http.MethodPatch && isProtobuf(r) {
			_, out := runtime.MarshalerForRequest(e.mux, r)
			runtime.DefaultHTTPErrorHandler(r.Context(), e.mux, out, w, r, patchNeedsJSON)
			return
		}
		if e.maxBody > 0 && r.Body != nil && r.Body != http.NoBody {
			if r.ContentLength > e.maxBody {
				e.fail(w, r, bodyTooLarge(e.maxBody))
				return
			}
			r.Body = &limitedBody{r: http.MaxBytesReader(w, r.Body, e.maxBody)}
		}
		e.mux.ServeHTTP(w, r)
	})
}

// handleError renders every error as a google.rpc.Status carrying an
// ErrorInfo, turning a decode failure caused by the body limit into 413
// RESOURCE_EXHAUSTED; see describe.
func (e *Edge) handleError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	if b, ok := r.Body.(*limitedBody); ok && b.exceeded {
		err = bodyTooLarge(e.maxBody)
	}
	runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, validUTF8(e.describe(ctx, err)))
}

// nameSpan names the HTTP server span after the matched route, e.g.
// "GET /v1/{name=customers/*}", instead of the generic operation name, and
// records the route without the caller's ids.
func nameSpan(next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		// Formatting the route costs allocations; skip it when no span
		// is being recorded (telemetry export off or not sampled).
		span := trace.SpanFromContext(r.Context())
		if pat, ok := runtime.HTTPPattern(r.Context()); ok && span.IsRecording() {
			route := pat.String()
			span.SetName(r.Method + " " + route)
			span.SetAttributes(attribute.String("http.route", route))
		}
		next(w, r, params)
	}
}

// Fail renders err, a gRPC status error from a backend or any other, as
// the API's errors are rendered; for plain routes that call backends.
func (e *Edge) Fail(w http.ResponseWriter, r *http.Request, err error) {
	_, out := runtime.MarshalerForRequest(e.mux, r)
	e.handleError(r.Context(), e.mux, out, w, r, err)
}

// Respond writes msg as the API writes responses (JSON unless the request
// asks for protobuf), with status 200.
func (e *Edge) Respond(w http.ResponseWriter, r *http.Request, msg proto.Message) {
	_, out := runtime.MarshalerForRequest(e.mux, r)
	b, err := out.Marshal(msg)
	if err != nil {
		e.Fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", out.ContentType(msg))
	_, _ = w.Write(b)
}
