package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/tools/internal/ingest"
	"github.com/tenurehq/tenure/tools/internal/ingest/ingesttest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func events(n int, noCustomer ...int) []*profilev1.Event {
	skip := make(map[int]bool)
	for _, i := range noCustomer {
		skip[i] = true
	}
	evs := make([]*profilev1.Event, n)
	for i := range evs {
		evs[i] = &profilev1.Event{
			EventId:    fmt.Sprintf("test:%d", i),
			CustomerId: fmt.Sprintf("c%d", i%7),
			OccurredAt: timestamppb.New(time.Date(2011, 1, 1, 0, 0, i, 0, time.UTC)),
			Payload:    &profilev1.Event_CheckedIn{CheckedIn: &profilev1.CheckedIn{LocationId: "store"}},
		}
		if skip[i] {
			evs[i].CustomerId = ""
		}
	}
	return evs
}

// transports runs fn over gRPC and over the JSON gateway route, each
// against its own fake.
func transports(t *testing.T, fn func(t *testing.T, f *ingesttest.Fake, s ingest.Sender, viaGateway bool)) {
	t.Run("grpc", func(t *testing.T) {
		f := ingesttest.New()
		fn(t, f, ingest.GRPC(ingesttest.ServeGRPC(t, f)), false)
	})
	t.Run("gateway", func(t *testing.T) {
		f := ingesttest.New()
		fn(t, f, ingest.Gateway(ingesttest.ServeHTTP(t, f)+"/", &http.Client{}), true)
	})
}

func noWait(int) time.Duration { return 0 }

func TestSendTwice(t *testing.T) {
	transports(t, func(t *testing.T, f *ingesttest.Fake, s ingest.Sender, _ bool) {
		evs := events(2345, 3, 1500, 2000, 2001, 2002, 2003, 2004)
		var progress []int
		opts := ingest.Options{BatchSize: 500, Concurrency: 3, Backoff: noWait, Progress: func(done int) { progress = append(progress, done) }}
		res, err := ingest.Send(context.Background(), s, evs, opts)
		if err != nil {
			t.Fatal(err)
		}
		if res.Batches != 5 || res.Accepted != 2338 || res.Duplicates != 0 || res.Rejected != 7 {
			t.Errorf("first run: %d batches, %d accepted, %d duplicates, %d rejected; want 5, 2338, 0, 7",
				res.Batches, res.Accepted, res.Duplicates, res.Rejected)
		}
		if got := res.RejectedByReason[ingesttest.RejectReason]; got != 7 {
			t.Errorf("RejectedByReason[%s] = %d, want 7", ingesttest.RejectReason, got)
		}
		var ids []string
		for _, r := range res.Rejections {
			ids = append(ids, r.EventID)
		}
		if fmt.Sprint(ids) != "[test:3 test:1500 test:2000 test:2001 test:2002]" {
			t.Errorf("rejection samples %v, want the first five in event order", ids)
		}
		if len(progress) != 5 || progress[4] != len(evs) {
			t.Errorf("progress calls %v, want 5 ending at %d", progress, len(evs))
		}

		opts.Progress = nil
		res, err = ingest.Send(context.Background(), s, evs, opts)
		if err != nil {
			t.Fatal(err)
		}
		if res.Accepted != 0 || res.Duplicates != 2338 || res.Rejected != 7 {
			t.Errorf("second run: %d accepted, %d duplicates, %d rejected; want 0, 2338, 7", res.Accepted, res.Duplicates, res.Rejected)
		}
		if f.Recorded() != 2338 {
			t.Errorf("fake holds %d events, want 2338", f.Recorded())
		}
	})
}

func TestSendRetries(t *testing.T) {
	unavailable := status.Error(codes.Unavailable, "try later")
	tests := []struct {
		name        string
		failures    []error
		maxAttempts int
		wantCode    codes.Code // codes.OK: the send succeeds
		wantRetries int
		wantCalls   int
	}{
		{"transient then success", []error{unavailable, status.Error(codes.ResourceExhausted, "slow down"), status.Error(codes.Aborted, "in progress")}, 5, codes.OK, 3, 4},
		{"internal then success", []error{status.Error(codes.Internal, "oops")}, 5, codes.Internal, 0, 1},
		{"not transient", []error{status.Error(codes.InvalidArgument, "bad")}, 5, codes.InvalidArgument, 0, 1},
		{"out of attempts", []error{unavailable, unavailable, unavailable}, 3, codes.Unavailable, 2, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			transports(t, func(t *testing.T, f *ingesttest.Fake, s ingest.Sender, viaGateway bool) {
				wantCode, wantRetries, wantCalls := tt.wantCode, tt.wantRetries, tt.wantCalls
				if viaGateway && wantCode == codes.Internal {
					// Through the gateway any 5xx is retried.
					wantCode, wantRetries, wantCalls = codes.OK, 1, 2
				}
				f.FailNext(tt.failures...)
				evs := events(10)
				res, err := ingest.Send(context.Background(), s, evs, ingest.Options{
					Concurrency: 2, MaxAttempts: tt.maxAttempts, Backoff: noWait, RequestIDPrefix: "run1",
				})
				if got := status.Code(err); got != wantCode {
					t.Fatalf("Send error %v (code %v), want code %v", err, got, wantCode)
				}
				if res.Retries != wantRetries {
					t.Errorf("Retries = %d, want %d", res.Retries, wantRetries)
				}
				ids := f.RequestIDs()
				if len(ids) != wantCalls {
					t.Fatalf("%d calls, want %d", len(ids), wantCalls)
				}
				for _, id := range ids {
					if id != "run1-0" {
						t.Errorf("request id %q, want run1-0 on every attempt", id)
					}
				}
				if wantCode == codes.OK && res.Accepted != 10 {
					t.Errorf("Accepted = %d, want 10", res.Accepted)
				}
			})
		})
	}
}

// A retry of a batch the server did record, but whose answer was lost,
// gets the first answer back through the request id: accepted, not
// duplicates.
func TestSendRetryReplaysFirstAnswer(t *testing.T) {
	f := ingesttest.New()
	s := ingest.GRPC(ingesttest.ServeGRPC(t, f))
	lost := &lossySender{Sender: s, lose: 1}
	res, err := ingest.Send(context.Background(), lost, events(10), ingest.Options{Backoff: noWait})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 10 || res.Duplicates != 0 || res.Retries != 1 {
		t.Errorf("%d accepted, %d duplicates, %d retries; want 10, 0, 1", res.Accepted, res.Duplicates, res.Retries)
	}
}

// lossySender forwards calls but reports the first lose of them as
// Unavailable after they were made.
type lossySender struct {
	ingest.Sender
	lose int
}

func (l *lossySender) BatchRecordEvents(ctx context.Context, req *profilev1.BatchRecordEventsRequest) (*profilev1.BatchRecordEventsResponse, error) {
	resp, err := l.Sender.BatchRecordEvents(ctx, req)
	if err == nil && l.lose > 0 {
		l.lose--
		return nil, status.Error(codes.Unavailable, "connection reset")
	}
	return resp, err
}

func TestSendCancelled(t *testing.T) {
	f := ingesttest.New()
	s := ingest.GRPC(ingesttest.ServeGRPC(t, f))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := ingest.Send(ctx, s, events(5), ingest.Options{Backoff: noWait})
	if !errors.Is(err, context.Canceled) && status.Code(err) != codes.Canceled {
		t.Errorf("Send error %v, want canceled", err)
	}
}

func TestSplit(t *testing.T) {
	evs := events(25)
	one := proto.Size(evs[0])
	tests := []struct {
		name     string
		size     int
		maxBytes int
		want     []int
	}{
		{"by count", 10, 1 << 20, []int{10, 10, 5}},
		{"exact", 5, 1 << 20, []int{5, 5, 5, 5, 5}},
		{"by bytes", 10, 4*one + one/2, []int{4, 4, 4, 4, 4, 4, 1}},
		{"event over the byte limit goes alone", 10, 1, []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int
			for _, b := range ingest.Split(evs, tt.size, tt.maxBytes) {
				got = append(got, len(b))
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("batch sizes %v, want %v", got, tt.want)
			}
		})
	}
	if got := ingest.Split(nil, 10, 100); len(got) != 0 {
		t.Errorf("Split(nil) = %v, want no batches", got)
	}
}

func TestTransient(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{status.Error(codes.Unavailable, ""), true},
		{status.Error(codes.ResourceExhausted, ""), true},
		{status.Error(codes.Aborted, ""), true},
		{status.Error(codes.DeadlineExceeded, ""), true},
		{status.Error(codes.InvalidArgument, ""), false},
		{status.Error(codes.Internal, ""), false},
		{status.Error(codes.FailedPrecondition, ""), false},
		{&ingest.HTTPError{StatusCode: 502, Status: status.New(codes.Unknown, "bad gateway")}, true},
		{&ingest.HTTPError{StatusCode: 500, Status: status.New(codes.Internal, "")}, true},
		{&ingest.HTTPError{StatusCode: 429, Status: status.New(codes.ResourceExhausted, "")}, true},
		{&ingest.HTTPError{StatusCode: 409, Status: status.New(codes.Aborted, "")}, true},
		{&ingest.HTTPError{StatusCode: 413, Status: status.New(codes.Unknown, "too large")}, false},
		{fmt.Errorf("wrapped: %w", &ingest.HTTPError{StatusCode: 400, Status: status.New(codes.InvalidArgument, "")}), false},
		{errors.New("plain"), false},
	}
	for _, tt := range tests {
		if got := ingest.Transient(tt.err); got != tt.want {
			t.Errorf("Transient(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
