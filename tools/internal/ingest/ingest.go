// Package ingest sends customer events to the profile service in batches,
// several batches in flight at once, over gRPC or the gateway, retrying
// transient failures. Each batch carries a request id, so a retry of a batch
// whose first attempt was in fact recorded returns the first result instead
// of reporting the events as duplicates. UpdateCustomers then sets fields
// of the customers the events made, with the same concurrency and retries.
package ingest

import (
	"context"
	cryptorand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/platform/backoff"
)

// ErrShortResponse is returned when the server answers a batch with a
// different number of results than events sent.
var ErrShortResponse = errors.New("ingest: response does not match the batch")

// Sender records one batch of events.
type Sender interface {
	BatchRecordEvents(ctx context.Context, req *profilev1.BatchRecordEventsRequest) (*profilev1.BatchRecordEventsResponse, error)
}

// Options tune Send. Zero values take the defaults.
type Options struct {
	// BatchSize is the most events per call; default and maximum 1,000.
	BatchSize int
	// MaxBatchBytes bounds a batch's protobuf size, keeping it well under
	// the gateway's 4 MiB body limit, and its JSON form too for a client
	// that sends JSON (about four times the protobuf size); default 640 KiB.
	MaxBatchBytes int
	// Concurrency is the number of batches in flight; default 4.
	Concurrency int
	// MaxAttempts per batch for transient failures; default 8.
	MaxAttempts int
	// AttemptTimeout bounds one call; default 2 minutes.
	AttemptTimeout time.Duration
	// Backoff is the wait before retry number n (1-based); default
	// exponential from 200 ms, capped at 10 s, with jitter.
	Backoff func(n int) time.Duration
	// RequestIDPrefix starts every batch's request id; default random, so
	// each run's batches are new requests.
	RequestIDPrefix string
	// Progress, when set, is called after each batch with the number of
	// events finished so far, from Send's goroutine.
	Progress func(done int)
	// Retry, when set, is told of each failed attempt that will be
	// repeated. It may be called from several goroutines at once.
	Retry func(batch, attempt int, err error)
	// MaxRejectionSamples is how many rejections Result keeps; default 5.
	MaxRejectionSamples int
}

// Rejection is one event the server refused.
type Rejection struct {
	EventID string
	Reason  string
	Field   string
	Message string
}

func (r Rejection) String() string {
	s := r.EventID + ": " + r.Reason
	if r.Field != "" {
		s += " (" + r.Field + ")"
	}
	if r.Message != "" {
		s += ": " + r.Message
	}
	return s
}

// Result adds up the outcomes of every batch sent.
type Result struct {
	Batches    int
	Retries    int
	Accepted   int
	Duplicates int
	Rejected   int
	// RejectedByReason counts rejections per reason.
	RejectedByReason map[string]int
	// Rejections holds the first few, in event order.
	Rejections []Rejection
}

// Send records events in batches and returns what the server did with
// them. It stops at the first batch that fails for good (a non-transient
// error, or a transient one MaxAttempts times) and returns the result so
// far with that error.
func Send(ctx context.Context, s Sender, events []*profilev1.Event, opts Options) (Result, error) {
	opts = opts.withDefaults()
	batches := Split(events, opts.BatchSize, opts.MaxBatchBytes)

	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	type outcome struct {
		index   int
		resp    *profilev1.BatchRecordEventsResponse
		retries int
		err     error
	}
	work := make(chan int)
	outcomes := make(chan outcome)
	var wg sync.WaitGroup
	for range min(opts.Concurrency, len(batches)) {
		wg.Go(func() {
			for i := range work {
				req := &profilev1.BatchRecordEventsRequest{
					Events:    batches[i],
					RequestId: fmt.Sprintf("%s-%d", opts.RequestIDPrefix, i),
				}
				resp, retries, err := sendBatch(ctx, s, i, req, opts)
				outcomes <- outcome{index: i, resp: resp, retries: retries, err: err}
			}
		})
	}
	go func() {
		defer close(work)
		for i := range batches {
			select {
			case work <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(outcomes)
	}()

	res := Result{RejectedByReason: make(map[string]int)}
	var firstErr error
	var rejections []indexedRejection
	done := 0
	for o := range outcomes {
		res.Retries += o.retries
		if o.err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("ingest: batch %d: %w", o.index, o.err)
				cancel()
			}
			continue
		}
		res.Batches++
		for _, r := range o.resp.GetResults() {
			switch r.GetOutcome() {
			case profilev1.EventOutcome_EVENT_OUTCOME_ACCEPTED:
				res.Accepted++
			case profilev1.EventOutcome_EVENT_OUTCOME_DUPLICATE:
				res.Duplicates++
			default:
				res.Rejected++
				res.RejectedByReason[r.GetReason()]++
				rejections = append(rejections, indexedRejection{
					batch: o.index, index: int(r.GetIndex()),
					Rejection: Rejection{EventID: r.GetEventId(), Reason: r.GetReason(), Field: r.GetField(), Message: r.GetMessage()},
				})
			}
		}
		done += len(batches[o.index])
		if opts.Progress != nil {
			opts.Progress(done)
		}
	}
	if firstErr == nil && res.Batches < len(batches) {
		firstErr = fmt.Errorf("ingest: %d of %d batches not sent: %w", len(batches)-res.Batches, len(batches), parent.Err())
	}
	sort.Slice(rejections, func(i, j int) bool {
		a, b := rejections[i], rejections[j]
		return a.batch < b.batch || a.batch == b.batch && a.index < b.index
	})
	for _, r := range rejections[:min(len(rejections), opts.MaxRejectionSamples)] {
		res.Rejections = append(res.Rejections, r.Rejection)
	}
	return res, firstErr
}

type indexedRejection struct {
	batch, index int
	Rejection
}

// sendBatch calls s until it succeeds, fails for good or runs out of
// attempts, and checks that the answer covers the batch.
func sendBatch(ctx context.Context, s Sender, batch int, req *profilev1.BatchRecordEventsRequest, opts Options) (*profilev1.BatchRecordEventsResponse, int, error) {
	var resp *profilev1.BatchRecordEventsResponse
	retries, err := retry(ctx, opts, batch, func(ctx context.Context) (err error) {
		resp, err = s.BatchRecordEvents(ctx, req)
		return err
	})
	if err != nil {
		return nil, retries, err
	}
	if len(resp.GetResults()) != len(req.GetEvents()) {
		return nil, retries, fmt.Errorf("%w: %d results for %d events", ErrShortResponse, len(resp.GetResults()), len(req.GetEvents()))
	}
	return resp, retries, nil
}

// retry makes call, each attempt bounded by opts.AttemptTimeout, until it
// succeeds, fails for good (not Transient) or has failed opts.MaxAttempts
// times, waiting opts.Backoff between attempts and telling opts.Retry of
// each attempt it repeats (as the work item numbered item). It returns how
// many times it repeated the call.
func retry(ctx context.Context, opts Options, item int, call func(ctx context.Context) error) (int, error) {
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, opts.AttemptTimeout)
		err := call(actx)
		cancel()
		if err == nil {
			return attempt - 1, nil
		}
		if ctx.Err() != nil {
			return attempt - 1, ctx.Err()
		}
		if !Transient(err) || attempt >= opts.MaxAttempts {
			return attempt - 1, err
		}
		if opts.Retry != nil {
			opts.Retry(item, attempt, err)
		}
		t := time.NewTimer(opts.Backoff(attempt))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return attempt - 1, ctx.Err()
		}
	}
}

// Transient reports whether a failed call may succeed when repeated: the
// server was unreachable, overloaded, busy with the same request, or the
// attempt timed out; or, through the gateway, any 5xx or 429 answer.
func Transient(err error) bool {
	var t interface{ Temporary() bool }
	if errors.As(err, &t) {
		return t.Temporary()
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.ResourceExhausted, codes.Aborted, codes.DeadlineExceeded:
		return true
	}
	return false
}

// Split cuts events into batches of at most size events and, beyond the
// first event of a batch, at most maxBytes of protobuf.
func Split(events []*profilev1.Event, size, maxBytes int) [][]*profilev1.Event {
	var batches [][]*profilev1.Event
	start, bytes := 0, 0
	for i, ev := range events {
		n := proto.Size(ev)
		if i > start && (i-start >= size || bytes+n > maxBytes) {
			batches = append(batches, events[start:i:i])
			start, bytes = i, 0
		}
		bytes += n
	}
	if start < len(events) {
		batches = append(batches, events[start:])
	}
	return batches
}

func (o Options) withDefaults() Options {
	if o.BatchSize <= 0 || o.BatchSize > 1000 {
		o.BatchSize = 1000
	}
	if o.MaxBatchBytes <= 0 {
		o.MaxBatchBytes = 640 << 10
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = 2 * time.Minute
	}
	if o.Backoff == nil {
		o.Backoff = backoff.Backoff{Min: 200 * time.Millisecond, Max: 10 * time.Second}.Attempt
	}
	if o.RequestIDPrefix == "" {
		o.RequestIDPrefix = RandomID()
	}
	if o.MaxRejectionSamples <= 0 {
		o.MaxRejectionSamples = 5
	}
	return o
}

// RandomID returns 16 random hex digits.
func RandomID() string {
	var b [8]byte
	_, _ = cryptorand.Read(b[:])
	return hex.EncodeToString(b[:])
}
