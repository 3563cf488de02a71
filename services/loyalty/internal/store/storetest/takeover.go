package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/loyalty/internal/loyalty"
)

// crashingStore cancels the job's context as its second expiry batch
// starts, as a replica that dies mid-run: nothing is cleaned up.
type crashingStore struct {
	loyalty.Store
	cancel  context.CancelFunc
	batches int
}

func (s *crashingStore) ExpireBatch(ctx context.Context, asOf time.Time, after string, limit int,
	fn func([]*loyalty.Account, string) (loyalty.Operation, error)) (string, error) {
	if s.batches++; s.batches == 2 {
		s.cancel()
	}
	return s.Store.ExpireBatch(ctx, asOf, after, limit, fn)
}

// testJobTakeover: an expiry job killed between batches stays running
// until its lease lapses; then the other replica takes it over where it
// stopped and finishes it with the same ledger and counts as an
// uninterrupted run.
func testJobTakeover(t *testing.T, open Opener) {
	a, b := open(t)
	ref, _ := open(t)
	_, asOf := expireLedger(t, a)
	expireLedger(t, ref)
	want := must(loyalty.NewService(ref, nil).RunJob(ctx, loyalty.JobExpire, asOf, false))(t)

	c := &clock{t: asOf.Add(time.Hour)}
	jobCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	first := service(&crashingStore{Store: a, cancel: cancel}, c)
	first.SetJobOptions(loyalty.JobOptions{Batch: 2, Lease: time.Minute})
	if _, err := first.RunJob(jobCtx, loyalty.JobExpire, asOf, false); err == nil {
		t.Fatal("the killed job returned no error")
	}
	id := want.ID
	if op := must(a.Operation(ctx, id))(t); op.State != loyalty.OpRunning || op.ResumeAfter == "" || op.MembersChanged != 2 {
		t.Fatalf("after the kill: %+v; want running after the first batch of 2", op)
	}

	second := service(b, c)
	second.SetJobOptions(loyalty.JobOptions{Batch: 2, Lease: time.Minute})
	// Within the lease, the other replica leaves the operation alone.
	if op := must(second.RunJob(ctx, loyalty.JobExpire, asOf, false))(t); op.State != loyalty.OpRunning {
		t.Fatalf("within the lease: %+v; want it still running", op)
	}
	c.set(c.now().Add(time.Minute + time.Nanosecond))
	if err := second.ResumeStale(ctx); err != nil {
		t.Fatal(err)
	}
	got := must(b.Operation(ctx, id))(t)
	if got.State != loyalty.OpSucceeded || got.MembersChanged != want.MembersChanged || got.Points != want.Points {
		t.Fatalf("taken over: %+v; want succeeded with %d members and %d points", got, want.MembersChanged, want.Points)
	}
	for _, id := range expireCustomers {
		g := must(a.ListEntries(ctx, id, 0, 100))(t)
		w := must(ref.ListEntries(ctx, id, 0, 100))(t)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s's entries after the takeover:\n%+v\nuninterrupted:\n%+v", id, g, w)
		}
	}
	// The killed runner's late writes are refused.
	if err := a.FinishOperation(ctx, loyalty.Operation{ID: id, Owner: "gone", State: loyalty.OpFailed}); err == nil {
		t.Fatal("a finish by a runner that lost the lease was accepted")
	}
}

// pausingStore holds the job before its second expiry batch until resume
// is closed, as a runner stalled (a long GC pause, a slow network) past
// its lease would be.
type pausingStore struct {
	loyalty.Store
	paused, resume chan struct{}
	batches        int
}

func (s *pausingStore) ExpireBatch(ctx context.Context, asOf time.Time, after string, limit int,
	fn func([]*loyalty.Account, string) (loyalty.Operation, error)) (string, error) {
	if s.batches++; s.batches == 2 {
		close(s.paused)
		<-s.resume
	}
	return s.Store.ExpireBatch(ctx, asOf, after, limit, fn)
}

// testStalledRunnerIsFenced: a runner stalled past its lease, whose job
// the other replica took over and finished, writes nothing when it wakes:
// it answers with the other runner's operation, and every bucket is
// expired once.
func testStalledRunnerIsFenced(t *testing.T, open Opener) {
	a, b := open(t)
	ref, _ := open(t)
	_, asOf := expireLedger(t, a)
	expireLedger(t, ref)
	want := must(loyalty.NewService(ref, nil).RunJob(ctx, loyalty.JobExpire, asOf, false))(t)

	c := &clock{t: asOf.Add(time.Hour)}
	ps := &pausingStore{Store: a, paused: make(chan struct{}), resume: make(chan struct{})}
	stalled := service(ps, c)
	stalled.SetJobOptions(loyalty.JobOptions{Batch: 2, Lease: time.Minute})
	done := make(chan loyalty.Operation, 1)
	go func() {
		op, err := stalled.RunJob(ctx, loyalty.JobExpire, asOf, false)
		if err != nil {
			t.Error(err)
		}
		done <- op
	}()
	<-ps.paused
	c.set(c.now().Add(2 * time.Minute))
	other := service(b, c)
	other.SetJobOptions(loyalty.JobOptions{Batch: 2, Lease: time.Minute})
	if err := other.ResumeStale(ctx); err != nil {
		t.Fatal(err)
	}
	close(ps.resume)
	got := <-done
	if got.State != loyalty.OpSucceeded || got.MembersChanged != want.MembersChanged || got.Points != want.Points {
		t.Fatalf("the stalled runner answered %+v; want the takeover's, succeeded with %d members and %d points", got,
			want.MembersChanged, want.Points)
	}
	for _, id := range expireCustomers {
		g := must(a.ListEntries(ctx, id, 0, 100))(t)
		w := must(ref.ListEntries(ctx, id, 0, 100))(t)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s's entries:\n%+v\nuninterrupted:\n%+v", id, g, w)
		}
	}
}
