// Package ingesttest provides a fake profile service that records event
// batches the way the real one reports them (accepted, duplicate, rejected),
// with injectable transient failures, served over real gRPC or real HTTP.
package ingesttest

import (
	"context"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// RejectReason is the reason the fake gives for an event without a
// customer id, the one validation it does.
const RejectReason = "CUSTOMER_ID_REQUIRED"

// Fake is an in-memory BatchRecordEvents. The zero value is not usable;
// call New.
type Fake struct {
	profilev1.UnimplementedProfileServiceServer

	mu         sync.Mutex
	seen       map[string]bool
	failures   []error
	requestIDs []string
	replies    map[string]*profilev1.BatchRecordEventsResponse
	countries  map[string]string // customer id → country, for customers with an event
}

// New returns an empty fake.
func New() *Fake {
	return &Fake{seen: make(map[string]bool), replies: make(map[string]*profilev1.BatchRecordEventsResponse),
		countries: make(map[string]string)}
}

// FailNext makes the next len(errs) calls fail with errs, in order, before
// doing anything.
func (f *Fake) FailNext(errs ...error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = append(f.failures, errs...)
}

// RequestIDs returns the request id of every call, failed ones included.
func (f *Fake) RequestIDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requestIDs...)
}

// Recorded returns how many distinct events were accepted.
func (f *Fake) Recorded() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.seen)
}

// BatchRecordEvents accepts new event ids, reports seen ones as
// duplicates and rejects events without a customer. A request id seen
// before gets the first answer again.
func (f *Fake) BatchRecordEvents(_ context.Context, req *profilev1.BatchRecordEventsRequest) (*profilev1.BatchRecordEventsResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requestIDs = append(f.requestIDs, req.GetRequestId())
	if len(f.failures) > 0 {
		err := f.failures[0]
		f.failures = f.failures[1:]
		return nil, err
	}
	if len(req.GetEvents()) == 0 || len(req.GetEvents()) > 1000 {
		return nil, status.Error(codes.InvalidArgument, "events: 1 to 1000")
	}
	if r, ok := f.replies[req.GetRequestId()]; ok && req.GetRequestId() != "" {
		return proto.CloneOf(r), nil
	}
	resp := &profilev1.BatchRecordEventsResponse{}
	for i, ev := range req.GetEvents() {
		r := &profilev1.EventResult{Index: int32(i), EventId: ev.GetEventId()}
		switch {
		case ev.GetCustomerId() == "":
			r.Outcome = profilev1.EventOutcome_EVENT_OUTCOME_REJECTED
			r.Reason, r.Field, r.Message = RejectReason, "events[].customer_id", "customer_id is required"
			resp.RejectedCount++
		case f.seen[ev.GetEventId()]:
			r.Outcome = profilev1.EventOutcome_EVENT_OUTCOME_DUPLICATE
			resp.DuplicateCount++
		default:
			f.seen[ev.GetEventId()] = true
			f.countries[ev.GetCustomerId()] += ""
			r.Outcome = profilev1.EventOutcome_EVENT_OUTCOME_ACCEPTED
			resp.AcceptedCount++
		}
		resp.Results = append(resp.Results, r)
	}
	f.replies[req.GetRequestId()] = resp
	return proto.CloneOf(resp), nil
}

// UpdateCustomer sets the country of a customer some accepted event named,
// the one field it keeps, and answers NotFound for any other customer.
func (f *Fake) UpdateCustomer(_ context.Context, req *profilev1.UpdateCustomerRequest) (*profilev1.UpdateCustomerResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := strings.TrimPrefix(req.GetCustomer().GetName(), "customers/")
	if _, ok := f.countries[id]; !ok {
		return nil, status.Errorf(codes.NotFound, "customer not found: %s", id)
	}
	if !slices.Equal(req.GetUpdateMask().GetPaths(), []string{"country"}) {
		return nil, status.Errorf(codes.InvalidArgument, "update_mask: the fake updates country only, got %v", req.GetUpdateMask().GetPaths())
	}
	f.countries[id] = req.GetCustomer().GetCountry()
	return &profilev1.UpdateCustomerResponse{Customer: &profilev1.Customer{Name: req.GetCustomer().GetName(), CustomerId: id, Country: f.countries[id]}}, nil
}

// Countries returns the country of every customer some accepted event
// named ("" until UpdateCustomer sets one).
func (f *Fake) Countries() map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.countries)
}

// ListenGRPC serves f over gRPC on a local port until the test ends and
// returns its address.
func ListenGRPC(t testing.TB, f *Fake) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	profilev1.RegisterProfileServiceServer(srv, f)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// ServeGRPC serves f like ListenGRPC and returns a client connected to it.
func ServeGRPC(t testing.TB, f *Fake) profilev1.ProfileServiceClient {
	t.Helper()
	conn, err := grpc.NewClient(ListenGRPC(t, f), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return profilev1.NewProfileServiceClient(conn)
}

// ServeHTTP serves f's BatchRecordEvents and UpdateCustomer as the gateway
// routes POST /v1/events:batchRecord and PATCH /v1/customers/{id} until the
// test ends and returns the base URL. Like the gateway, it reads a body as
// JSON, or as binary protobuf under Content-Type application/x-protobuf, and
// answers JSON.
// Errors are written as google.rpc.Status JSON with the gateway's HTTP
// status for their code (the few codes the tests use).
func ServeHTTP(t testing.TB, f *Fake) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/events:batchRecord", func(w http.ResponseWriter, r *http.Request) {
		req := &profilev1.BatchRecordEventsRequest{}
		if err := readBody(r, req); err != nil {
			writeStatus(w, status.New(codes.InvalidArgument, err.Error()))
			return
		}
		resp, err := f.BatchRecordEvents(r.Context(), req)
		writeJSON(w, resp, err)
	})
	mux.HandleFunc("PATCH /v1/customers/{id}", func(w http.ResponseWriter, r *http.Request) {
		c := &profilev1.Customer{}
		if err := readBody(r, c); err != nil {
			writeStatus(w, status.New(codes.InvalidArgument, err.Error()))
			return
		}
		c.Name = "customers/" + r.PathValue("id")
		var paths []string
		if m := r.URL.Query().Get("updateMask"); m != "" {
			paths = strings.Split(m, ",")
		}
		resp, err := f.UpdateCustomer(r.Context(), &profilev1.UpdateCustomerRequest{Customer: c, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths}})
		writeJSON(w, resp, err)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// readBody decodes r's body into m as JSON, or as binary protobuf under
// Content-Type application/x-protobuf.
func readBody(r *http.Request, m proto.Message) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if r.Header.Get("Content-Type") == "application/x-protobuf" {
		return proto.Unmarshal(body, m)
	}
	return protojson.Unmarshal(body, m)
}

// writeJSON writes resp, or err as a status, as the gateway does.
func writeJSON(w http.ResponseWriter, resp proto.Message, err error) {
	if err != nil {
		writeStatus(w, status.Convert(err))
		return
	}
	data, err := protojson.Marshal(resp)
	if err != nil {
		writeStatus(w, status.New(codes.Internal, err.Error()))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(data)
}

func writeStatus(w http.ResponseWriter, st *status.Status) {
	code := http.StatusInternalServerError
	switch st.Code() {
	case codes.InvalidArgument:
		code = http.StatusBadRequest
	case codes.Unavailable:
		code = http.StatusServiceUnavailable
	case codes.ResourceExhausted:
		code = http.StatusTooManyRequests
	case codes.Aborted:
		code = http.StatusConflict
	case codes.FailedPrecondition:
		code = http.StatusBadRequest
	case codes.NotFound:
		code = http.StatusNotFound
	}
	data, _ := protojson.Marshal(st.Proto())
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(data)
}
