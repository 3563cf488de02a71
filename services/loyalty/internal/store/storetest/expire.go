package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/loyalty/internal/loyalty"
)

// expireCustomers are the customers of expireLedger.
var expireCustomers = []string{"c1", "c2", "c3", "c4", "c5", "c6"}

// expireLedger writes, through the service, buckets that expire before,
// at and after the time it returns, some partly or wholly spent, an action
// bucket, and a customer who never becomes a member.
func expireLedger(t *testing.T, s loyalty.Store) (loyalty.Programme, time.Time) {
	t.Helper()
	c := &clock{t: t0.Add(time.Hour)}
	svc := service(s, c)
	p := programme(t, svc, func(p *loyalty.Programme) { p.ExpiryMonths, p.SharePoints, p.ShareDailyLimit = 1, 5, 3 })
	day := 24 * time.Hour
	events := []loyalty.Event{
		order(1, "c1", "o1", t0, 5000), order(2, "c1", "o2", t0.Add(day), 3000), order(3, "c1", "o3", t0.Add(20*day), 4000),
		order(4, "c2", "o4", t0, 5000),
		order(5, "c3", "o5", t0, 2000),
		{Sequence: 6, EventID: "e6", CustomerID: "c4", OccurredAt: t0, Kind: loyalty.EventContentShared},
		order(7, "c4", "o7", t0.Add(40*day), 9000),
		order(8, "c5", "o8", t0.Add(5*day), 1000), order(9, "c5", "o9", t0.Add(5*day+time.Second), 1000),
	}
	if err := svc.ApplyEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	must(svc.RedeemPoints(ctx, "c2", 20, "checkout"))(t)
	must(svc.RedeemPoints(ctx, "c3", 20, "checkout"))(t)
	a := must(s.ReadAccount(ctx, "c5", time.Time{}))(t)
	if a == nil || len(a.Buckets) != 2 {
		t.Fatalf("c5 = %+v; want two buckets", a)
	}
	return p, a.Buckets[0].ExpiresAt // c5's first bucket expires exactly then, its second just after
}

// testExpireMatchesPerMember: the expiry job leaves the same ledger as
// expiring each member's account in a ledger transaction, the way every
// other change is made.
func testExpireMatchesPerMember(t *testing.T, open Opener) {
	job, _ := open(t)
	each, _ := open(t)
	p, asOf := expireLedger(t, job)
	expireLedger(t, each)
	op := must(loyalty.NewService(job, nil).RunJob(ctx, loyalty.JobExpire, asOf, false))(t)
	var changed, points int64
	err := each.InLedger(ctx, time.Time{}, func(ctx context.Context, l loyalty.Ledger) error {
		for _, id := range expireCustomers {
			a, err := l.Account(ctx, id)
			if err != nil || a == nil || !a.Member.Enrolled {
				if err != nil {
					return err
				}
				continue
			}
			if e, ok := a.Expire(asOf, p.Version); ok {
				changed, points = changed+1, points-e.Points
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if op.State != loyalty.OpSucceeded || op.MembersChanged != changed || op.Points != points || changed != 4 {
		t.Fatalf("job = %+v; per member: %d members changed, %d points; want 4 members (c1, c2, c4, c5)", op, changed, points)
	}
	for _, id := range expireCustomers {
		got := must(job.ListEntries(ctx, id, 0, 100))(t)
		want := must(each.ListEntries(ctx, id, 0, 100))(t)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s's entries after the job:\n%+v\nper member:\n%+v", id, got, want)
		}
		ga := must(job.ReadAccount(ctx, id, time.Time{}))(t)
		wa := must(each.ReadAccount(ctx, id, time.Time{}))(t)
		if (ga == nil) != (wa == nil) || ga != nil && (ga.Member != wa.Member || !reflect.DeepEqual(ga.Buckets, wa.Buckets)) {
			t.Errorf("%s's account after the job:\n%+v\nper member:\n%+v", id, ga, wa)
		}
	}
}
