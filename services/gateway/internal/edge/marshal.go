package edge

import (
	"sync"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
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
