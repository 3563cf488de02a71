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

// consume runs the log into a new store over db, in pages of random sizes
// from the stored cursor, as the platform's consumer does; with crash set,
// some pages fail before their commit and the consumer restarts.
func consume(t *testing.T, db *sqlstore.DB, log []*profilev1.StreamEventsResponse, crash bool) {
	t.Helper()
	st := store.New(db)
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var s loyalty.Store = st
	if crash {
		s = &crashing{Store: st}
	}
	clock := func() time.Time { return t0.AddDate(1, 0, 0) }
	svc := loyalty.NewService(s, clock)
	p := loyalty.DefaultProgramme()
	p.SharePoints, p.ShareDailyLimit, p.CheckInPoints, p.PendingDays = 5, 2, 3, 7
	p.Tiers = append(p.Tiers, loyalty.Tier{ID: "gold", QualifyingPoints: 500, MultiplierPercent: 150})
	if _, err := svc.UpdateProgramme(ctx, p, nil, 0); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	h := consumer.New(svc, st)
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
			h = consumer.New(loyalty.NewService(s, clock), st) // restart
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
		var other *sqlstore.DB
		if db.Dialect == sqlstore.Postgres {
			other = sqlstoretest.Postgres(t)
		} else {
			other = sqlstoretest.SQLite(t)
		}
		consume(t, db, log, false)
		consume(t, other, log, true)
		want, got := ledger(t, db), ledger(t, other)
		if len(want) < 15 {
			t.Fatalf("only %d members in the ledger", len(want))
		}
		if !reflect.DeepEqual(got, want) {
			for id := range want {
				if !reflect.DeepEqual(got[id], want[id]) {
					t.Fatalf("%s after restarts:\n%+v\nuninterrupted:\n%+v", id, got[id], want[id])
				}
			}
			t.Fatal("the ledgers differ")
		}
		if _, ok := want["anon-c03"]; !ok {
			t.Fatal("the erased customer's ledger is not under its anonymous id")
		}
	})
}
