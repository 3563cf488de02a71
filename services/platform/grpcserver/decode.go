package grpcserver

import (
	"bytes"
	"strings"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	protocodec "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	"github.com/tenurehq/tenure/services/platform/apierr"
)

// WithCodec makes the server decode and encode messages with c instead of
// grpc's standard proto codec; c must read the protobuf wire format, as the
// server's own checks read the request's bytes. Pass it in
// Config.ServerOptions instead of grpc.ForceServerCodecV2, which the
// server's own codec option would override: the server wraps c so that a
// request that does not decode is answered INVALID_ARGUMENT (see
// decodeCodec).
func WithCodec(c encoding.CodecV2) grpc.ServerOption {
	return codecOption{codec: c}
}

// codecOption carries WithCodec's codec to New, which picks it out of
// Config.ServerOptions; applied to a grpc.Server it does nothing.
type codecOption struct {
	grpc.EmptyServerOption
	codec encoding.CodecV2
}

// serverCodec returns the codec given with WithCodec in opts (the last one
// wins), or grpc's standard proto codec.
func serverCodec(opts []grpc.ServerOption) encoding.CodecV2 {
	c := encoding.GetCodecV2(protocodec.Name)
	for _, o := range opts {
		if co, ok := o.(codecOption); ok && co.codec != nil {
			c = co.codec
		}
	}
	return c
}

// decodeCodec is the server's codec: the one given with WithCodec, or
// grpc's proto codec, plus the request checks every service shares.
//
//   - grpc-go answers a request its codec cannot decode with INTERNAL and no
//     details, and does so inside RecvMsg, before any interceptor runs.
//   - A string with a NUL character decodes fine but PostgreSQL cannot store
//     it (and SQLite can, so the engines would differ).
//
// decodeCodec records either failure, keyed by the message it was decoding
// into, and reports success; requestCheck, the first interceptor after error
// mapping, then answers it with INVALID_ARGUMENT and an ErrorInfo before the
// handler sees the message. The NUL check reads the wire bytes, not the
// decoded message: a scan for a zero byte clears almost every request
// (outside strings only bytes fields, fixed-width numbers and zeros in packed
// lists contain one), and only a request with one is walked field by field.
// Walking every decoded message with protoreflect instead cost about as much
// CPU as decoding it (a 1,000-event batch); the scan costs microseconds.
type decodeCodec struct {
	encoding.CodecV2
	failures sync.Map     // proto.Message → error
	pending  atomic.Int64 // entries in failures; zero lets clean requests skip the map
}

func (c *decodeCodec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.CodecV2.Unmarshal(data, v)
	m, ok := v.(proto.Message)
	if !ok {
		return err
	}
	if err == nil && !hasZeroByte(data) {
		return nil
	}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	md := m.ProtoReflect().Descriptor()
	failure := wireText(buf.ReadOnlyData(), md)
	if err != nil && failure == nil {
		failure = malformed(err)
	}
	if failure != nil {
		c.pending.Add(1)
		c.failures.Store(v, failure)
	}
	return nil
}

func hasZeroByte(data mem.BufferSlice) bool {
	for _, b := range data {
		if bytes.IndexByte(b.ReadOnlyData(), 0) >= 0 {
			return true
		}
	}
	return false
}

// failure returns and forgets the error recorded for req, if any.
func (c *decodeCodec) failure(req any) error {
	if c.pending.Load() == 0 {
		return nil
	}
	v, ok := c.failures.LoadAndDelete(req)
	if !ok {
		return nil
	}
	c.pending.Add(-1)
	return v.(error)
}

// malformedError is a request that does not decode. It matches
// apierr.ErrMalformedRequest (INVALID_ARGUMENT, reason MALFORMED_REQUEST).
type malformedError struct{ detail string }

func (e *malformedError) Error() string {
	return "request message is not valid protobuf (" + e.detail + "); send the message's binary protobuf encoding"
}

func (e *malformedError) Unwrap() error { return apierr.ErrMalformedRequest }

// malformed wraps the decoder's error, without the "proto:" prefix (which
// protobuf follows with a space or, at random, a no-break space).
func malformed(err error) error {
	detail := strings.TrimPrefix(err.Error(), "proto:")
	return &malformedError{detail: strings.TrimLeft(detail, " \u00a0")}
}
