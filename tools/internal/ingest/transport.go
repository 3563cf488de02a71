package ingest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Profile is what the import needs of the profile service: recording
// events, and setting customers' fields the file has (their country).
type Profile interface {
	Sender
	CustomerUpdater
}

// GRPC sends batches and updates with a profile service client.
func GRPC(client profilev1.ProfileServiceClient) Profile { return grpcSender{client} }

type grpcSender struct {
	client profilev1.ProfileServiceClient
}

func (g grpcSender) BatchRecordEvents(ctx context.Context, req *profilev1.BatchRecordEventsRequest) (*profilev1.BatchRecordEventsResponse, error) {
	return g.client.BatchRecordEvents(ctx, req)
}

func (g grpcSender) UpdateCustomer(ctx context.Context, req *profilev1.UpdateCustomerRequest) (*profilev1.UpdateCustomerResponse, error) {
	return g.client.UpdateCustomer(ctx, req)
}

// BatchRecordPath is the gateway route of BatchRecordEvents.
const BatchRecordPath = "/v1/events:batchRecord"

// maxResponseBytes bounds how much of a gateway answer is read.
const maxResponseBytes = 16 << 20

// ProtobufContentType is the content type under which the gateway reads a
// request body as binary protobuf. Requests go as protobuf: encoding batches
// as JSON, and the gateway decoding that JSON, cost more than recording them.
const ProtobufContentType = "application/x-protobuf"

// Gateway sends batches as binary protobuf, and updates as JSON, to the gateway at baseURL
// (e.g. "http://127.0.0.1:8080"). A nil client means http.DefaultClient.
func Gateway(baseURL string, client *http.Client) Profile {
	if client == nil {
		client = http.DefaultClient
	}
	return gatewaySender{base: strings.TrimRight(baseURL, "/"), client: client}
}

type gatewaySender struct {
	base   string
	client *http.Client
}

func (g gatewaySender) BatchRecordEvents(ctx context.Context, req *profilev1.BatchRecordEventsRequest) (*profilev1.BatchRecordEventsResponse, error) {
	body, err := proto.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("ingest: encode: %w", err)
	}
	resp := &profilev1.BatchRecordEventsResponse{}
	return resp, g.call(ctx, http.MethodPost, g.base+BatchRecordPath, ProtobufContentType, body, resp)
}

// UpdateCustomer is PATCH /v1/customers/{id}?updateMask=…, the customer
// as the body, in JSON: the gateway takes a PATCH body in JSON only.
func (g gatewaySender) UpdateCustomer(ctx context.Context, req *profilev1.UpdateCustomerRequest) (*profilev1.UpdateCustomerResponse, error) {
	u := g.base + "/v1/" + req.GetCustomer().GetName() + "?" +
		url.Values{"updateMask": {strings.Join(req.GetUpdateMask().GetPaths(), ",")}}.Encode()
	body, err := protojson.Marshal(req.GetCustomer())
	if err != nil {
		return nil, fmt.Errorf("ingest: encode: %w", err)
	}
	resp := &profilev1.UpdateCustomerResponse{}
	return resp, g.call(ctx, http.MethodPatch, u, "application/json", body, resp)
}

// call sends body, of the given content type, to u and decodes the JSON
// answer into out; a non-200 answer is an *HTTPError, a failure to reach the
// gateway Unavailable.
func (g gatewaySender) call(ctx context.Context, method, u, contentType string, body []byte, out proto.Message) error {
	hreq, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	hreq.Header.Set("Content-Type", contentType)
	hreq.Header.Set("Accept", "application/json")
	hresp, err := g.client.Do(hreq)
	if err != nil {
		if ctx.Err() != nil {
			return status.FromContextError(ctx.Err()).Err()
		}
		// Connection refused, reset, ...: the gateway may come back.
		return status.Error(codes.Unavailable, err.Error())
	}
	defer hresp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(hresp.Body, maxResponseBytes))
	if err != nil {
		return status.Errorf(codes.Unavailable, "read response: %v", err)
	}
	if hresp.StatusCode != http.StatusOK {
		return newHTTPError(hresp.StatusCode, data)
	}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, out); err != nil {
		return fmt.Errorf("ingest: decode response: %w", err)
	}
	return nil
}

// HTTPError is a non-200 answer from the gateway. It carries the
// google.rpc.Status the gateway sent, when there was one.
type HTTPError struct {
	StatusCode int
	Status     *status.Status
}

func newHTTPError(code int, body []byte) *HTTPError {
	var p spb.Status
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(body, &p); err == nil && (p.GetCode() != 0 || p.GetMessage() != "") {
		return &HTTPError{StatusCode: code, Status: status.FromProto(&p)}
	}
	msg := strings.TrimSpace(string(body))
	if len(msg) > 200 {
		cut := 200
		for cut > 0 && !utf8.RuneStart(msg[cut]) { // don't split a character
			cut--
		}
		msg = msg[:cut] + "…"
	}
	if msg == "" {
		msg = http.StatusText(code)
	}
	return &HTTPError{StatusCode: code, Status: status.New(codes.Unknown, msg)}
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("gateway: HTTP %d: %s: %s", e.StatusCode, e.Status.Code(), e.Status.Message())
}

// GRPCStatus lets status.Code and status.FromError see the gateway's status.
func (e *HTTPError) GRPCStatus() *status.Status { return e.Status }

// Temporary reports whether the request may succeed later: any 5xx or
// 429, or the same request still in progress (Aborted, 409).
func (e *HTTPError) Temporary() bool {
	return e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests || e.Status.Code() == codes.Aborted
}
