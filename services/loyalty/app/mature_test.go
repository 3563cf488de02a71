package app_test

import (
	"sync/atomic"
	"testing"
	"time"

	loyaltyv1 "github.com/tenurehq/tenure/gen/tenure/loyalty/v1"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// TestPendingPointsUpgradeAtOnce: the moment pending points become
// available the member holds the tier they reach, as of that moment,
// without any ledger change or evaluation; the schedule saves it, so the
// report counts the member in that tier.
func TestPendingPointsUpgradeAtOnce(t *testing.T) {
	stacktest.Engines(t, func(t *testing.T, engine string) {
		var now atomic.Int64
		now.Store(t0.UnixNano())
		clock := func() time.Time { return time.Unix(0, now.Load()).UTC() }
		f := startWith(t, engine, clock, 50*time.Millisecond)
		_, err := f.loyalty.UpdateProgramme(ctx, &loyaltyv1.UpdateProgrammeRequest{Programme: &loyaltyv1.Programme{PendingDays: 14,
			Tiers: []*loyaltyv1.Tier{{TierId: "base", MultiplierPercent: 100}, {TierId: "silver", QualifyingPoints: 100, MultiplierPercent: 120}}},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"pending_days", "tiers"}}})
		if err != nil {
			t.Fatal(err)
		}
		f.record(t, orderEvent("e1", "c1", t0, 20000))
		avail := t0.Add(14 * 24 * time.Hour)
		now.Store(avail.Add(-time.Nanosecond).UnixNano())
		if m := f.member(t, "c1"); m.GetTier() != "base" || m.GetPendingPoints() != 200 {
			t.Fatalf("got %v, want base with 200 pending points", m)
		}
		now.Store(avail.UnixNano())
		if m := f.member(t, "c1"); m.GetTier() != "silver" || !m.GetTierSince().AsTime().Equal(avail) || m.GetAvailablePoints() != 200 {
			t.Fatalf("got %v, want silver since %s with 200 available points", m, avail)
		}
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			r, err := f.loyalty.GetReport(ctx, &loyaltyv1.GetReportRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if ts := r.GetReport().GetTiers(); len(ts) == 2 && ts[1].GetMembers() == 1 && ts[0].GetMembers() == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the schedule did not save the upgrade: %v", r)
			}
		}
		if m := f.member(t, "c1"); m.GetTier() != "silver" || !m.GetTierSince().AsTime().Equal(avail) {
			t.Fatalf("after the schedule: got %v, want silver since %s", m, avail)
		}
	})
}
