package idempotency

import (
	"bytes"
	"crypto/sha256"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	typev1 "github.com/tenurehq/tenure/gen/tenure/type/v1"
)

// TestFingerprintIsTheRequestWithoutItsID: the fingerprint hashes the
// method and the deterministic encoding of the request with its request_id
// cleared, unknown fields kept, so that keys stored by earlier versions
// still match; and computing it leaves the request as it was.
func TestFingerprintIsTheRequestWithoutItsID(t *testing.T) {
	req := &profilev1.BatchRecordEventsRequest{RequestId: "batch-1"}
	for i, id := range []string{"c1", "c2"} {
		req.Events = append(req.Events, &profilev1.Event{
			EventId: id + "-e", CustomerId: id, OccurredAt: timestamppb.New(timestamppb.Now().AsTime()),
			Payload: &profilev1.Event_OrderPlaced{OrderPlaced: &profilev1.OrderPlaced{
				OrderId: "o" + id, Total: &typev1.Money{CurrencyCode: "GBP", AmountMinor: int64(100 * (i + 1))},
				Lines: []*profilev1.OrderLine{{Sku: "A", Quantity: 2, UnitPrice: &typev1.Money{CurrencyCode: "GBP", AmountMinor: 50}}},
			}},
		})
	}
	req.ProtoReflect().SetUnknown(protowire.AppendVarint(protowire.AppendTag(nil, 999, protowire.VarintType), 7))
	before := proto.Clone(req)

	got, err := fingerprint("/m", req)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.New()
	without := proto.Clone(req).(*profilev1.BatchRecordEventsRequest)
	without.RequestId = ""
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(without)
	if err != nil {
		t.Fatal(err)
	}
	want.Write([]byte("/m\x00"))
	want.Write(b)
	if !bytes.Equal(got, want.Sum(nil)) {
		t.Error("fingerprint differs from the hash of the request without its request_id")
	}
	if !proto.Equal(req, before) {
		t.Errorf("fingerprint changed the request: %v, was %v", req, before)
	}

	other := proto.Clone(req).(*profilev1.BatchRecordEventsRequest)
	other.RequestId = "batch-2"
	if fp, _ := fingerprint("/m", other); !bytes.Equal(fp, got) {
		t.Error("the request_id changes the fingerprint")
	}
	other.Events[1].CustomerId = "c3"
	if fp, _ := fingerprint("/m", other); bytes.Equal(fp, got) {
		t.Error("a different event gives the same fingerprint")
	}
	other.Events[1].CustomerId = "c2"
	other.ProtoReflect().SetUnknown(nil)
	if fp, _ := fingerprint("/m", other); bytes.Equal(fp, got) {
		t.Error("the unknown fields do not count in the fingerprint")
	}
}
