package consumer_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	typev1 "github.com/tenurehq/tenure/gen/tenure/type/v1"
	"github.com/tenurehq/tenure/services/loyalty/internal/consumer"
	"github.com/tenurehq/tenure/services/loyalty/internal/loyalty"
	"github.com/tenurehq/tenure/services/loyalty/internal/store"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"google.golang.org/protobuf/types/known/timestamppb"
)

var (
	ctx = context.Background()
	t0  = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
)

func gbp(minor int64) *typev1.Money { return &typev1.Money{CurrencyCode: "GBP", AmountMinor: minor} }

// stream builds a log of n events over 20 customers: orders with and
// without totals, partial refunds, shares, check-ins, profile changes and
// one erasure.
func stream(n int) []*profilev1.StreamEventsResponse {
	rng := rand.New(rand.NewPCG(1, 2))
	var out []*profilev1.StreamEventsResponse
	for i := 1; i <= n; i++ {
		c := fmt.Sprintf("c%02d", rng.IntN(20))
		ev := &profilev1.Event{Sequence: int64(i), EventId: fmt.Sprint("e", i), CustomerId: c,
			OccurredAt: timestamppb.New(t0.Add(time.Duration(i) * time.Hour))}
		switch k := rng.IntN(10); {
		case i == n/2:
			ev.CustomerId = "c03"
			ev.Payload = &profilev1.Event_CustomerErased{CustomerErased: &profilev1.CustomerErased{AnonymousId: "anon-c03"}}
		case k < 4:
			ev.Payload = &profilev1.Event_OrderPlaced{OrderPlaced: &profilev1.OrderPlaced{OrderId: fmt.Sprint("o", i), Total: gbp(rng.Int64N(50000))}}
		case k == 4:
			ev.Payload = &profilev1.Event_OrderPlaced{OrderPlaced: &profilev1.OrderPlaced{OrderId: fmt.Sprint("o", i),
				Lines: []*profilev1.OrderLine{{Quantity: 3, UnitPrice: gbp(1999), Discount: gbp(100)}}}}
		case k == 5:
			ev.Payload = &profilev1.Event_OrderRefunded{OrderRefunded: &profilev1.OrderRefunded{
				OrderId: fmt.Sprint("o", rng.IntN(i)+1), Amount: gbp(rng.Int64N(20000) + 1)}}
		case k == 6:
			ev.Payload = &profilev1.Event_ContentShared{ContentShared: &profilev1.ContentShared{ContentId: "x"}}
		case k == 7:
			ev.Payload = &profilev1.Event_CheckedIn{CheckedIn: &profilev1.CheckedIn{LocationId: "l"}}
		default:
			ev.Payload = &profilev1.Event_CustomerUpdated{CustomerUpdated: &profilev1.CustomerUpdated{TimeZone: "Asia/Tokyo"}}
		}
		out = append(out, &profilev1.StreamEventsResponse{Event: ev})
	}
	return out
}

// crashing fails every pageFailures-th page after applying it, before the
// commit, as a process killed at that moment would.
type crashing struct {
	loyalty.Store
	pages int
}

var errCrash = errors.New("crash")

func (c *crashing) ApplyPage(ctx context.Context, to int64, from time.Time, fn func(context.Context, loyalty.Ledger, int64) error) error {
	return c.Store.ApplyPage(ctx, to, from, func(ctx context.Context, l loyalty.Ledger, cur int64) error {
		if err := fn(ctx, l, cur); err != nil {
			return err
		}
		if c.pages++; c.pages%3 == 0 {
			return errCrash
		}
		return nil
	})
}

// clock is the services' clock: a year after the log starts.
func clock() time.Time { return t0.AddDate(1, 0, 0) }

// setUp returns a migrated store over db with the tests' programme: 7
// pending days, expiry after 12 months, limited shares and check-ins and a
// second tier.
func setUp(t *testing.T, db *sqlstore.DB) *store.Store {
	t.Helper()
	st := store.New(db)
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	p := loyalty.DefaultProgramme()
	p.SharePoints, p.ShareDailyLimit, p.CheckInPoints, p.PendingDays, p.ExpiryMonths = 5, 2, 3, 7, 12
	p.Tiers = append(p.Tiers, loyalty.Tier{ID: "gold", QualifyingPoints: 500, MultiplierPercent: 150})
	if _, err := loyalty.NewService(st, clock).UpdateProgramme(ctx, p, nil, 0); err != nil {
		t.Fatal(err)
	}
	return st
}

// consume runs the log into a new store over db, in pages of random sizes
// from the stored cursor, as the platform's consumer does; with crash set,
// some pages fail before their commit and the consumer restarts.
func consume(t *testing.T, db *sqlstore.DB, log []*profilev1.StreamEventsResponse, crash bool) {
	t.Helper()
	st := setUp(t, db)
	var s loyalty.Store = st
	if crash {
		s = &crashing{Store: st}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	h := consumer.New(loyalty.NewService(s, clock), st)
	for crashes := 0; ; {
		cur, err := h.Cursor(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cur == int64(len(log)) {
			if crash && crashes < 5 {
				t.Fatalf("only %d crashes", crashes)
			}
			break
		}
		end := min(int(cur)+1+rng.IntN(40), len(log))
		if err := h.Apply(ctx, log[cur:end]); errors.Is(err, errCrash) {
			crashes++
			// A restart; the store keeps its account cache, which must
			// hold what the commits wrote, not what the failed page did.
			h = consumer.New(loyalty.NewService(s, clock), st)
		} else if err != nil {
			t.Fatal(err)
		}
	}
}

// ledger exports every member of the log.
func ledger(t *testing.T, db *sqlstore.DB) map[string][]loyalty.Entry {
	t.Helper()
	svc := loyalty.NewService(store.New(db), func() time.Time { return t0.AddDate(1, 0, 0) })
	out := map[string][]loyalty.Entry{}
	for i := range 20 {
		id := fmt.Sprintf("c%02d", i)
		if i == 3 {
			id = "anon-c03"
		}
		ex, err := svc.Export(ctx, id)
		if errors.Is(err, loyalty.ErrMemberNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		out[id] = ex.Entries
		if ex.Member.Lifetime == 0 && len(ex.Entries) > 0 {
			t.Fatalf("%s: entries without lifetime points", id)
		}
	}
	return out
}

// TestRestartGivesTheSameLedger kills the consumer before the commit of
// every third page and restarts it; the ledger equals an uninterrupted
// run's, entry for entry.
func TestRestartGivesTheSameLedger(t *testing.T) {
	log := stream(600)
	sqlstoretest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		want := sameLedgers(t, db, "uninterrupted", "after restarts", func(db *sqlstore.DB, crash bool) { consume(t, db, log, crash) })
		if len(want) < 15 {
			t.Fatalf("only %d members in the ledger", len(want))
		}
		if _, ok := want["anon-c03"]; !ok {
			t.Fatal("the erased customer's ledger is not under its anonymous id")
		}
	})
}

// TestCachedAccountsSeeOtherWriters changes, between pages, members whose
// accounts the consumer's store keeps: redemptions and adjustments, the
// expiry, tier and maturation jobs, and pages applied by a second replica.
// The ledger equals that of a consumer reading every account afresh.
func TestCachedAccountsSeeOtherWriters(t *testing.T) {
	log := stream(600)
	sqlstoretest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		sameLedgers(t, db, "with cached accounts", "read afresh", func(db *sqlstore.DB, cold bool) { interleave(t, db, log, cold) })
	})
}

// sameLedgers runs run(db, false) and run(other, true), other a new
// database of db's engine, checks that the two give the same ledger
// (named as and bs in failures), and returns it.
func sameLedgers(t *testing.T, db *sqlstore.DB, as, bs string, run func(db *sqlstore.DB, variant bool)) map[string][]loyalty.Entry {
	t.Helper()
	other := sqlstoretest.SQLite
	if db.Dialect == sqlstore.Postgres {
		other = sqlstoretest.Postgres
	}
	odb := other(t)
	run(db, false)
	run(odb, true)
	a, b := ledger(t, db), ledger(t, odb)
	if !reflect.DeepEqual(a, b) {
		for id := range a {
			if !reflect.DeepEqual(a[id], b[id]) {
				t.Fatalf("%s %s:\n%+v\n%s:\n%+v", id, as, a[id], bs, b[id])
			}
		}
		t.Fatal("the ledgers differ")
	}
	return a
}

// interleave runs the log into a new store over db in pages of random
// sizes, every fifth through a second replica's store, and after each page
// redeems and adjusts points of random customers and now and then runs a
// job. With cold set, every page goes through a new store, which has no
// accounts cached.
func interleave(t *testing.T, db *sqlstore.DB, log []*profilev1.StreamEventsResponse, cold bool) {
	t.Helper()
	st, replica := setUp(t, db), store.New(db)
	svc := loyalty.NewService(st, clock)
	rng := rand.New(rand.NewPCG(5, 6))
	var insufficient *loyalty.InsufficientError
	for page := 0; ; page++ {
		s := st
		switch {
		case cold:
			s = store.New(db)
		case page%5 == 4:
			s = replica
		}
		h := consumer.New(loyalty.NewService(s, clock), s)
		cur, err := h.Cursor(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cur == int64(len(log)) {
			return
		}
		end := min(int(cur)+1+rng.IntN(40), len(log))
		if err := h.Apply(ctx, log[cur:end]); err != nil {
			t.Fatal(err)
		}
		id := fmt.Sprintf("c%02d", rng.IntN(20))
		_, err = svc.AdjustPoints(ctx, id, 1+rng.Int64N(30), "goodwill", "ops")
		if err == nil {
			_, err = svc.RedeemPoints(ctx, fmt.Sprintf("c%02d", rng.IntN(20)), 1+rng.Int64N(100), fmt.Sprint("r", page))
		}
		if err != nil && !errors.Is(err, loyalty.ErrMemberNotFound) && !errors.As(err, &insufficient) {
			t.Fatal(err)
		}
		// Expire what was earned before the middle of the log so far.
		halfway := log[end/2].GetEvent().GetOccurredAt().AsTime()
		for i, kind := range []loyalty.JobKind{loyalty.JobExpire, loyalty.JobTiers, loyalty.JobMature} {
			if page%3 != i {
				continue
			}
			if _, err := svc.RunJob(ctx, kind, loyalty.AddMonths(halfway, 12).Add(time.Duration(page)), false); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestCacheFollowsAnotherReplica has a second replica apply a refund that
// changes only the order (it rounds to no points) between two pages of
// the first: the first must not refund from the order as it cached it.
func TestCacheFollowsAnotherReplica(t *testing.T) {
	refund := func(seq int64) *profilev1.StreamEventsResponse {
		return &profilev1.StreamEventsResponse{Event: &profilev1.Event{Sequence: seq, EventId: fmt.Sprint("e", seq),
			CustomerId: "c1", OccurredAt: timestamppb.New(t0.Add(time.Duration(seq) * time.Hour)),
			Payload: &profilev1.Event_OrderRefunded{OrderRefunded: &profilev1.OrderRefunded{OrderId: "o1", Amount: gbp(50)}}}}
	}
	log := []*profilev1.StreamEventsResponse{{Event: &profilev1.Event{Sequence: 1, EventId: "e1", CustomerId: "c1",
		OccurredAt: timestamppb.New(t0.Add(time.Hour)), Payload: &profilev1.Event_OrderPlaced{OrderPlaced: &profilev1.OrderPlaced{
			OrderId: "o1", Total: gbp(10000)}}}}, refund(2), refund(3), refund(4)}
	sqlstoretest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		st, replica := setUp(t, db), store.New(db)
		for i, s := range []*store.Store{st, st, replica, st} {
			if err := consumer.New(loyalty.NewService(s, clock), s).Apply(ctx, log[i:i+1]); err != nil {
				t.Fatal(err)
			}
		}
		// 100 points, kept floor(100 × (10000 − refunded) / 10000): 99
		// after 50 and after 100, 98 after 150.
		v, err := loyalty.NewService(st, clock).GetMember(ctx, "c1")
		if err != nil {
			t.Fatal(err)
		}
		if v.Available != 98 {
			t.Fatalf("available %d, want 98", v.Available)
		}
	})
}
