package grpcapi

import (
	"testing"

	"google.golang.org/grpc/encoding"
	protocodec "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
)

// FuzzCheckRequestCodec compares the server codec's decoding of
// CheckMembershipRequest (the hand-written fast path, or the standard codec
// it falls back to) with proto.Unmarshal: the same message, or an error
// from both. The request decoded into starts with stale content, and the
// input is decoded a second time after its id slice has been recycled.
func FuzzCheckRequestCodec(f *testing.F) {
	str := func(b []byte, num protowire.Number, s string) []byte {
		return protowire.AppendString(protowire.AppendTag(b, num, protowire.BytesType), s)
	}
	many := make([]string, 1200)
	for i := range many {
		many[i] = "c-" + string(rune('a'+i%26))
	}
	for _, m := range []*segmentationv1.CheckMembershipRequest{
		{},
		{CustomerIds: []string{"c1", "", "c3"}, Audiences: []string{"tiers/vip", "segments/x"}},
		{CustomerIds: many, Audiences: []string{"stages/active"}},
		{CustomerIds: []string{"Zoë", "名前"}},
	} {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(str(str(str(nil, 2, "a1"), 1, "x"), 1, "yy"))                                              // interleaved
	f.Add(str(str(nil, 1, "x"), 7, "?"))                                                             // unknown field
	f.Add(protowire.AppendVarint(protowire.AppendTag(str(nil, 1, "x"), 1, protowire.VarintType), 3)) // wrong wire type
	f.Add(str(nil, 1, "\xff"))                                                                       // invalid UTF-8
	f.Add(str(nil, 1, "abc")[:3])                                                                    // truncated
	f.Add([]byte{0x8a, 0x80, 0x00, 0x01, 'x'})                                                       // non-minimal tag and length
	c := codec{encoding.GetCodecV2(protocodec.Name)}
	f.Fuzz(func(t *testing.T, b []byte) {
		want := &segmentationv1.CheckMembershipRequest{}
		wantErr := proto.Unmarshal(b, want)
		for round := range 2 {
			got := &segmentationv1.CheckMembershipRequest{CustomerIds: []string{"stale"}, Audiences: []string{"stale"}}
			err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, got)
			if (err == nil) != (wantErr == nil) {
				t.Fatalf("round %d: codec error %v, proto.Unmarshal error %v", round, err, wantErr)
			}
			if err == nil && !proto.Equal(got, want) {
				t.Fatalf("round %d: codec decoded %v, proto.Unmarshal %v", round, got, want)
			}
			recycle(got)
		}
	})
}
