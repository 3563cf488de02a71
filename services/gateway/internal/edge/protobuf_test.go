package edge_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/gateway/internal/edge"
)

// postProtobuf posts body as a binary protobuf CreateCustomer body and
// returns the answer's status, content type and body.
func postProtobuf(t *testing.T, url string, body []byte) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/v1/customers?customerId=c1", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", edge.MIMEProtobuf)
	req.Header.Set("Accept", edge.MIMEProtobuf)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), data
}

func TestProtobufBody(t *testing.T) {
	srv, rec := newServer(t, 1<<20)
	sent := &profilev1.Customer{FullName: "Ada Lövelace", Email: "ada@example.com", Tags: []string{"vip", "ünïcödé"}}
	body, err := proto.Marshal(sent)
	if err != nil {
		t.Fatal(err)
	}
	code, ctype, data := postProtobuf(t, srv.URL, body)
	if code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", code, data)
	}
	if !proto.Equal(rec.customer, sent) {
		t.Errorf("backend got %v, want %v", rec.customer, sent)
	}
	// The answer is JSON even though the caller asked for protobuf.
	var got struct {
		Customer struct{ Name, FullName string }
	}
	if err := json.Unmarshal(data, &got); err != nil || ctype != "application/json" {
		t.Fatalf("answer %q (%s) is not JSON: %v", data, ctype, err)
	}
	if got.Customer.Name != "customers/c1" || got.Customer.FullName != sent.FullName {
		t.Errorf("answer %s, want customers/c1 named %q", data, sent.FullName)
	}
}

func TestProtobufBodyErrors(t *testing.T) {
	const limit = 1024
	srv, _ := newServer(t, limit)
	fullName := (&profilev1.Customer{}).ProtoReflect().Descriptor().Fields().ByName("full_name").Number()
	badText := protowire.AppendString(protowire.AppendTag(nil, fullName, protowire.BytesType), "Ada \xff")
	big, err := proto.Marshal(&profilev1.Customer{FullName: strings.Repeat("a", 2*limit)})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		body   []byte
		status int
		code   int
		reason string
		msg    string
	}{
		{"not protobuf", []byte(`{"fullName":"Ada"}`), http.StatusBadRequest, 3, edge.ReasonMalformedRequest, "request body is not valid protobuf: "},
		{"invalid UTF-8", badText, http.StatusBadRequest, 3, edge.ReasonInvalidText, "request body is not valid protobuf: a string is not valid UTF-8"},
		{"too large", big, http.StatusRequestEntityTooLarge, 8, edge.ReasonBodyTooLarge, "request body larger than 1024 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, ctype, data := postProtobuf(t, srv.URL, tt.body)
			var st rpcStatus
			if err := json.Unmarshal(data, &st); err != nil || ctype != "application/json" {
				t.Fatalf("answer %q (%s) is not a JSON status: %v", data, ctype, err)
			}
			if code != tt.status || st.Code != tt.code || len(st.Details) != 1 || st.Details[0].Reason != tt.reason ||
				!strings.HasPrefix(st.Message, tt.msg) {
				t.Errorf("got HTTP %d %s, want %d, code %d, reason %s, message starting %q", code, data, tt.status, tt.code, tt.reason, tt.msg)
			}
		})
	}
}

// A PATCH takes its update mask from the fields of a JSON body, so a
// protobuf body is refused with a message that says what to send instead,
// and the backend is never called.
func TestProtobufPatchRefused(t *testing.T) {
	srv, rec := newServer(t, 1<<20)
	body, err := proto.Marshal(&profilev1.Customer{FullName: "Ada"})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPatch, srv.URL+"/v1/customers/c1?updateMask=fullName", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", edge.MIMEProtobuf+"; charset=binary")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st rpcStatus
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusUnsupportedMediaType || st.Code != 3 || len(st.Details) != 1 ||
		st.Details[0].Reason != edge.ReasonMalformedRequest || !strings.Contains(st.Message, "must be JSON") {
		t.Errorf("PATCH with a protobuf body: HTTP %d %+v; want 415, INVALID_ARGUMENT, MALFORMED_REQUEST saying to send JSON", resp.StatusCode, st)
	}
	if rec.customer != nil {
		t.Errorf("backend called with %v", rec.customer)
	}
}
