package ingest

import (
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// FuzzHTTPError reads any gateway error answer. A google.rpc.Status body
// becomes that status; any other body becomes an Unknown status whose
// message is the start of the body, at most 200 bytes and, when the body is
// text, still valid UTF-8; the HTTP status is kept and decides Temporary.
func FuzzHTTPError(f *testing.F) {
	for _, body := range []string{
		`{"code":9,"message":"profile: request in progress","details":[]}`,
		`{"code":3,"message":"events[0].customer_id: required","unknownField":1}`,
		`{"code":0,"message":""}`, `{"code":"x"}`, "", "  ", "<html>bad gateway</html>",
		strings.Repeat("é", 150), strings.Repeat("a", 199) + "€ and more",
	} {
		f.Add(502, []byte(body))
	}
	f.Add(409, []byte(`{"code":10,"message":"aborted"}`))
	f.Add(999, []byte(nil))
	f.Fuzz(func(t *testing.T, code int, body []byte) {
		e := newHTTPError(code, body)
		if e.StatusCode != code || e.Temporary() != (code >= 500 || code == http.StatusTooManyRequests || e.Status.Code() == codes.Aborted) {
			t.Fatalf("newHTTPError(%d, %q) = %+v; Temporary %v", code, body, e, e.Temporary())
		}
		var want spb.Status
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(body, &want); err == nil && (want.GetCode() != 0 || want.GetMessage() != "") {
			if !proto.Equal(e.Status.Proto(), &want) {
				t.Fatalf("newHTTPError(%d, %q): status %v, want %v", code, body, e.Status.Proto(), &want)
			}
			return
		}
		msg, trimmed := e.Status.Message(), strings.TrimSpace(string(body))
		switch {
		case e.Status.Code() != codes.Unknown:
			t.Fatalf("newHTTPError(%d, %q): code %v, want Unknown", code, body, e.Status.Code())
		case trimmed == "" && msg != http.StatusText(code):
			t.Fatalf("newHTTPError(%d, %q): message %q, want %q", code, body, msg, http.StatusText(code))
		case trimmed != "" && !strings.HasPrefix(trimmed, strings.TrimSuffix(msg, "…")):
			t.Fatalf("newHTTPError(%d, %q): message %q is not the start of the body", code, body, msg)
		case len(strings.TrimSuffix(msg, "…")) > 200 || utf8.Valid(body) && !utf8.ValidString(msg):
			t.Fatalf("newHTTPError(%d, %q): message %q is too long or not valid UTF-8", code, body, msg)
		}
	})
}
