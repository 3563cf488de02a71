package edge

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ReasonInvalidText is the ErrorInfo reason of a request whose path
// parameter, query parameter or JSON body text is not valid UTF-8. (Text
// with a NUL character is valid UTF-8 and JSON; the backends refuse it with
// the same reason, in their own domain.)
const ReasonInvalidText = "INVALID_TEXT"

// checkParams answers 400 INVALID_TEXT, naming the parameter, when a path
// parameter or a query parameter's name or value is not valid UTF-8 once
// percent-decoded. grpc-gateway would copy it into a protobuf string, which
// the gRPC client then refuses to marshal: a 500 for the caller's mistake.
func (e *Edge) checkParams(next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		if err := invalidParam(r.URL.RawQuery, params); err != nil {
			_, out := runtime.MarshalerForRequest(e.mux, r)
			e.handleError(r.Context(), e.mux, out, w, r, err)
			return
		}
		next(w, r, params)
	}
}

// invalidParam returns the error for the first parameter that is not valid
// UTF-8, path parameters first, or nil.
func invalidParam(rawQuery string, params map[string]string) error {
	bad := ""
	for name, v := range params {
		if !utf8.ValidString(v) && (bad == "" || name < bad) { // the same one every time
			bad = name
		}
	}
	if bad != "" {
		return invalidTextParam("path parameter", fieldName(bad))
	}
	// Only a percent escape or a raw byte over 0x7f can make invalid UTF-8.
	if strings.IndexByte(rawQuery, '%') < 0 && utf8.ValidString(rawQuery) {
		return nil
	}
	// A malformed escape is left for grpc-gateway to report.
	q, _ := url.ParseQuery(rawQuery)
	for name, vs := range q {
		switch {
		case !utf8.ValidString(name):
			// Named with its bytes escaped, as the message must be UTF-8.
			return invalidTextParam("query parameter name", strconv.QuoteToASCII(name))
		case !allValid(vs):
			return invalidTextParam("query parameter", fieldName(name))
		}
	}
	return nil
}

func allValid(vs []string) bool {
	for _, v := range vs {
		if !utf8.ValidString(v) {
			return false
		}
	}
	return true
}

func invalidTextParam(kind, name string) error {
	quoted := name
	if !strings.HasPrefix(name, `"`) {
		quoted = strconv.Quote(name)
	}
	return gatewayError(http.StatusBadRequest, codes.InvalidArgument, ReasonInvalidText,
		fmt.Sprintf("%s %s is not valid UTF-8; percent-encode text as UTF-8", kind, quoted),
		map[string]string{"field": name})
}

// fieldName is the JSON name of a field path: customer.full_name is
// customer.fullName.
func fieldName(path string) string {
	parts := strings.Split(path, ".")
	for i, p := range parts {
		parts[i] = lowerCamel(p)
	}
	return strings.Join(parts, ".")
}

// validUTF8 returns err with its status message made valid UTF-8, should it
// quote the caller's bytes: protojson cannot write the status otherwise, and
// grpc-gateway would answer 500.
func validUTF8(err error) error {
	var hse *runtime.HTTPStatusError
	inner := err
	if hs, ok := err.(*runtime.HTTPStatusError); ok {
		hse, inner = hs, hs.Err
	}
	st, ok := status.FromError(inner)
	if !ok || utf8.ValidString(st.Message()) {
		return err
	}
	p := st.Proto()
	p.Message = strings.ToValidUTF8(p.Message, "\uFFFD")
	fixed := status.FromProto(p).Err()
	if hse != nil {
		return &runtime.HTTPStatusError{HTTPStatus: hse.HTTPStatus, Err: fixed}
	}
	return fixed
}
