package edge

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"sync"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// jsonMarshaler is runtime.JSONPb with a cheaper Marshal for protobuf
// messages: protojson appends into a pooled buffer, and the result is copied
// once into a slice of the exact length. runtime.JSONPb instead lets protojson
// grow a fresh buffer from nothing and then copies it again through a
// bytes.Buffer. The output is byte for byte the same: both are
// protojson.MarshalOptions with the same options. Everything else (non-proto
// values, decoding, content type) is runtime.JSONPb's.
type jsonMarshaler struct {
	runtime.JSONPb
}

// maxPooledBuffer bounds the buffers kept for reuse, so that one huge
// response does not pin its memory in the pool.
const maxPooledBuffer = 64 << 10

var marshalBuffers = sync.Pool{New: func() any {
	b := make([]byte, 0, 4<<10)
	return &b
}}

func (m *jsonMarshaler) Marshal(v any) ([]byte, error) {
	p, ok := v.(proto.Message)
	if !ok {
		return m.JSONPb.Marshal(v)
	}
	bp := marshalBuffers.Get().(*[]byte)
	b, err := m.MarshalOptions.MarshalAppend((*bp)[:0], p)
	var out []byte
	if err == nil {
		out = make([]byte, len(b))
		copy(out, b)
	}
	if cap(b) <= maxPooledBuffer {
		*bp = b[:0]
	}
	marshalBuffers.Put(bp)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// MIMEProtobuf is the content type of a request body sent as binary
// protobuf, the RPC's request message (or the field the route's body names)
// as gRPC would carry it. Bulk clients use it: decoding a large JSON batch
// costs the gateway several times what the backend spends recording it.
const MIMEProtobuf = "application/x-protobuf"

// patchNeedsJSON answers a PATCH with a protobuf body: an update's field
// mask, when the query gives none, is the set of fields present in a JSON
// body, which binary protobuf cannot express.
var patchNeedsJSON = gatewayError(http.StatusUnsupportedMediaType, codes.InvalidArgument, ReasonMalformedRequest,
	"a PATCH body must be JSON (Content-Type application/json): the fields it names are the update; binary protobuf bodies are taken by POST routes only", nil)

// isProtobuf tells whether r's body is declared as binary protobuf.
func isProtobuf(r *http.Request) bool {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return ct == MIMEProtobuf
}

// protobufBody reads request bodies as binary protobuf and writes answers,
// errors included, with the embedded JSON marshaler: answers stay JSON
// whatever the request's Accept header asks for.
type protobufBody struct {
	runtime.Marshaler
}

// protobufBodyError starts the message of a body that does not decode.
const protobufBodyError = "request body is not valid protobuf: "

func (m protobufBody) NewDecoder(r io.Reader) runtime.Decoder {
	return runtime.DecoderFunc(func(v any) error {
		data, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		return m.Unmarshal(data, v)
	})
}

func (m protobufBody) Unmarshal(data []byte, v any) error {
	msg, ok := v.(proto.Message)
	if rv := reflect.ValueOf(v); !ok && rv.Kind() == reflect.Pointer && rv.Elem().Kind() == reflect.Pointer {
		// A route whose body is one field of the request decodes into a
		// pointer to that field's (maybe nil) message pointer.
		if rv.Elem().IsNil() {
			rv.Elem().Set(reflect.New(rv.Type().Elem().Elem()))
		}
		msg, ok = rv.Elem().Interface().(proto.Message)
	}
	if !ok {
		return fmt.Errorf("%sthe route's body is not a message", protobufBodyError)
	}
	if err := proto.Unmarshal(data, msg); err != nil {
		// proto's messages start with "proto:" and a space or, at random,
		// a no-break space.
		detail := strings.TrimLeft(strings.TrimPrefix(err.Error(), "proto:"), " \u00a0")
		return errors.New(protobufBodyError + detail)
	}
	return nil
}
