// Package storetest is the conformance suite for the loyalty service's
// storage: every storage engine runs the same tests through Run. The tests
// drive the store through the domain's use cases, as the service does.
package storetest

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/loyalty/internal/loyalty"
)

// Opener returns two stores over one new, empty, migrated database, each
// with its own connections, as two replicas of the service have.
type Opener func(t *testing.T) (loyalty.Store, loyalty.Store)

// Run runs the conformance suite against the stores open returns.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, a, b loyalty.Store)
	}{
		{"Programme", testProgramme},
		{"ApplyPage", testApplyPage},
		{"ConcurrentRedemptions", testConcurrentRedemptions},
		{"CancelRedemption", testCancelRedemption},
		{"Jobs", testJobs},
		{"Rekey", testRekey},
		{"Report", testReport},
		{"Rewards", testRewards},
		{"ExpiringMembers", testExpiringMembers},
		{"ActionLimitsAcrossPages", testActionLimitsAcrossPages},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := open(t)
			tt.fn(t, a, b)
		})
	}
	t.Run("ExpireMatchesPerMember", func(t *testing.T) { testExpireMatchesPerMember(t, open) })
	t.Run("JobTakeover", func(t *testing.T) { testJobTakeover(t, open) })
	t.Run("StalledRunnerIsFenced", func(t *testing.T) { testStalledRunnerIsFenced(t, open) })
}

var (
	ctx = context.Background()
	t0  = time.Date(2025, 1, 31, 12, 0, 0, 0, time.UTC)
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

func service(s loyalty.Store, c *clock) *loyalty.Service { return loyalty.NewService(s, c.now) }

// must fails the test on err, else returns v: must(f())(t).
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// programme sets a programme of 1 point per GBP with two tiers.
func programme(t *testing.T, svc *loyalty.Service, change func(*loyalty.Programme)) loyalty.Programme {
	t.Helper()
	p := loyalty.DefaultProgramme()
	p.Tiers = []loyalty.Tier{{ID: "base", MultiplierPercent: 100}, {ID: "gold", QualifyingPoints: 1000, MultiplierPercent: 150}}
	if change != nil {
		change(&p)
	}
	return must(svc.UpdateProgramme(ctx, p, nil, 0))(t)
}

func order(seq int64, customer, id string, at time.Time, minor int64) loyalty.Event {
	return loyalty.Event{Sequence: seq, EventID: "e" + id, CustomerID: customer, OccurredAt: at,
		Kind: loyalty.EventOrderPlaced, OrderID: id, Currency: "GBP", HasTotal: true, AmountMinor: minor}
}

func testProgramme(t *testing.T, a, _ loyalty.Store) {
	c := &clock{t: t0}
	svc := service(a, c)
	if p := must(svc.Programme(ctx, 0))(t); p.Version != 0 || p.CurrencyCode != "GBP" {
		t.Fatalf("programme before any update = %+v, want the default", p)
	}
	p1 := programme(t, svc, nil)
	p2 := must(svc.UpdateProgramme(ctx, loyalty.Programme{PendingDays: 14}, []string{"pending_days"}, 1))(t)
	if p1.Version != 1 || p2.Version != 2 || p2.PendingDays != 14 || !reflect.DeepEqual(p2.Tiers, p1.Tiers) {
		t.Fatalf("versions %+v, %+v", p1, p2)
	}
	if got := must(svc.Programme(ctx, 1))(t); !reflect.DeepEqual(got, p1) {
		t.Fatalf("version 1 read back as %+v, want %+v", got, p1)
	}
	if _, err := svc.UpdateProgramme(ctx, p2, nil, 1); !errors.Is(err, loyalty.ErrVersionMismatch) {
		t.Fatalf("update of a stale version: %v", err)
	}
	if _, err := svc.Programme(ctx, 9); !errors.Is(err, loyalty.ErrProgrammeNotFound) {
		t.Fatalf("missing version: %v", err)
	}
}

func testApplyPage(t *testing.T, a, b loyalty.Store) {
	c := &clock{t: t0.Add(time.Hour)}
	svc := service(a, c)
	programme(t, svc, nil)
	page := []loyalty.Event{order(1, "c1", "o1", t0, 12345), order(2, "c1", "o2", t0, 90000), order(3, "c2", "o3", t0, 500)}
	if err := svc.ApplyEvents(ctx, page); err != nil {
		t.Fatal(err)
	}
	// The same page again, through the other replica, is skipped.
	if err := service(b, c).ApplyEvents(ctx, page); err != nil {
		t.Fatal(err)
	}
	if cur := must(a.Cursor(ctx))(t); cur != 3 {
		t.Fatalf("cursor %d, want 3", cur)
	}
	m := must(svc.GetMember(ctx, "c1"))(t)
	if m.Available != 1023 || m.Lifetime != 1023 || m.Tier != "gold" || m.Seq != 2 {
		t.Fatalf("c1 = %+v, want 123 + 900 points, gold", m)
	}
	es, next := must2(svc.ListEntries(ctx, "c1", 1, ""))(t)
	if len(es) != 1 || es[0].Seq != 2 || es[0].Points != 900 || es[0].Source.OrderID != "o2" || next == "" {
		t.Fatalf("first page %+v, %q", es, next)
	}
	es, next = must2(svc.ListEntries(ctx, "c1", 1, next))(t)
	if len(es) != 1 || es[0].Seq != 1 || es[0].Buckets[0] != (loyalty.BucketChange{Bucket: 1, Points: 123}) || next != "" {
		t.Fatalf("second page %+v, %q", es, next)
	}
	// A refund in a later page reverses in proportion.
	ref := loyalty.Event{Sequence: 4, CustomerID: "c1", OccurredAt: t0, Kind: loyalty.EventOrderRefunded, OrderID: "o2",
		Currency: "GBP", HasTotal: true, AmountMinor: 30000}
	if err := svc.ApplyEvents(ctx, []loyalty.Event{ref}); err != nil {
		t.Fatal(err)
	}
	if m := must(svc.GetMember(ctx, "c1"))(t); m.Available != 1023-300 || m.Lifetime != 1023 {
		t.Fatalf("after the refund c1 = %+v", m)
	}
}

// must2 is must for two values.
func must2[A, B any](a A, b B, err error) func(t *testing.T) (A, B) {
	return func(t *testing.T) (A, B) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}
}

// testConcurrentRedemptions: 200 redemptions of 10 points race, half
// through each replica, against a balance of 100: exactly 10 succeed and
// the balance ends at 0.
func testConcurrentRedemptions(t *testing.T, a, b loyalty.Store) {
	c := &clock{t: t0.Add(time.Hour)}
	svcs := []*loyalty.Service{service(a, c), service(b, c)}
	programme(t, svcs[0], nil)
	if err := svcs[0].ApplyEvents(ctx, []loyalty.Event{order(1, "c1", "o1", t0, 10000)}); err != nil {
		t.Fatal(err)
	}
	var ok, short atomic.Int64
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			_, err := svcs[i%2].RedeemPoints(ctx, "c1", 10, "checkout")
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, loyalty.ErrInsufficientPoints):
				short.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	m := must(svcs[1].GetMember(ctx, "c1"))(t)
	if ok.Load() != 10 || short.Load() != 190 || m.Available != 0 {
		t.Fatalf("%d succeeded, %d refused, balance %d; want 10, 190, 0", ok.Load(), short.Load(), m.Available)
	}
}

func testCancelRedemption(t *testing.T, a, _ loyalty.Store) {
	c := &clock{t: t0.Add(time.Hour)}
	svc := service(a, c)
	programme(t, svc, func(p *loyalty.Programme) { p.ExpiryMonths = 1 })
	if err := svc.ApplyEvents(ctx, []loyalty.Event{order(1, "c1", "o1", t0, 5000), order(2, "c1", "o2", t0.Add(48*time.Hour), 5000)}); err != nil {
		t.Fatal(err)
	}
	c.set(t0.Add(72 * time.Hour))
	r := must(svc.RedeemPoints(ctx, "c1", 70, "checkout"))(t)
	if r.Available != 30 || r.Entry.Buckets[0] != (loyalty.BucketChange{Bucket: 1, Points: -50}) {
		t.Fatalf("redeem = %+v; want the first bucket emptied first", r)
	}
	// After the first bucket expired (28 Feb), only the second gets its 20 back.
	c.set(loyalty.AddMonths(t0, 1).Add(time.Minute))
	r = must(svc.CancelRedemption(ctx, "c1", r.Entry.Seq))(t)
	if r.Entry.Points != 20 || r.Entry.Unrecovered != 50 || r.Available != 50 {
		t.Fatalf("cancel = %+v; want 20 back, 50 expired, 50 available", r)
	}
	if _, err := svc.CancelRedemption(ctx, "c1", 3); !errors.Is(err, loyalty.ErrRedemptionClosed) {
		t.Fatalf("second cancel: %v", err)
	}
	if _, err := svc.RedeemPoints(ctx, "c1", 51, "x"); !errors.Is(err, loyalty.ErrInsufficientPoints) {
		t.Fatalf("over-redeem: %v", err)
	}
}

func testJobs(t *testing.T, a, b loyalty.Store) {
	c := &clock{t: t0}
	svc := service(a, c)
	programme(t, svc, func(p *loyalty.Programme) { p.ExpiryMonths, p.BirthdayPoints = 1, 25 })
	born := loyalty.Event{Sequence: 1, CustomerID: "c1", OccurredAt: t0, Kind: loyalty.EventCustomerUpdated, Birthday: "1992-02-29"}
	if err := svc.ApplyEvents(ctx, []loyalty.Event{born, order(2, "c1", "o1", t0, 5000), order(3, "c2", "o2", t0, 700)}); err != nil {
		t.Fatal(err)
	}
	due := loyalty.AddMonths(t0, 1) // 2025-02-28 12:00, c1's birthday this year
	for range 2 {                   // a second run for the same time changes nothing
		op := must(service(b, c).RunJob(ctx, loyalty.JobExpire, due, false))(t)
		if op.State != loyalty.OpSucceeded || op.MembersChanged != 2 || op.Points != 57 {
			t.Fatalf("expire = %+v; want 2 members, 57 points", op)
		}
		op = must(svc.RunJob(ctx, loyalty.JobBirthdays, due, false))(t)
		if op.State != loyalty.OpSucceeded || op.MembersChanged != 1 || op.Points != 25 {
			t.Fatalf("birthdays = %+v; want c1's 25 points", op)
		}
	}
	if got := must(svc.Operation(ctx, "expire_points-"+strconv.FormatInt(due.UnixNano(), 10)))(t); got.Points != 57 {
		t.Fatalf("stored operation %+v", got)
	}
	if _, err := svc.RunJob(ctx, loyalty.JobBirthdays, due.Add(time.Hour), false); err != nil {
		t.Fatal(err)
	}
	c.set(due.Add(2 * time.Hour))
	if m := must(svc.GetMember(ctx, "c1"))(t); m.Available != 25 || m.Lifetime != 75 {
		t.Fatalf("c1 = %+v; want only the birthday points, once", m)
	}
}

func testRekey(t *testing.T, a, _ loyalty.Store) {
	c := &clock{t: t0.Add(time.Hour)}
	svc := service(a, c)
	programme(t, svc, nil)
	erase := loyalty.Event{Sequence: 2, CustomerID: "c1", OccurredAt: t0, Kind: loyalty.EventCustomerErased, AnonymousID: "anon-1"}
	if err := svc.ApplyEvents(ctx, []loyalty.Event{order(1, "c1", "o1", t0, 5000), erase}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.GetMember(ctx, "c1"); !errors.Is(err, loyalty.ErrMemberNotFound) {
		t.Fatalf("erased id still answers: %v", err)
	}
	ex := must(svc.Export(ctx, "anon-1"))(t)
	if ex.Member.Available != 50 || len(ex.Entries) != 1 || ex.Entries[0].Points != 50 {
		t.Fatalf("re-keyed member %+v", ex)
	}
}

func testReport(t *testing.T, a, _ loyalty.Store) {
	c := &clock{t: t0.Add(time.Hour)}
	svc := service(a, c)
	programme(t, svc, func(p *loyalty.Programme) { p.PendingDays = 30 })
	eur := order(3, "c2", "o3", t0, 999)
	eur.Currency = "EUR"
	if err := svc.ApplyEvents(ctx, []loyalty.Event{order(1, "c1", "o1", t0.AddDate(0, 0, -40), 5000),
		order(2, "c1", "o2", t0, 2000), eur}); err != nil {
		t.Fatal(err)
	}
	must(svc.RedeemPoints(ctx, "c1", 10, "x"))(t)
	r, _ := must2(svc.Report(ctx))(t)
	want := []loyalty.MonthTotals{{Month: "2024-12", Earned: 50}, {Month: "2025-01", Earned: 20, Redeemed: 10}}
	if r.Available != 40 || r.Pending != 20 || r.SkippedOrders != 1 || !reflect.DeepEqual(r.Months, want) ||
		r.Tiers["base"] != 2 {
		t.Fatalf("report %+v", r)
	}
}
