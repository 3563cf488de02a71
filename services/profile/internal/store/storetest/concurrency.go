package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/profile/internal/profile"
)

// appendConcurrently has writers append batches through the given stores
// (round robin) while a follower reads the log, and checks that every
// event was accepted exactly once, the follower saw each exactly once in
// increasing sequence order, and the features add up.
func appendConcurrently(t *testing.T, stores []profile.Store) {
	const (
		writers   = 8
		batches   = 10
		batchSize = 50
		customers = 40
	)
	ctx := context.Background()
	type batch struct {
		store  profile.Store
		events []profile.Event
	}
	var work [][]batch
	for w := range writers {
		var mine []batch
		for b := range batches {
			var events []profile.Event
			for i := range batchSize {
				n := (w*batches+b)*batchSize + i
				events = append(events, view(fmt.Sprintf("w%d-b%d-e%d", w, b, i),
					fmt.Sprintf("c%02d", n%customers), at(time.Duration(n)*time.Second)))
			}
			// Every writer also re-sends its neighbour's first batch:
			// the race on the same ids must accept each once.
			if b == 0 && w > 0 {
				events = append(events, work[w-1][0].events...)
			}
			mine = append(mine, batch{store: stores[(w+b)%len(stores)], events: events})
		}
		work = append(work, mine)
	}
	total := writers * batches * batchSize

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		accepted = map[string]int{}
		errs     []error
	)
	for w := range writers {
		wg.Go(func() {
			for _, b := range work[w] {
				res, err := b.store.AppendEvents(ctx, b.events, fold)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				}
				for i, r := range res {
					if !r.Duplicate {
						accepted[b.events[i].ID]++
					}
				}
				mu.Unlock()
			}
		})
	}

	writersDone := make(chan struct{})
	go func() { wg.Wait(); close(writersDone) }()
	seen := map[string]int{}
	var last int64
	follow := func() bool {
		page, err := stores[len(stores)-1].ListEvents(ctx, last, 97)
		if err != nil {
			t.Errorf("ListEvents: %v", err)
			return false
		}
		for _, e := range page {
			if e.Sequence <= last {
				t.Errorf("follower: sequence %d after %d", e.Sequence, last)
			}
			last = e.Sequence
			seen[e.ID]++
		}
		return len(page) > 0
	}
	for done := false; !done; {
		select {
		case <-writersDone:
			done = true
		default:
			follow()
		}
	}
	for follow() {
	}

	for _, err := range errs {
		t.Errorf("AppendEvents: %v", err)
	}
	if len(accepted) != total {
		t.Errorf("accepted ids: got %d, want %d", len(accepted), total)
	}
	for id, n := range accepted {
		if n != 1 {
			t.Errorf("event %s accepted %d times, want once", id, n)
		}
	}
	if len(seen) != total {
		t.Errorf("follower saw %d events, want %d", len(seen), total)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("follower saw %s %d times, want once", id, n)
		}
	}
	var events int64
	for c := range customers {
		events += mustGet(t, stores[0], fmt.Sprintf("c%02d", c)).Features.EventCount
	}
	if events != int64(total) {
		t.Errorf("sum of feature event counts: got %d, want %d", events, total)
	}
}

func testConcurrentAppends(t *testing.T, open Opener) {
	s, _ := open(t)
	appendConcurrently(t, []profile.Store{s})
}

func testConcurrentReplicas(t *testing.T, open Opener) {
	s, replica := open(t)
	appendConcurrently(t, []profile.Store{s, replica()})
}

// testConcurrentCustomerEvents interleaves customer updates that append
// system events with event appends on two replicas, while a follower reads
// the log: it must see every event exactly once, in sequence order (which
// fails if a system event became visible after a higher sequence).
func testConcurrentCustomerEvents(t *testing.T, open Opener) {
	const (
		writers   = 4
		rounds    = 15
		customers = 5
	)
	s, replica := open(t)
	stores := []profile.Store{s, replica()}
	ctx := context.Background()
	for c := range customers {
		mustCreate(t, s, customer(fmt.Sprintf("u%d", c)))
	}
	updated := func(before, after profile.Customer) (profile.Event, bool) {
		return profile.Event{
			ID: fmt.Sprintf("sys-%s-%d", after.ID, after.Revision), CustomerID: after.ID,
			OccurredAt: after.UpdateTime, RecordTime: after.UpdateTime,
			Payload: profile.CustomerUpdated{Tags: after.Tags},
		}, true
	}

	var wg sync.WaitGroup
	errs := make(chan error, writers*rounds*2)
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				st := stores[(w+r)%len(stores)]
				id := fmt.Sprintf("u%d", (w+r)%customers)
				_, err := st.UpdateCustomer(ctx, id, func(c *profile.Customer) error {
					c.Tags = []string{fmt.Sprintf("w%d-r%d", w, r)}
					c.UpdateTime = at(time.Duration(r) * time.Second)
					return nil
				}, updated)
				if err != nil {
					errs <- fmt.Errorf("UpdateCustomer: %w", err)
				}
				if _, err := st.AppendEvents(ctx, []profile.Event{view(fmt.Sprintf("v-w%d-r%d", w, r), id, at(time.Minute))}, fold); err != nil {
					errs <- fmt.Errorf("AppendEvents: %w", err)
				}
			}
		})
	}
	writersDone := make(chan struct{})
	go func() { wg.Wait(); close(writersDone) }()

	seen := map[string]int{}
	var last int64
	follow := func() bool {
		page, err := stores[1].ListEvents(ctx, last, 13)
		if err != nil {
			t.Errorf("ListEvents: %v", err)
			return false
		}
		for _, e := range page {
			if e.Sequence <= last {
				t.Errorf("follower: sequence %d after %d", e.Sequence, last)
			}
			last = e.Sequence
			seen[e.ID]++
		}
		return len(page) > 0
	}
	for done := false; !done; {
		select {
		case <-writersDone:
			done = true
		default:
			follow()
		}
	}
	for follow() {
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if want := writers * rounds * 2; len(seen) != want {
		t.Errorf("follower saw %d events, want %d", len(seen), want)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("follower saw %s %d times, want once", id, n)
		}
	}
}
