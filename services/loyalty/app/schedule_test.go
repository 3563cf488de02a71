package app_test

import (
	"sync/atomic"
	"testing"
	"time"

	loyaltyv1 "github.com/tenurehq/tenure/gen/tenure/loyalty/v1"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// TestScheduleRunsTheJobs: the replica elected through etcd runs the jobs
// every interval as of the interval's start: once the clock passes the
// points' expiry, the schedule expires them without any API call.
func TestScheduleRunsTheJobs(t *testing.T) {
	var now atomic.Int64
	now.Store(t0.UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()).UTC() }
	f := startWith(t, "sqlite", clock, 100*time.Millisecond)
	if _, err := f.loyalty.UpdateProgramme(ctx, &loyaltyv1.UpdateProgrammeRequest{Programme: &loyaltyv1.Programme{ExpiryMonths: 1},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"expiry_months"}}}); err != nil {
		t.Fatal(err)
	}
	f.record(t, orderEvent("e1", "c1", t0, 5000))
	if m := f.member(t, "c1"); m.GetAvailablePoints() != 50 {
		t.Fatalf("member = %v", m)
	}
	now.Store(t0.AddDate(0, 1, 1).UnixNano())
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		es, err := f.loyalty.ListLedgerEntries(ctx, &loyaltyv1.ListLedgerEntriesRequest{Parent: "members/c1"})
		if err != nil {
			t.Fatal(err)
		}
		if e := es.GetEntries()[0]; e.GetType() == loyaltyv1.EntryType_ENTRY_TYPE_EXPIRE && e.GetPoints() == -50 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no expire entry from the schedule: %v", es)
		}
	}
}
