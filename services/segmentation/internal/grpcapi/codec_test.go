package grpcapi

import (
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
)

// TestDecodeCheckRequest compares the fast decoding of
// CheckMembershipRequest with proto.Unmarshal's.
func TestDecodeCheckRequest(t *testing.T) {
	enc := func(m *segmentationv1.CheckMembershipRequest) []byte {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	many := make([]string, 1000)
	for i := range many {
		many[i] = string(rune('a'+i%26)) + "-" + string(rune('α'+i%20))
	}
	str := func(num protowire.Number, s string) []byte {
		return protowire.AppendString(protowire.AppendTag(nil, num, protowire.BytesType), s)
	}
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	tests := []struct {
		name     string
		in       []byte
		wantFast bool // false: left to the standard codec
	}{
		{"empty", nil, true},
		{"ids and audiences", enc(&segmentationv1.CheckMembershipRequest{CustomerIds: []string{"c1", "", "c3"}, Audiences: []string{"tiers/vip", "segments/x"}}), true},
		{"only audiences", enc(&segmentationv1.CheckMembershipRequest{Audiences: []string{"tiers/vip"}}), true},
		{"1000 ids", enc(&segmentationv1.CheckMembershipRequest{CustomerIds: many, Audiences: []string{"tiers/vip"}}), true},
		{"interleaved fields", cat(str(2, "a1"), str(1, "x"), str(2, "a2"), str(1, "yy")), true},
		{"unknown field", cat(str(1, "x"), str(7, "?")), false},
		{"wrong wire type", cat(str(1, "x"), protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 3)), false},
		{"invalid UTF-8", str(1, "\xff"), false},
		{"truncated", str(1, "abc")[:3], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := &segmentationv1.CheckMembershipRequest{CustomerIds: []string{"stale"}}
			if fast := decodeCheckRequest(tt.in, got); fast != tt.wantFast {
				t.Fatalf("decodeCheckRequest: got %v, want %v", fast, tt.wantFast)
			}
			if !tt.wantFast {
				return
			}
			want := &segmentationv1.CheckMembershipRequest{}
			if err := proto.Unmarshal(tt.in, want); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}
