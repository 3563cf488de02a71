package ingest_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/tools/internal/ingest"
	"github.com/tenurehq/tenure/tools/internal/ingest/ingesttest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

func countryUpdate(id, country string, paths ...string) *profilev1.UpdateCustomerRequest {
	if len(paths) == 0 {
		paths = []string{"country"}
	}
	return &profilev1.UpdateCustomerRequest{
		Customer:   &profilev1.Customer{Name: "customers/" + id, Country: country},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: paths},
	}
}

// flaky fails the first n UpdateCustomer calls with Unavailable.
type flaky struct {
	ingest.CustomerUpdater
	mu sync.Mutex
	n  int
}

func (f *flaky) UpdateCustomer(ctx context.Context, req *profilev1.UpdateCustomerRequest) (*profilev1.UpdateCustomerResponse, error) {
	f.mu.Lock()
	fail := f.n > 0
	f.n--
	f.mu.Unlock()
	if fail {
		return nil, status.Error(codes.Unavailable, "try again")
	}
	return f.CustomerUpdater.UpdateCustomer(ctx, req)
}

func TestUpdateCustomers(t *testing.T) {
	transports(t, func(t *testing.T, f *ingesttest.Fake, s ingest.Sender, _ bool) {
		if _, err := ingest.Send(context.Background(), s, events(7), ingest.Options{Backoff: noWait}); err != nil {
			t.Fatal(err)
		}
		u := &flaky{CustomerUpdater: s.(ingest.CustomerUpdater), n: 2}
		var retried int
		reqs := []*profilev1.UpdateCustomerRequest{countryUpdate("c0", "GB"), countryUpdate("c1", "FR"), countryUpdate("ghost", "DE")}
		res, err := ingest.UpdateCustomers(context.Background(), u, reqs, ingest.Options{
			Backoff: noWait, Concurrency: 1, Retry: func(int, int, error) { retried++ }})
		if err != nil {
			t.Fatal(err)
		}
		if res.Updated != 2 || res.NotUpdated["NotFound"] != 1 || res.Retries != 2 || retried != 2 {
			t.Errorf("result %+v, retry told %d times; want 2 updated, ghost NotFound, 2 retries", res, retried)
		}
		if got := f.Countries(); got["c0"] != "GB" || got["c1"] != "FR" || got["c2"] != "" {
			t.Errorf("countries %v, want c0 GB, c1 FR, c2 untouched", got)
		}

		// A refusal that is no customer's own stops the updates.
		_, err = ingest.UpdateCustomers(context.Background(), s.(ingest.CustomerUpdater),
			[]*profilev1.UpdateCustomerRequest{countryUpdate("c3", "GB", "email")}, ingest.Options{Backoff: noWait})
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "customers/c3") {
			t.Errorf("err = %v, want InvalidArgument naming customers/c3", err)
		}
	})
}
