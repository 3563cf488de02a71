package grpcserver

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	typev1 "github.com/tenurehq/tenure/gen/tenure/type/v1"
	"github.com/tenurehq/tenure/services/platform/apierr"
)

// nested is a Struct whose only bad string sits at
// fields["outer"].list_value.values[2].struct_value.fields[key].string_value.
func nested(key, bad string) *structpb.Struct {
	return &structpb.Struct{Fields: map[string]*structpb.Value{
		"fine": structpb.NewStringValue("ok"),
		"outer": structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{
			structpb.NewStringValue("a"),
			structpb.NewNumberValue(1),
			structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{
				key: structpb.NewStringValue(bad),
			}}),
		}}),
	}}
}

// TestCodecChecks decodes requests through the server's codec, as grpc-go
// does, and checks what it records for the request check to answer.
func TestCodecChecks(t *testing.T) {
	marshal := func(m proto.Message) []byte {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// The encoder refuses invalid UTF-8, so marshal with a NUL where the
	// bad byte goes and turn every 0x00 into 0xff. In these messages a 0x00
	// byte outside strings can only be in a fixed-width number (a varint's
	// only zero byte is a zero value, which proto3 omits, and there are no
	// bytes fields or packed lists), which stays a valid number.
	corrupt := func(m proto.Message) []byte {
		b := marshal(m)
		for i := range b {
			if b[i] == 0 {
				b[i] = 0xff
			}
		}
		return b
	}
	type batchReq = profilev1.BatchRecordEventsRequest
	tests := []struct {
		name    string
		wire    []byte
		into    proto.Message
		field   string // "" for no text error
		problem string
		garbage bool // a malformed request
	}{
		{name: "clean", wire: marshal(batch(5, -1, "")), into: &batchReq{}},
		{name: "clean with zero bytes", wire: marshal(nested("k", "fine ✓")), into: &structpb.Struct{}},
		{name: "top-level NUL", wire: marshal(&batchReq{RequestId: "a\x00b"}), into: &batchReq{},
			field: "request_id", problem: problemNUL},
		{name: "repeated message", wire: marshal(batch(5, 3, "customer_id")), into: &batchReq{},
			field: "events[3].customer_id", problem: problemNUL},
		{name: "deep in a oneof", wire: marshal(batch(5, 4, "sku")), into: &batchReq{},
			field: "events[4].order_placed.lines[1].sku", problem: problemNUL},
		{name: "repeated string", wire: marshal(&profilev1.AddCustomerTagsRequest{Tags: []string{"a", "b\x00"}}), into: &profilev1.AddCustomerTagsRequest{},
			field: "tags[1]", problem: problemNUL},
		{name: "map value in a list in a map", wire: marshal(nested("k", "x\x00")), into: &structpb.Struct{},
			field: `fields["outer"].list_value.values[2].struct_value.fields["k"].string_value`, problem: problemNUL},
		{name: "map key", wire: marshal(nested("k\x00", "x")), into: &structpb.Struct{},
			field: `fields["outer"].list_value.values[2].struct_value.fields["k\x00"]`, problem: "has a key that " + problemNUL},
		{name: "invalid UTF-8", wire: corrupt(batch(5, 3, "customer_id")), into: &batchReq{},
			field: "events[3].customer_id", problem: problemUTF8},
		{name: "invalid UTF-8 map key", wire: corrupt(nested("k\x00", "x")), into: &structpb.Struct{},
			field: `fields["outer"].list_value.values[2].struct_value.fields["k\xff"]`, problem: "has a key that " + problemUTF8},
		{name: "garbage", wire: []byte{0xff, 0xff, 0xff}, into: &batchReq{}, garbage: true},
		{name: "truncated", wire: marshal(batch(2, -1, ""))[:40], into: &batchReq{}, garbage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &decodeCodec{CodecV2: serverCodec(nil)}
			// Split the bytes in two buffers, as a message read from several
			// frames arrives.
			half := len(tt.wire) / 2
			data := mem.BufferSlice{mem.SliceBuffer(tt.wire[:half]), mem.SliceBuffer(tt.wire[half:])}
			if err := c.Unmarshal(data, tt.into); err != nil {
				t.Fatalf("Unmarshal = %v, want nil (failures are recorded)", err)
			}
			err := c.failure(tt.into)
			if c.failure(tt.into) != nil || c.pending.Load() != 0 {
				t.Error("the failure is still recorded after it was taken")
			}
			var te *textError
			var me *malformedError
			switch {
			case tt.garbage:
				if !errors.As(err, &me) || !errors.Is(err, apierr.ErrMalformedRequest) {
					t.Errorf("failure = %v, want a malformed request", err)
				}
			case tt.field == "":
				if err != nil {
					t.Errorf("failure = %v, want none", err)
				}
			case !errors.As(err, &te) || !errors.Is(err, apierr.ErrInvalidText):
				t.Errorf("failure = %v, want a text error matching apierr.ErrInvalidText", err)
			case te.Field() != tt.field || te.Description() != tt.problem:
				t.Errorf("field, problem = %q, %q; want %q, %q", te.Field(), te.Description(), tt.field, tt.problem)
			case err.Error() != tt.field+" "+tt.problem:
				t.Errorf("message = %q, want %q", err.Error(), tt.field+" "+tt.problem)
			}
		})
	}
}

// batch is a BatchRecordEventsRequest of n order events whose event bad
// has a NUL in field (customer_id, or the sku of its second line).
func batch(n, bad int, field string) *profilev1.BatchRecordEventsRequest {
	req := &profilev1.BatchRecordEventsRequest{RequestId: "req-1"}
	at := timestamppb.New(time.Date(2011, 12, 1, 10, 0, 0, 0, time.UTC))
	gbp := func(minor int64) *typev1.Money { return &typev1.Money{CurrencyCode: "GBP", AmountMinor: minor} }
	for i := range n {
		line := func(sku string) *profilev1.OrderLine {
			return &profilev1.OrderLine{Sku: sku, Category: "home", Quantity: 2, UnitPrice: gbp(255), Discount: gbp(0)}
		}
		ev := &profilev1.Event{
			EventId: fmt.Sprintf("evt-%06d", i), CustomerId: fmt.Sprintf("cust-%05d", i%997), OccurredAt: at,
			Payload: &profilev1.Event_OrderPlaced{OrderPlaced: &profilev1.OrderPlaced{
				OrderId: fmt.Sprintf("ord-%06d", i), Channel: "web",
				Lines: []*profilev1.OrderLine{line("85123A"), line("71053"), line("84406B")},
				Total: gbp(1530),
			}},
		}
		if i == bad {
			switch field {
			case "customer_id":
				ev.CustomerId = "cust\x00"
			case "sku":
				ev.GetOrderPlaced().Lines[1].Sku = "710\x0053"
			}
		}
		req.Events = append(req.Events, ev)
	}
	return req
}

// BenchmarkCodec measures the server codec's checks on a clean 1,000-event
// batch (three lines per order: about 17,000 strings): decoding through
// decodeCodec against decoding through grpc's proto codec alone, and the
// zero-byte scan that is all decodeCodec adds when the request is clean.
func BenchmarkCodec(b *testing.B) {
	wire, err := proto.Marshal(batch(1000, -1, ""))
	if err != nil {
		b.Fatal(err)
	}
	data := mem.BufferSlice{mem.SliceBuffer(wire)}
	for _, bc := range []struct {
		name  string
		codec encoding.CodecV2
	}{
		{"proto", serverCodec(nil)},
		{"checked", &decodeCodec{CodecV2: serverCodec(nil)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(wire)))
			b.ReportAllocs()
			for b.Loop() {
				var m profilev1.BatchRecordEventsRequest
				if err := bc.codec.Unmarshal(data, &m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// What "checked" adds to "proto" on a clean request.
	b.Run("scan_only", func(b *testing.B) {
		b.SetBytes(int64(len(wire)))
		for b.Loop() {
			if hasZeroByte(data) {
				b.Fatal("the clean batch has a zero byte")
			}
		}
	})
}
