package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"

	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
)

// textStatus is the part of a google.rpc.Status the bad input tests read.
type textStatus struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Details []struct {
		Type     string            `json:"@type"`
		Reason   string            `json:"reason"`
		Domain   string            `json:"domain"`
		Metadata map[string]string `json:"metadata"`
	} `json:"details"`
}

// TestBadTextOverHTTP sends text that is not valid UTF-8 in path
// parameters, query parameters and JSON bodies, and text with a NUL
// character (valid UTF-8 and JSON, but not storable in PostgreSQL) in
// query parameters, body fields, lists and maps, to profile and
// segmentation routes through the gateway, with the services on SQLite and
// on PostgreSQL. Every one is a 400 with reason INVALID_TEXT naming the
// field, and nothing is written. Before, the first kind was a 500 from the
// gateway's marshalling and the second a 500 from PostgreSQL (and accepted
// on SQLite).
func TestBadTextOverHTTP(t *testing.T) {
	for _, engine := range []struct {
		name     string
		postgres bool
	}{{"sqlite", false}, {"postgres", true}} {
		t.Run(engine.name, func(t *testing.T) {
			badTextOverHTTP(t, startStack(t, stackOptions{postgres: engine.postgres}))
		})
	}
}

func badTextOverHTTP(t *testing.T, s *stack) {
	for _, setup := range []struct{ path, body string }{
		{"/v1/customers?customerId=c1", `{"fullName":"Ada"}`},
		{"/v1/segments?segmentId=picked", `{"displayName":"Picked","kind":"SEGMENT_KIND_STATIC"}`},
	} {
		if code, b := s.do(t, http.MethodPost, setup.path, strings.NewReader(setup.body), nil); code != http.StatusOK {
			t.Fatalf("POST %s = %d %s", setup.path, code, b)
		}
	}
	const (
		gateway      = "gateway.tenure.dev"
		profile      = "profile.tenure.dev"
		segmentation = "segmentation.tenure.dev"
	)
	tests := []struct {
		method, path, body string
		domain, field      string // field "" for a body that is not UTF-8 (no field is known)
	}{
		// Path parameters that are not UTF-8.
		{method: "GET", path: "/v1/customers/c%FF", domain: gateway, field: "name"},
		{method: "PATCH", path: "/v1/customers/c%FF", body: `{"fullName":"x"}`, domain: gateway, field: "customer.name"},
		{method: "DELETE", path: "/v1/customers/c%FF", domain: gateway, field: "name"},
		{method: "POST", path: "/v1/customers/c%FF:addTags", body: `{"tags":["a"]}`, domain: gateway, field: "name"},
		{method: "GET", path: "/v1/customers/c%FF/events", domain: gateway, field: "parent"},
		{method: "GET", path: "/v1/customers/c%FF:export", domain: gateway, field: "name"},
		{method: "POST", path: "/v1/customers/c%FF:erase", body: `{}`, domain: gateway, field: "name"},
		{method: "GET", path: "/v1/customers/c%FF/scores", domain: gateway, field: "name"},
		{method: "GET", path: "/v1/segments/s%FF", domain: gateway, field: "name"},
		{method: "PATCH", path: "/v1/segments/s%FF", body: `{"displayName":"x"}`, domain: gateway, field: "segment.name"},
		{method: "DELETE", path: "/v1/segments/s%FF", domain: gateway, field: "name"},
		{method: "POST", path: "/v1/segments/s%FF:addMembers", body: `{"customerIds":["c1"]}`, domain: gateway, field: "segment"},
		{method: "GET", path: "/v1/segments/s%FF/members", domain: gateway, field: "parent"},
		{method: "GET", path: "/v1/tiers/t%E2%82/members", domain: gateway, field: "parent"},
		{method: "GET", path: "/v1/operations/o%FF", domain: gateway, field: "name"},
		// Query parameters that are not UTF-8.
		{method: "GET", path: "/v1/customers?pageToken=%FF", domain: gateway, field: "pageToken"},
		{method: "POST", path: "/v1/customers?customerId=c%FF", body: `{"fullName":"x"}`, domain: gateway, field: "customerId"},
		{method: "PATCH", path: "/v1/customers/c1?updateMask=%FF", body: `{"fullName":"x"}`, domain: gateway, field: "updateMask"},
		{method: "GET", path: "/v1/customers/c1/events?page_token=%C0%80", domain: gateway, field: "pageToken"},
		{method: "GET", path: "/v1/events:stream?afterSequence=0&includeFeatures=%FF", domain: gateway, field: "includeFeatures"},
		{method: "GET", path: "/v1/segments?pageToken=%FF", domain: gateway, field: "pageToken"},
		{method: "GET", path: "/v1/segments/picked/members?pageToken=%FF", domain: gateway, field: "pageToken"},
		{method: "GET", path: "/v1/operations?pageToken=%FF", domain: gateway, field: "pageToken"},
		{method: "POST", path: "/v1/segments?segmentId=s2&requestId=%FF", body: `{"displayName":"x"}`, domain: gateway, field: "requestId"},
		// JSON bodies that are not UTF-8.
		{method: "POST", path: "/v1/customers?customerId=c2", body: "{\"fullName\":\"Ad\xe9\"}", domain: gateway},
		{method: "POST", path: "/v1/segments?segmentId=s3", body: "{\"displayName\":\"\xff\"}", domain: gateway},
		{method: "POST", path: "/v1/events:batchRecord", body: "{\"events\":[{\"eventId\":\"e1\",\"customerId\":\"c\xff\",\"occurredAt\":\"2011-12-01T10:00:00Z\",\"productViewed\":{\"sku\":\"A\"}}]}", domain: gateway},
		// NUL, in the backends' domains, named by proto field path.
		{method: "POST", path: "/v1/customers?customerId=c3&requestId=r%00", body: `{"fullName":"x"}`, domain: profile, field: "request_id"},
		{method: "POST", path: "/v1/customers?customerId=c4", body: `{"fullName":"Ada\u0000"}`, domain: profile, field: "customer.full_name"},
		{method: "GET", path: "/v1/customers/c1%00", domain: profile, field: "name"},
		{method: "POST", path: "/v1/customers/c1:addTags", body: `{"tags":["vip","a\u0000"]}`, domain: profile, field: "tags[1]"},
		{method: "POST", path: "/v1/events", body: `{"eventId":"e\u0000","customerId":"c5","occurredAt":"2011-12-01T10:00:00Z","productViewed":{"sku":"A"}}`, domain: profile, field: "event.event_id"},
		{method: "POST", path: "/v1/events:batchRecord", body: `{"events":[
			{"eventId":"e2","customerId":"c6","occurredAt":"2011-12-01T10:00:00Z","productViewed":{"sku":"A"}},
			{"eventId":"e3","customerId":"c7","occurredAt":"2011-12-01T10:00:00Z","orderPlaced":{"lines":[{"sku":"A"},{"sku":"B\u0000"}]}}]}`,
			domain: profile, field: "events[1].order_placed.lines[1].sku"},
		{method: "POST", path: "/v1/segments?segmentId=s4", body: `{"displayName":"x\u0000","kind":"SEGMENT_KIND_STATIC"}`, domain: segmentation, field: "segment.display_name"},
		{method: "POST", path: "/v1/segments/picked:addMembers", body: `{"customerIds":["c1","c\u0000"]}`, domain: segmentation, field: "customer_ids[1]"},
		{method: "PATCH", path: "/v1/segmentation/settings?updateMask=tierMap", body: `{"tierMap":{"champions":"vip\u0000"}}`, domain: segmentation, field: `settings.tier_map["champions"]`},
		{method: "PATCH", path: "/v1/segmentation/settings?updateMask=tierMap", body: `{"tierMap":{"champ\u0000":"vip"}}`, domain: segmentation, field: `settings.tier_map["champ\x00"]`},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			var code int
			var b []byte
			if tt.body != "" {
				code, b = s.do(t, tt.method, tt.path, strings.NewReader(tt.body), nil)
			} else {
				code, b = s.do(t, tt.method, tt.path, nil, nil)
			}
			st := decode[textStatus](t, b)
			if code != http.StatusBadRequest || codes.Code(st.Code) != codes.InvalidArgument {
				t.Fatalf("got %d %s, want 400 INVALID_ARGUMENT", code, b)
			}
			if len(st.Details) == 0 || st.Details[0].Reason != "INVALID_TEXT" || st.Details[0].Domain != tt.domain {
				t.Fatalf("details %+v, want ErrorInfo INVALID_TEXT in %s", st.Details, tt.domain)
			}
			if got := st.Details[0].Metadata["field"]; got != tt.field {
				t.Errorf("ErrorInfo field = %q, want %q", got, tt.field)
			}
			if tt.field != "" && !strings.Contains(st.Message, tt.field) {
				t.Errorf("message %q does not name %s", st.Message, tt.field)
			}
			if tt.field == "" && !strings.Contains(st.Message, "not valid UTF-8") {
				t.Errorf("message %q does not say the text is not UTF-8", st.Message)
			}
		})
	}
	// Nothing the refused requests carried was written.
	for _, p := range []string{"/v1/customers/c2", "/v1/customers/c3", "/v1/customers/c4", "/v1/customers/c5",
		"/v1/customers/c6", "/v1/customers/c7", "/v1/segments/s2", "/v1/segments/s3", "/v1/segments/s4"} {
		if code, b := s.do(t, http.MethodGet, p, nil, nil); code != http.StatusNotFound {
			t.Errorf("GET %s = %d %s, want 404", p, code, b)
		}
	}
	if code, b := s.do(t, http.MethodGet, "/v1/segments/picked/members", nil, nil); code != http.StatusOK || strings.Contains(string(b), `"c1"`) {
		t.Errorf("members of picked = %d %s, want none", code, b)
	}
	if code, b := s.do(t, http.MethodGet, "/v1/customers/c1", nil, nil); code != http.StatusOK || strings.Contains(string(b), "vip") {
		t.Errorf("customer c1 = %d %s, want it without the refused tags", code, b)
	}
}

// rawCodec sends []byte messages as they are, so a test can put any bytes
// on the wire.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(v.([]byte))}, nil
}
func (rawCodec) Unmarshal(mem.BufferSlice, any) error { return nil }
func (rawCodec) Name() string                         { return "proto" }

// TestBadBytesOverGRPC sends corrupt protobuf, strings that are not UTF-8
// and strings with NUL straight to the profile and segmentation services'
// gRPC ports: unary calls, a server stream, and segmentation's
// CheckMembership, which has its own decoder. Each is INVALID_ARGUMENT
// with an ErrorInfo in the service's domain; before, the first two kinds
// were INTERNAL without details.
func TestBadBytesOverGRPC(t *testing.T) {
	s := startStack(t, stackOptions{})
	dial := func(addr string) *grpc.ClientConn {
		return stacktest.Dial(t, addr)
	}
	pconn, sconn := dial(s.profileAddr), dial(s.segmentationAddr)
	marshal := func(m proto.Message) []byte {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// ids is the wire form of CheckMembership's (or AddSegmentMembers')
	// customer_ids (field 1 or 2) holding the given raw strings.
	ids := func(num protowire.Number, raw ...string) []byte {
		var b []byte
		for _, id := range raw {
			b = protowire.AppendString(protowire.AppendTag(b, num, protowire.BytesType), id)
		}
		return b
	}
	batch := marshal(&profilev1.BatchRecordEventsRequest{Events: []*profilev1.Event{
		{EventId: "e1", CustomerId: "c1"}, {EventId: "e2", CustomerId: "c\x002"},
	}})
	const (
		batchMethod  = "/tenure.profile.v1.ProfileService/BatchRecordEvents"
		streamMethod = "/tenure.profile.v1.ProfileService/StreamEvents"
		checkMethod  = "/tenure.segmentation.v1.SegmentationService/CheckMembership"
		addMethod    = "/tenure.segmentation.v1.SegmentationService/AddSegmentMembers"
	)
	tests := []struct {
		name      string
		conn      *grpc.ClientConn
		method    string
		streaming bool
		wire      []byte
		reason    string
		domain    string
		field     string
	}{
		{"batch garbage", pconn, batchMethod, false, []byte{0xff, 0xff, 0xff}, "MALFORMED_REQUEST", "profile.tenure.dev", ""},
		{"batch NUL", pconn, batchMethod, false, batch, "INVALID_TEXT", "profile.tenure.dev", "events[1].customer_id"},
		{"batch not UTF-8", pconn, batchMethod, false, []byte(strings.Replace(string(batch), "c\x002", "c\xff2", 1)), "INVALID_TEXT", "profile.tenure.dev", "events[1].customer_id"},
		{"stream garbage", pconn, streamMethod, true, []byte{0x08}, "MALFORMED_REQUEST", "profile.tenure.dev", ""},
		{"check garbage", sconn, checkMethod, false, []byte{0x0a, 0x05, 'a'}, "MALFORMED_REQUEST", "segmentation.tenure.dev", ""},
		{"check not UTF-8", sconn, checkMethod, false, append(ids(1, "c1", "c2", "c\xff"), ids(2, "tiers/vip")...), "INVALID_TEXT", "segmentation.tenure.dev", "customer_ids[2]"},
		{"check NUL", sconn, checkMethod, false, append(ids(1, "c1", "c\x00"), ids(2, "tiers/vip")...), "INVALID_TEXT", "segmentation.tenure.dev", "customer_ids[1]"},
		{"add members not UTF-8", sconn, addMethod, false, append(ids(1, "segments/picked"), ids(2, "c\xc3")...), "INVALID_TEXT", "segmentation.tenure.dev", "customer_ids[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := invokeRaw(ctx, tt.conn, tt.method, tt.streaming, tt.wire)
			st := status.Convert(err)
			if st.Code() != codes.InvalidArgument {
				t.Fatalf("code = %v (%v), want InvalidArgument", st.Code(), err)
			}
			var info *errdetails.ErrorInfo
			for _, d := range st.Details() {
				if i, ok := d.(*errdetails.ErrorInfo); ok {
					info = i
				}
			}
			if info.GetReason() != tt.reason || info.GetDomain() != tt.domain || info.GetMetadata()["field"] != tt.field {
				t.Errorf("ErrorInfo %v, want %s in %s naming %q", info, tt.reason, tt.domain, tt.field)
			}
			if !strings.HasPrefix(st.Message(), tt.field) {
				t.Errorf("message %q does not start with the field %q", st.Message(), tt.field)
			}
		})
	}
	// The valid event of the refused batch was not recorded.
	if _, err := profilev1.NewProfileServiceClient(pconn).GetCustomer(context.Background(), &profilev1.GetCustomerRequest{Name: "customers/c1"}); status.Code(err) != codes.NotFound {
		t.Errorf("GetCustomer(c1) = %v, want NotFound", err)
	}
	// CheckMembership still decodes well-formed requests with its codec.
	if _, err := segmentationv1.NewSegmentationServiceClient(sconn).CheckMembership(context.Background(), &segmentationv1.CheckMembershipRequest{
		CustomerIds: []string{"c1"}, Audiences: []string{"tiers/vip"},
	}); status.Code(err) == codes.InvalidArgument {
		t.Errorf("CheckMembership of a clean request: %v", err)
	}
}

// invokeRaw sends wire as the one request of method and returns the call's
// error (io.EOF-free: nil when a stream ends cleanly).
func invokeRaw(ctx context.Context, conn *grpc.ClientConn, method string, streaming bool, wire []byte) error {
	if !streaming {
		var out []byte
		return conn.Invoke(ctx, method, wire, &out, grpc.ForceCodecV2(rawCodec{}))
	}
	st, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, method, grpc.ForceCodecV2(rawCodec{}))
	if err != nil {
		return err
	}
	if err := st.SendMsg(wire); err != nil {
		return err
	}
	if err := st.CloseSend(); err != nil {
		return err
	}
	var out []byte
	return st.RecvMsg(&out)
}
