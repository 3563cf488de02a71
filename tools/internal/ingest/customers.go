package ingest

import (
	"context"
	"fmt"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
)

// CustomerUpdater changes the fields of customers.
type CustomerUpdater interface {
	UpdateCustomer(ctx context.Context, req *profilev1.UpdateCustomerRequest) (*profilev1.UpdateCustomerResponse, error)
}

// UpdateResult adds up what UpdateCustomers did.
type UpdateResult struct {
	Updated int
	Retries int
	// NotUpdated counts, by gRPC code, the customers the service refused
	// for a reason of their own: one it does not have (NotFound: every
	// event of it was rejected), or one erased (FailedPrecondition).
	NotUpdated map[string]int
}

// UpdateCustomers sends every request, opts.Concurrency at a time, each
// retried like a batch of events (opts.MaxAttempts, opts.Backoff,
// opts.Retry with the request's index). A customer refused as NotFound or
// FailedPrecondition is counted, not an error; any other failure stops it,
// and it returns what it did so far with that error.
func UpdateCustomers(ctx context.Context, u CustomerUpdater, reqs []*profilev1.UpdateCustomerRequest, opts Options) (UpdateResult, error) {
	opts = opts.withDefaults()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var (
		mu       sync.Mutex
		res      = UpdateResult{NotUpdated: map[string]int{}}
		firstErr error
		answered int // updated or refused for the customer's own reason
		wg       sync.WaitGroup
	)
	work := make(chan int)
	for range min(opts.Concurrency, len(reqs)) {
		wg.Go(func() {
			for i := range work {
				retries, err := retry(ctx, opts, i, func(ctx context.Context) error {
					_, err := u.UpdateCustomer(ctx, reqs[i])
					return err
				})
				mu.Lock()
				res.Retries += retries
				switch code := status.Code(err); {
				case err == nil:
					res.Updated++
					answered++
				case code == codes.NotFound || code == codes.FailedPrecondition:
					res.NotUpdated[code.String()]++
					answered++
				case firstErr == nil:
					firstErr = fmt.Errorf("ingest: update %s: %w", reqs[i].GetCustomer().GetName(), err)
					cancel()
				}
				mu.Unlock()
			}
		})
	}
send:
	for i := range reqs {
		select {
		case work <- i:
		case <-ctx.Done():
			break send
		}
	}
	close(work)
	wg.Wait()
	if firstErr == nil && answered < len(reqs) {
		firstErr = fmt.Errorf("ingest: %d of %d updates not sent: %w", len(reqs)-answered, len(reqs), context.Cause(ctx))
	}
	return res, firstErr
}
