package edge

import (
	"bytes"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
)

// TestMarshalerMatchesJSONPb proves the pooled marshaler writes exactly
// what runtime.JSONPb with the same options writes, including across reuse
// of the pooled buffer.
func TestMarshalerMatchesJSONPb(t *testing.T) {
	opts := protojson.MarshalOptions{EmitDefaultValues: true}
	ours := &jsonMarshaler{JSONPb: runtime.JSONPb{MarshalOptions: opts}}
	ref := &runtime.JSONPb{MarshalOptions: opts}

	st, err := status.New(codes.NotFound, "profile: customer not found").
		WithDetails(&errdetails.ErrorInfo{Reason: "CUSTOMER_NOT_FOUND", Domain: "profile.tenure.dev"})
	if err != nil {
		t.Fatal(err)
	}
	values := []struct {
		name string
		v    any
	}{
		{"customer", &profilev1.GetCustomerResponse{Customer: &profilev1.Customer{
			Name: "customers/c1", CustomerId: "c1", FullName: "Ada \"Lovelace\" <&>", Email: "ada@example.com",
			Country: "GB", Tags: []string{"a", "b", "ünïcödé"}, RegistrationTime: timestamppb.New(timestamppb.Now().AsTime()),
		}}},
		{"empty customer", &profilev1.Customer{}},
		{"status", st.Proto()},
		{"big", &profilev1.Customer{FullName: strings.Repeat("x", 3*maxPooledBuffer)}},
		{"non-proto map", map[string]any{"a": 1, "b": []string{"x"}}},
		{"non-proto nil", nil},
	}
	var outputs [][]byte
	for round := 0; round < 3; round++ {
		for _, tc := range values {
			name := tc.name
			want, werr := ref.Marshal(tc.v)
			got, gerr := ours.Marshal(tc.v)
			if (werr == nil) != (gerr == nil) {
				t.Fatalf("%s: error %v, JSONPb error %v", name, gerr, werr)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s:\n got %s\nwant %s", name, got, want)
			}
			outputs = append(outputs, got)
		}
	}
	// Earlier results must not share memory with the pooled buffer.
	i := 0
	for round := 0; round < 3; round++ {
		for _, tc := range values {
			want, _ := ref.Marshal(tc.v)
			if !bytes.Equal(outputs[i], want) {
				t.Errorf("%s: output of round %d changed after later calls", tc.name, round)
			}
			i++
		}
	}
}
