package eventlog_test

import (
	"context"
	"fmt"
	"net"
	"sync"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// logServer is profile's event log API (StreamEvents, GetEventLogHead)
// over an in-memory log, served by a real gRPC server on a local listener.
// Event n has sequence n and customer c<n mod 7>; with include_features its
// features carry the order count n.
type logServer struct {
	profilev1.UnimplementedProfileServiceServer

	mu      sync.Mutex
	events  []*profilev1.Event
	changed chan struct{} // closed and replaced on every append
	afters  []int64       // after_sequence of every StreamEvents call
	// breakAfter, when positive, ends every stream with UNAVAILABLE after
	// that many events, as a profile replica that shuts down does.
	breakAfter int
}

// startLogServer serves a logServer and returns it, a client of it, and a
// function that stops both.
func startLogServer() (*logServer, profilev1.ProfileServiceClient, func()) {
	s := &logServer{changed: make(chan struct{})}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	g := grpc.NewServer()
	profilev1.RegisterProfileServiceServer(g, s)
	go func() { _ = g.Serve(lis) }()
	cc, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		panic(err)
	}
	return s, profilev1.NewProfileServiceClient(cc), func() { _ = cc.Close(); g.Stop() }
}

// append logs n more events and returns the new head.
func (s *logServer) append(n int) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		seq := int64(len(s.events) + 1)
		s.events = append(s.events, &profilev1.Event{
			Sequence: seq, EventId: fmt.Sprintf("ev-%d", seq), CustomerId: fmt.Sprintf("c%d", seq%7),
			Payload: &profilev1.Event_ProductViewed{ProductViewed: &profilev1.ProductViewed{Sku: "s"}},
		})
	}
	close(s.changed)
	s.changed = make(chan struct{})
	return int64(len(s.events))
}

// streamAfters returns the after_sequence of every StreamEvents call so far.
func (s *logServer) streamAfters() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int64(nil), s.afters...)
}

func (s *logServer) GetEventLogHead(context.Context, *profilev1.GetEventLogHeadRequest) (*profilev1.GetEventLogHeadResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &profilev1.GetEventLogHeadResponse{HeadSequence: int64(len(s.events))}, nil
}

func (s *logServer) StreamEvents(req *profilev1.StreamEventsRequest, stream grpc.ServerStreamingServer[profilev1.StreamEventsResponse]) error {
	after := req.GetAfterSequence()
	s.mu.Lock()
	s.afters = append(s.afters, after)
	s.mu.Unlock()
	sent := 0
	for {
		s.mu.Lock()
		evs, wake, limit := s.events[min(after, int64(len(s.events))):], s.changed, s.breakAfter
		s.mu.Unlock()
		for _, e := range evs {
			resp := &profilev1.StreamEventsResponse{Event: e}
			if req.GetIncludeFeatures() {
				resp.Features = &profilev1.CustomerFeatures{OrderCount: e.GetSequence()}
			}
			if err := stream.Send(resp); err != nil {
				return err
			}
			after = e.GetSequence()
			if sent++; limit > 0 && sent >= limit {
				return status.Error(codes.Unavailable, "server shutting down; resume from the last sequence")
			}
		}
		select {
		case <-stream.Context().Done():
			return stream.Context().Err()
		case <-wake:
		}
	}
}
