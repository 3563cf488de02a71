package grpcapi

import (
	"sync"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	protocodec "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	"github.com/tenurehq/tenure/services/platform/grpcserver"
)

// ServerOptions returns the gRPC server options the segmentation service
// needs: a codec that decodes CheckMembershipRequest with two allocations
// for all its customer ids instead of one per id plus the slice's growth.
// That request is the service's hot path (promotion calls it on every
// cart); with the standard codec its 1,000 ids were ~95 % of the bytes the
// server allocated per call, and the garbage collections they caused made
// most of the tail latency.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{grpcserver.WithCodec(codec{encoding.GetCodecV2(protocodec.Name)})}
}

// codec is the standard proto codec with a fast path for decoding
// CheckMembershipRequest.
type codec struct{ encoding.CodecV2 }

func (c codec) Unmarshal(data mem.BufferSlice, v any) error {
	if req, ok := v.(*segmentationv1.CheckMembershipRequest); ok {
		buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
		done := decodeCheckRequest(buf.ReadOnlyData(), req)
		buf.Free()
		if done {
			return nil
		}
	}
	return c.CodecV2.Unmarshal(data, v)
}

// decodeCheckRequest decodes b into req, with every customer id a
// substring of one string, and reports whether it could. Anything but
// well-formed fields 1 and 2 of valid UTF-8 (unknown fields included) is
// left to the standard codec, so that the result and the errors are the
// same as its own.
func decodeCheckRequest(b []byte, req *segmentationv1.CheckMembershipRequest) bool {
	nIDs, nAuds, size := 0, 0, 0
	for p := b; len(p) > 0; {
		num, typ, n := protowire.ConsumeTag(p)
		if n < 0 || typ != protowire.BytesType || (num != 1 && num != 2) {
			return false
		}
		v, m := protowire.ConsumeBytes(p[n:])
		if m < 0 || !utf8.Valid(v) {
			return false
		}
		p = p[n+m:]
		if num == 1 {
			nIDs++
			size += len(v)
		} else {
			nAuds++
		}
	}
	proto.Reset(req)
	if nIDs > 0 {
		arena := make([]byte, 0, size)
		for p := b; len(p) > 0; {
			num, _, n := protowire.ConsumeTag(p)
			v, m := protowire.ConsumeBytes(p[n:])
			p = p[n+m:]
			if num == 1 {
				arena = append(arena, v...)
			}
		}
		all := string(arena)
		req.CustomerIds = idSlice(nIDs)
		off := 0
		for p := b; len(p) > 0; {
			num, _, n := protowire.ConsumeTag(p)
			v, m := protowire.ConsumeBytes(p[n:])
			p = p[n+m:]
			if num == 1 {
				req.CustomerIds = append(req.CustomerIds, all[off:off+len(v)])
				off += len(v)
			}
		}
	}
	if nAuds > 0 {
		req.Audiences = make([]string, 0, nAuds)
		for p := b; len(p) > 0; {
			num, _, n := protowire.ConsumeTag(p)
			v, m := protowire.ConsumeBytes(p[n:])
			p = p[n+m:]
			if num == 2 {
				req.Audiences = append(req.Audiences, string(v))
			}
		}
	}
	return true
}

// idSlices recycles the customer id slices of CheckMembership requests:
// the handler is their last user (the response does not refer to them).
var idSlices sync.Pool

// idSlice returns an empty slice with room for n ids, recycled if one is.
func idSlice(n int) []string {
	if p, _ := idSlices.Get().(*[]string); p != nil && cap(*p) >= n {
		return (*p)[:0]
	}
	return make([]string, 0, max(n, 1000))
}

// recycle returns req's customer id slice for reuse and removes it from
// req; call it when nothing refers to the ids any more.
func recycle(req *segmentationv1.CheckMembershipRequest) {
	s := req.CustomerIds
	req.CustomerIds = nil
	if cap(s) < 1000 {
		return // not one of idSlice's
	}
	clear(s) // let the ids' arena go
	s = s[:0]
	idSlices.Put(&s)
}
