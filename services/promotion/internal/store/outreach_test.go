package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
	"github.com/tenurehq/tenure/services/promotion/internal/store"
)

// engines runs fn on a fresh migrated store on SQLite, and on PostgreSQL
// when it is reachable.
func engines(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	for _, eng := range []struct {
		name string
		open func(testing.TB) *sqlstore.DB
	}{{"sqlite", sqlstoretest.SQLite}, {"postgres", sqlstoretest.Postgres}} {
		t.Run(eng.name, func(t *testing.T) {
			s := store.New(eng.open(t))
			if err := s.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			fn(t, s)
		})
	}
}

var t0 = time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)

func message(j, customer, occurrence string, due time.Time) outreach.Message {
	return outreach.Message{ID: outreach.MessageID(j, customer, occurrence), JourneyID: j, CustomerID: customer,
		Occurrence: occurrence, State: outreach.StateScheduled, Due: due, CreateTime: t0, UpdateTime: t0}
}

func TestOutreachMessages(t *testing.T) {
	engines(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		m := message("cart", "c1", "cart:e1", t0)
		for i, want := range []bool{true, false} { // a replayed trigger finds its message
			created, err := s.CreateMessage(ctx, m)
			if err != nil || created != want {
				t.Fatalf("CreateMessage %d: got %v, %v; want %v", i+1, created, err, want)
			}
		}
		if got, err := s.GetMessage(ctx, m.ID); err != nil || !reflect.DeepEqual(got, m) {
			t.Fatalf("GetMessage: got %+v, %v; want %+v", got, err, m)
		}
		if _, err := s.GetMessage(ctx, "nope"); !errors.Is(err, outreach.ErrMessageNotFound) {
			t.Errorf("GetMessage(nope): got %v", err)
		}
		later := message("cart", "c2", "cart:e2", t0.Add(time.Hour))
		if _, err := s.CreateMessage(ctx, later); err != nil {
			t.Fatal(err)
		}

		claimed, err := s.Claim(ctx, t0, time.Minute, 10)
		if err != nil || len(claimed) != 1 || claimed[0].ID != m.ID {
			t.Fatalf("Claim at t0: got %+v, %v; want the message due then", claimed, err)
		}
		if again, err := s.Claim(ctx, t0.Add(30*time.Second), time.Minute, 10); err != nil || len(again) != 0 {
			t.Fatalf("Claim during the lease: got %+v, %v; want none", again, err)
		}
		lapsed, err := s.Claim(ctx, t0.Add(2*time.Minute), time.Minute, 10)
		if err != nil || len(lapsed) != 1 {
			t.Fatalf("Claim after the lease lapsed: got %+v, %v; want the message again", lapsed, err)
		}

		failed, err := m.Apply(outreach.Outcome{Decision: outreach.Decision{Channel: outreach.ChannelEmail}, Err: errors.New("down")},
			outreach.RetryPolicy{MaxAttempts: 3, Min: time.Minute, Max: time.Minute}, t0.Add(2*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Record(ctx, m, failed); err != nil {
			t.Fatal(err)
		}
		if err := s.Record(ctx, m, failed); !errors.Is(err, outreach.ErrConflict) {
			t.Errorf("Record from a stale state: got %v, want ErrConflict", err)
		}
		// Failed: back in the outbox at its next attempt, unclaimed.
		if got, _ := s.Claim(ctx, failed.Due.Add(-time.Second), time.Minute, 10); len(got) != 0 {
			t.Errorf("Claim before the retry is due: got %+v", got)
		}
		retry, err := s.Claim(ctx, failed.Due, time.Minute, 10)
		if err != nil || len(retry) != 1 || retry[0].State != outreach.StateFailed || retry[0].Attempts != 1 {
			t.Fatalf("Claim the retry: got %+v, %v", retry, err)
		}
		sent, err := retry[0].Apply(outreach.Outcome{Decision: outreach.Decision{Channel: outreach.ChannelEmail}}, outreach.DefaultRetryPolicy, failed.Due)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Record(ctx, retry[0], sent); err != nil {
			t.Fatal(err)
		}
		// Sent: out of the outbox for good.
		if got, _ := s.Claim(ctx, t0.Add(24*time.Hour), time.Minute, 10); len(got) != 1 || got[0].ID != later.ID {
			t.Errorf("Claim a day later: got %+v, want only the other message", got)
		}
		if got, _ := s.GetMessage(ctx, m.ID); got.State != outreach.StateSent || got.Attempts != 2 || got.Channel != outreach.ChannelEmail {
			t.Errorf("stored message: got %+v, want sent on email after 2 attempts", got)
		}
	})
}

// TestOutreachClaimOnce has dispatchers claim the same due messages at
// once: each message goes to exactly one.
func TestOutreachClaimOnce(t *testing.T) {
	engines(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		const n = 40
		for i := range n {
			if _, err := s.CreateMessage(ctx, message("j", fmt.Sprintf("c%02d", i), "o", t0)); err != nil {
				t.Fatal(err)
			}
		}
		var mu sync.Mutex
		seen := map[string]int{}
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 10 {
					got, err := s.Claim(ctx, t0, time.Hour, 3)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					for _, m := range got {
						seen[m.ID]++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(seen) != n {
			t.Errorf("claimed %d messages, want %d", len(seen), n)
		}
		for id, c := range seen {
			if c != 1 {
				t.Errorf("message %s claimed %d times", id, c)
			}
		}
	})
}

// TestOutreachCapsUnderConcurrency sends many messages to one customer at
// once under "2 per week" and "3 per local day" caps: exactly the caps'
// numbers go out, whichever replica sends them.
func TestOutreachCapsUnderConcurrency(t *testing.T) {
	caps := map[string][]outreach.Cap{
		"2 per week":  {{Channel: outreach.ChannelEmail, Limit: 2, Window: 7 * 24 * time.Hour}},
		"3 per day":   {{Channel: outreach.ChannelEmail, Limit: 3, PerLocalDay: true}},
		"both, 2 win": {{Channel: outreach.ChannelEmail, Limit: 3, PerLocalDay: true}, {Channel: outreach.ChannelEmail, Limit: 2, Window: 24 * time.Hour}},
	}
	want := map[string]int64{"2 per week": 2, "3 per day": 3, "both, 2 win": 2}
	engines(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for name, cs := range caps {
			t.Run(name, func(t *testing.T) {
				customer := "cap-" + name
				const n = 16
				var ok atomic.Int64
				var wg sync.WaitGroup
				for i := range n {
					m := message(fmt.Sprintf("j%d", i), customer, "o", t0)
					if _, err := s.CreateMessage(ctx, m); err != nil {
						t.Fatal(err)
					}
					wg.Add(1)
					go func() {
						defer wg.Done()
						charges := outreach.Charges(cs, customer, m.JourneyID, outreach.ChannelEmail, false, t0.Add(time.Duration(i)*time.Minute), time.UTC)
						got, err := s.Charge(ctx, m.ID, charges)
						if err != nil {
							t.Error(err)
						}
						if got {
							ok.Add(1)
						}
					}()
				}
				wg.Wait()
				if ok.Load() != want[name] {
					t.Errorf("%d of %d sends passed the caps, want %d", ok.Load(), n, want[name])
				}
			})
		}
		// Charging a message again counts nothing more.
		cs := []outreach.Cap{{Channel: outreach.ChannelSMS, Limit: 1, PerLocalDay: true}}
		m := message("again", "c-again", "o", t0)
		if _, err := s.CreateMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		charges := outreach.Charges(cs, "c-again", "again", outreach.ChannelSMS, false, t0, time.UTC)
		for i := range 2 {
			if got, err := s.Charge(ctx, m.ID, charges); err != nil || !got {
				t.Errorf("charge %d of the same message: got %v, %v; want true", i+1, got, err)
			}
		}
		other := message("other", "c-again", "o", t0)
		if _, err := s.CreateMessage(ctx, other); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Charge(ctx, other.ID, outreach.Charges(cs, "c-again", "other", outreach.ChannelSMS, false, t0, time.UTC)); got {
			t.Error("a second message passed a 1-per-day cap")
		}
	})
}
