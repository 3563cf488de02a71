package edge_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/gateway/internal/edge"
)

// streamer is a ProfileService whose StreamEvents sends after_sequence
// events and then fails with the error chosen by include_features: a
// described INVALID_ARGUMENT when false, an undescribed UNAVAILABLE that
// quotes an internal address when true.
type streamer struct {
	profilev1.UnimplementedProfileServiceServer
}

func (streamer) StreamEvents(req *profilev1.StreamEventsRequest, stream grpc.ServerStreamingServer[profilev1.StreamEventsResponse]) error {
	for i := range req.GetAfterSequence() {
		if err := stream.Send(&profilev1.StreamEventsResponse{Event: &profilev1.Event{Sequence: i + 1}}); err != nil {
			return err
		}
	}
	if req.GetIncludeFeatures() {
		return status.Error(codes.Unavailable, "connection reset by peer 10.0.0.9:7001")
	}
	st, _ := status.New(codes.InvalidArgument, "after_sequence: must not be negative").
		WithDetails(&errdetails.ErrorInfo{Reason: "INVALID_ARGUMENT", Domain: "profile.tenure.dev"})
	return st.Err()
}

// newStreamServer serves streamer over a real gRPC connection behind an
// edge (grpc-gateway's in-process registration does not stream).
func newStreamServer(t *testing.T) *httptest.Server {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	profilev1.RegisterProfileServiceServer(gs, streamer{})
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	e := edge.New(edge.Options{})
	if err := profilev1.RegisterProfileServiceHandlerClient(context.Background(), e.Mux(), profilev1.NewProfileServiceClient(conn)); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.Handler())
	t.Cleanup(srv.Close)
	return srv
}

// TestStreamErrors: an error before the first result is answered like on
// any other route, with the HTTP status and a bare google.rpc.Status; after
// results, the {"error": …} frame carries the same described status (an
// ErrorInfo, no internal detail) as any other route would.
func TestStreamErrors(t *testing.T) {
	srv := newStreamServer(t)
	tests := []struct {
		name       string
		query      string
		wantHTTP   int
		wantFrames int // {"result": …} frames before the error
		code       codes.Code
		reason     string
		domain     string
		message    string
	}{
		{"before the first result", "afterSequence=0", http.StatusBadRequest, 0,
			codes.InvalidArgument, "INVALID_ARGUMENT", "profile.tenure.dev", "after_sequence: must not be negative"},
		{"undescribed before the first result", "afterSequence=0&includeFeatures=true", http.StatusServiceUnavailable, 0,
			codes.Unavailable, edge.ReasonBackendUnavailable, edge.Domain, "the profile service is unavailable, retry later"},
		{"after results", "afterSequence=2", http.StatusOK, 2,
			codes.InvalidArgument, "INVALID_ARGUMENT", "profile.tenure.dev", "after_sequence: must not be negative"},
		{"undescribed after results", "afterSequence=2&includeFeatures=true", http.StatusOK, 2,
			codes.Unavailable, edge.ReasonBackendUnavailable, edge.Domain, "the profile service is unavailable, retry later"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := srv.Client().Get(srv.URL + "/v1/events:stream?" + tt.query)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.wantHTTP {
				t.Errorf("HTTP status = %d, want %d", resp.StatusCode, tt.wantHTTP)
			}
			var lines [][]byte
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				lines = append(lines, append([]byte(nil), sc.Bytes()...))
			}
			if err := sc.Err(); err != nil {
				t.Fatal(err)
			}
			if len(lines) != tt.wantFrames+1 {
				t.Fatalf("got %d lines, want %d results and an error:\n%s", len(lines), tt.wantFrames, lines)
			}
			for _, l := range lines[:tt.wantFrames] {
				var frame struct{ Result json.RawMessage }
				if err := json.Unmarshal(l, &frame); err != nil || frame.Result == nil {
					t.Errorf("line %s, want a result frame", l)
				}
			}
			last := lines[len(lines)-1]
			if tt.wantFrames > 0 {
				var frame struct{ Error json.RawMessage }
				if err := json.Unmarshal(last, &frame); err != nil || frame.Error == nil {
					t.Fatalf("last line %s, want an error frame", last)
				}
				last = frame.Error
			}
			var st rpcStatus
			if err := json.Unmarshal(last, &st); err != nil {
				t.Fatalf("error %s: %v", last, err)
			}
			if codes.Code(st.Code) != tt.code || st.Message != tt.message {
				t.Errorf("status %d %q, want %d %q", st.Code, st.Message, tt.code, tt.message)
			}
			if len(st.Details) != 1 || st.Details[0].Reason != tt.reason || st.Details[0].Domain != tt.domain {
				t.Errorf("details %+v, want one ErrorInfo %s in %s; body %s", st.Details, tt.reason, tt.domain, last)
			}
		})
	}
}
