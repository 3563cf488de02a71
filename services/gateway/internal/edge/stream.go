package edge

import (
	"context"
	"errors"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/status"
)

// Server-streaming routes (GET /v1/events:stream) answer newline-delimited
// {"result": …} frames. grpc-gateway reports a stream's error as an
// {"error": …} frame, even when no result has been sent and the HTTP status
// can still say it, and passes the backend's status through untouched. The
// edge instead answers an error before the first result exactly like any
// other route (HTTP status from the code, a bare google.rpc.Status with an
// ErrorInfo), and gives an error after it the same status in the
// {"error": …} frame, the only place left for it.

// exchange is the request and response of one call, for the stream error
// handler, which grpc-gateway gives only a context.
type exchange struct {
	w *trackingWriter
	r *http.Request
}

type exchangeKey struct{}

// trackExchange puts the call's exchange in its context.
func trackExchange(next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		ex := &exchange{w: &trackingWriter{ResponseWriter: w}}
		ex.r = r.WithContext(context.WithValue(r.Context(), exchangeKey{}, ex))
		next(ex.w, ex.r, params)
	}
}

// trackingWriter knows whether the response has started, and drops what is
// written after it is closed (once the edge has answered a stream's error
// itself, grpc-gateway still writes its error frame).
type trackingWriter struct {
	http.ResponseWriter
	started bool
	closed  bool
}

func (w *trackingWriter) WriteHeader(code int) {
	if w.closed {
		return
	}
	w.started = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *trackingWriter) Write(b []byte) (int, error) {
	if w.closed {
		return len(b), nil
	}
	w.started = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's Flush.
func (w *trackingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// streamError is the mux's stream error handler.
func (e *Edge) streamError(ctx context.Context, err error) *status.Status {
	err = validUTF8(e.describe(ctx, err))
	if ex, ok := ctx.Value(exchangeKey{}).(*exchange); ok && !ex.w.started {
		_, out := runtime.MarshalerForRequest(e.mux, ex.r)
		runtime.DefaultHTTPErrorHandler(ctx, e.mux, out, ex.w, ex.r, err)
		ex.w.closed = true
	}
	var hse *runtime.HTTPStatusError
	if errors.As(err, &hse) {
		err = hse.Err
	}
	return status.Convert(err)
}
