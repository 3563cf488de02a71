package grpcserver_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	protocodec "google.golang.org/grpc/encoding/proto"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/mem"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/tenurehq/tenure/services/platform/grpcserver"
)

// rawCodec sends []byte messages as they are, so a test can put any bytes
// on the wire, and discards what it receives.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(v.([]byte))}, nil
}
func (rawCodec) Unmarshal(mem.BufferSlice, any) error { return nil }
func (rawCodec) Name() string                         { return "proto" }

// withStatus is the wire form of a request whose response_status.message
// (field 7, then field 2, in both SimpleRequest and
// StreamingOutputCallRequest) holds text, which need not be valid UTF-8.
func withStatus(text string) []byte {
	inner := protowire.AppendTag(nil, 2, protowire.BytesType)
	inner = protowire.AppendString(inner, text)
	b := protowire.AppendTag(nil, 7, protowire.BytesType)
	return protowire.AppendBytes(b, inner)
}

// callRaw sends wire as the one request of method, unary or server
// streaming, and returns the call's error.
func callRaw(ctx context.Context, conn *grpc.ClientConn, method string, streaming bool, wire []byte) error {
	if !streaming {
		var out []byte
		return conn.Invoke(ctx, method, wire, &out, grpc.ForceCodecV2(rawCodec{}))
	}
	st, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, method, grpc.ForceCodecV2(rawCodec{}))
	if err != nil {
		return err
	}
	if err := st.SendMsg(wire); err != nil {
		return err
	}
	if err := st.CloseSend(); err != nil {
		return err
	}
	for {
		var out []byte
		if err := st.RecvMsg(&out); err != nil {
			return err
		}
	}
}

// TestBadRequestBytes sends requests that do not decode or that hold text
// no database can store, over a real connection, to an application unary
// method, an application stream, and the health (unary) and reflection
// (bidirectional stream) services the server adds itself. Each gets
// INVALID_ARGUMENT with an ErrorInfo in the service's domain, and the
// handler never sees the request. Without the server's checks grpc-go
// answers the first two INTERNAL with no details, and a NUL reaches the
// handler.
func TestBadRequestBytes(t *testing.T) {
	h := start(t, nil)
	methods := []struct {
		name      string
		method    string
		streaming bool
		field     string // the text field withStatus fills, as the API names it
	}{
		{"unary", "/grpc.testing.TestService/UnaryCall", false, "response_status.message"},
		{"server stream", "/grpc.testing.TestService/StreamingOutputCall", true, "response_status.message"},
		{"health", "/grpc.health.v1.Health/Check", false, ""},
		{"reflection", "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", true, ""},
	}
	inputs := []struct {
		name   string
		wire   func(field string) []byte
		reason string
		msg    string // the message starts with it
		text   bool   // names the field
	}{
		{"garbage", func(string) []byte { return []byte{0xff, 0xff, 0xff, 0x01} },
			"MALFORMED_REQUEST", "request message is not valid protobuf", false},
		{"truncated", func(string) []byte { return withStatus("truncated")[:6] },
			"MALFORMED_REQUEST", "request message is not valid protobuf", false},
		{"invalid UTF-8", func(string) []byte { return withStatus("caf\xe9") },
			"INVALID_TEXT", "is not valid UTF-8", true},
		{"NUL", func(string) []byte { return withStatus("a\x00b") },
			"INVALID_TEXT", "contains a NUL character", true},
	}
	for _, m := range methods {
		for _, in := range inputs {
			if in.text && m.field == "" {
				continue // health and reflection requests have other fields; covered below
			}
			t.Run(m.name+"/"+in.name, func(t *testing.T) {
				before := len(*h.calls)
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				err := callRaw(ctx, h.conn, m.method, m.streaming, in.wire(m.field))
				wantMsg := in.msg
				if in.text {
					wantMsg = m.field + " " + in.msg
				}
				checkInvalid(t, err, in.reason, wantMsg, map[bool]string{true: m.field}[in.text])
				if len(*h.calls) != before {
					t.Error("the request reached the interceptors behind the check")
				}
			})
		}
	}

	t.Run("health service name", func(t *testing.T) {
		_, err := healthpb.NewHealthClient(h.conn).Check(context.Background(), &healthpb.HealthCheckRequest{Service: "test\x00"})
		checkInvalid(t, err, "INVALID_TEXT", "service contains a NUL character", "service")
	})
	t.Run("second message of a bidirectional stream", func(t *testing.T) {
		rc, err := reflectionpb.NewServerReflectionClient(h.conn).ServerReflectionInfo(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		ok := &reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}
		if err := rc.Send(ok); err != nil {
			t.Fatal(err)
		}
		if _, err := rc.Recv(); err != nil {
			t.Fatalf("first, clean message: %v", err)
		}
		bad := &reflectionpb.ServerReflectionRequest{Host: "h\x00", MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}
		if err := rc.Send(bad); err != nil {
			t.Fatal(err)
		}
		_, err = rc.Recv()
		checkInvalid(t, err, "INVALID_TEXT", "host contains a NUL character", "host")
	})

	// The failures were logged as client errors, and the server still
	// answers clean requests.
	if line := h.logs.Find("rpc", map[string]string{"method": "/grpc.testing.TestService/UnaryCall", "code": "InvalidArgument"}); line == nil {
		t.Errorf("no rpc log line with code InvalidArgument; logs:\n%s", h.logs)
	}
	if err := unary(context.Background(), h.conn, "ok", 0); err != nil {
		t.Fatalf("clean call after bad ones: %v", err)
	}
}

// checkInvalid asserts that err is INVALID_ARGUMENT with an ErrorInfo of
// reason in the test service's domain, a message starting with msgPrefix
// and, when field is set, the field in the ErrorInfo metadata and in a
// BadRequest entry.
func checkInvalid(t *testing.T, err error, reason, msgPrefix, field string) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != codes.InvalidArgument {
		t.Fatalf("code = %v (%v), want InvalidArgument", st.Code(), err)
	}
	if !strings.HasPrefix(st.Message(), msgPrefix) {
		t.Errorf("message = %q, want it to start with %q", st.Message(), msgPrefix)
	}
	var info *errdetails.ErrorInfo
	var bad *errdetails.BadRequest
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			info = d
		case *errdetails.BadRequest:
			bad = d
		}
	}
	if info.GetReason() != reason || info.GetDomain() != "test.tenure.dev" {
		t.Errorf("ErrorInfo = %v, want reason %s in test.tenure.dev", info, reason)
	}
	if field == "" {
		return
	}
	if got := info.GetMetadata()["field"]; got != field {
		t.Errorf("ErrorInfo metadata field = %q, want %q", got, field)
	}
	if v := bad.GetFieldViolations(); len(v) != 1 || v[0].GetField() != field {
		t.Errorf("BadRequest = %v, want one violation of %s", bad, field)
	}
}

// countingCodec is the proto codec, counting the messages it decodes.
type countingCodec struct {
	encoding.CodecV2
	decoded *atomic.Int64
}

func (c countingCodec) Unmarshal(data mem.BufferSlice, v any) error {
	c.decoded.Add(1)
	return c.CodecV2.Unmarshal(data, v)
}

// TestWithCodec: a service's own codec, given with WithCodec, decodes the
// requests, and the server's checks still apply on top of it.
func TestWithCodec(t *testing.T) {
	var decoded atomic.Int64
	h := start(t, func(c *grpcserver.Config) {
		c.ServerOptions = []grpc.ServerOption{
			grpcserver.WithCodec(countingCodec{CodecV2: encoding.GetCodecV2(protocodec.Name), decoded: &decoded}),
		}
	})
	if err := unary(context.Background(), h.conn, "ok", 0); err != nil {
		t.Fatal(err)
	}
	if decoded.Load() != 1 {
		t.Errorf("the service's codec decoded %d messages, want 1", decoded.Load())
	}
	err := callRaw(context.Background(), h.conn, "/grpc.testing.TestService/UnaryCall", false, []byte{0xff})
	checkInvalid(t, err, "MALFORMED_REQUEST", "request message is not valid protobuf", "")
	wire, err := proto.Marshal(&testpb.SimpleRequest{ResponseStatus: &testpb.EchoStatus{Message: "x\x00"}})
	if err != nil {
		t.Fatal(err)
	}
	err = callRaw(context.Background(), h.conn, "/grpc.testing.TestService/UnaryCall", false, wire)
	checkInvalid(t, err, "INVALID_TEXT", fmt.Sprintf("response_status.message %s", "contains a NUL"), "response_status.message")
}
