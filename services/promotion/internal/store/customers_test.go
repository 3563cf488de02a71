package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
	"github.com/tenurehq/tenure/services/promotion/internal/promotion"
	"github.com/tenurehq/tenure/services/promotion/internal/store"
)

func profileEvent(seq int64, customer string, birth time.Month, day int, zone string) promotion.Order {
	return promotion.Order{Sequence: seq, EventID: fmt.Sprint("e", seq), CustomerID: customer,
		Profile: &promotion.ProfileChange{BirthMonth: birth, BirthDay: day, TimeZone: zone}}
}

func customerIDs(cs []outreach.Customer) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

// TestOutreachCustomers feeds profile changes through the stream cursor's
// transaction and reads them back by birthday, by page and by id.
func TestOutreachCustomers(t *testing.T) {
	engines(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		page := []promotion.Order{
			profileEvent(1, "a", time.March, 31, "Europe/London"),
			profileEvent(2, "b", time.March, 25, ""),
			profileEvent(3, "c", 0, 0, "Asia/Tokyo"),
			profileEvent(4, "d", time.March, 31, "UTC"),
			profileEvent(5, "e", time.July, 1, "UTC"),
		}
		if err := s.ApplyOrders(ctx, 5, page, noGroups); err != nil {
			t.Fatal(err)
		}
		// A change, a deletion and an erasure; then the same page again
		// (a replay after a crash), which changes nothing.
		next := []promotion.Order{
			profileEvent(6, "b", time.March, 31, "America/New_York"),
			{Sequence: 7, CustomerID: "d", Profile: &promotion.ProfileChange{Deleted: true}},
			{Sequence: 8, CustomerID: "e", ErasedAs: "anon-1"},
		}
		for range 2 {
			if err := s.ApplyOrders(ctx, 8, next, noGroups); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.ApplyOrders(ctx, 8, []promotion.Order{profileEvent(6, "b", time.May, 1, "")}, noGroups); err != nil {
			t.Fatal(err)
		}
		if cur, err := s.Cursor(ctx); err != nil || cur != 8 {
			t.Fatalf("cursor: got %d, %v, want 8", cur, err)
		}
		born, err := s.CustomersBornOn(ctx, []outreach.MonthDay{{Month: time.March, Day: 31}, {Month: time.February, Day: 29}}, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		want := []outreach.Customer{{ID: "a", BirthMonth: time.March, BirthDay: 31, TimeZone: "Europe/London"},
			{ID: "b", BirthMonth: time.March, BirthDay: 31, TimeZone: "America/New_York"}}
		if !slices.Equal(born, want) {
			t.Errorf("born on 31 March: got %+v, want %+v", born, want)
		}
		if born, err = s.CustomersBornOn(ctx, []outreach.MonthDay{{Month: time.March, Day: 31}}, "a", 10); err != nil || !slices.Equal(customerIDs(born), []string{"b"}) {
			t.Errorf("born on 31 March after a: got %v, %v, want [b]", customerIDs(born), err)
		}
		all, err := s.ListCustomers(ctx, "", 2)
		if err != nil || !slices.Equal(customerIDs(all), []string{"a", "b"}) {
			t.Errorf("first page: got %v, %v, want [a b]", customerIDs(all), err)
		}
		if all, err = s.ListCustomers(ctx, "b", 2); err != nil || !slices.Equal(customerIDs(all), []string{"c"}) {
			t.Errorf("second page: got %v, %v, want [c] (d deleted, e erased)", customerIDs(all), err)
		}
		got, err := s.LookupCustomers(ctx, []string{"c", "d", "zz"})
		if err != nil || len(got) != 1 || got[0] != (outreach.Customer{ID: "c", TimeZone: "Asia/Tokyo"}) {
			t.Errorf("lookup: got %+v, %v, want c in Asia/Tokyo only", got, err)
		}
	})
}

// TestCreateMessages writes a batch with messages that exist already and
// repeats inside it: each message is stored once, with its outbox entry
// and its points.
func TestCreateMessages(t *testing.T) {
	engines(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		first := message("pts", "c0", "points:2026-06-05", t0)
		if _, err := s.CreateMessage(ctx, first); err != nil {
			t.Fatal(err)
		}
		var batch []outreach.Message
		for i := range 1200 { // more than one INSERT's worth
			m := message("pts", fmt.Sprint("c", i), "points:2026-06-05", t0.Add(time.Duration(i)*time.Second))
			m.ExpiringPoints, m.PointsExpiry = int64(i+1), t0.AddDate(0, 0, 4)
			batch = append(batch, m)
		}
		batch = append(batch, batch[7])
		n, err := s.CreateMessages(ctx, batch)
		if err != nil || n != 1199 {
			t.Fatalf("CreateMessages: got %d, %v, want 1199 (c0 existed, c7 twice)", n, err)
		}
		if n, err := s.CreateMessages(ctx, batch[:10]); err != nil || n != 0 {
			t.Errorf("again: got %d, %v, want 0", n, err)
		}
		got, err := s.GetMessage(ctx, batch[5].ID)
		if err != nil || got.ExpiringPoints != 6 || !got.PointsExpiry.Equal(t0.AddDate(0, 0, 4)) || !got.Due.Equal(batch[5].Due) {
			t.Errorf("message: got %+v, %v, want 6 points expiring %s", got, err, t0.AddDate(0, 0, 4))
		}
		claimed, err := s.Claim(ctx, t0.Add(time.Hour), time.Minute, 2000)
		if err != nil || len(claimed) != 1200 {
			t.Errorf("claim: got %d, %v, want every message's outbox entry (1200)", len(claimed), err)
		}
	})
}
