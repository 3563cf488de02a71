package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"github.com/tenurehq/tenure/services/promotion/internal/channel"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
	"github.com/tenurehq/tenure/services/promotion/internal/promotion"
	"github.com/tenurehq/tenure/services/promotion/internal/store"
)

// TestOutreachCoupons: messages created at once, by many goroutines, each
// get a different free code of their journey's pool, assigned to their
// customer; once the pool is empty they get none; a suppressed message
// gives its code back for the next message.
func TestOutreachCoupons(t *testing.T) {
	engines(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		pool := outreach.CouponPool{CampaignID: "spring", PromotionID: "welcome"}
		var codes []promotion.Code
		for i := range 5 {
			codes = append(codes, promotion.Code{Code: fmt.Sprintf("W-%02d", i), CampaignID: pool.CampaignID, PromotionID: pool.PromotionID, MaxUses: 1})
		}
		codes = append(codes, promotion.Code{Code: "OTHER-1", CampaignID: pool.CampaignID, PromotionID: "other", MaxUses: 1},
			promotion.Code{Code: "MINE-1", CampaignID: pool.CampaignID, PromotionID: pool.PromotionID, MaxUses: 1, CustomerID: "zoe"})
		if _, err := s.InsertCodes(ctx, codes, nil); err != nil {
			t.Fatal(err)
		}
		msgs := make([]outreach.Message, 8)
		var wg sync.WaitGroup
		for i := range msgs {
			msgs[i] = message("welcome", fmt.Sprintf("c%d", i), "first-order", t0)
			msgs[i].Coupon = pool
			wg.Go(func() {
				if _, err := s.CreateMessage(ctx, msgs[i]); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		owner := map[string]string{} // code → customer, from the messages
		var without []outreach.Message
		for _, m := range msgs {
			got, err := s.GetMessage(ctx, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.CouponCode == "" {
				without = append(without, got)
				continue
			}
			if prev, dup := owner[got.CouponCode]; dup {
				t.Errorf("code %s given to %s and %s", got.CouponCode, prev, got.CustomerID)
			}
			owner[got.CouponCode] = got.CustomerID
		}
		if len(owner) != 5 || len(without) != 3 {
			t.Fatalf("got %d messages with a code and %d without, want 5 and 3", len(owner), len(without))
		}
		stored := assignedCodes(t, s, pool)
		for code, customer := range owner {
			if stored[code] != customer {
				t.Errorf("code %s: assigned to %q, want %q", code, stored[code], customer)
			}
		}

		// A message suppressed (no consent) gives its code back, and the
		// next message takes it.
		var coded outreach.Message
		for _, m := range msgs {
			if got, _ := s.GetMessage(ctx, m.ID); got.CouponCode != "" {
				coded = got
				break
			}
		}
		next, err := coded.Apply(outreach.Outcome{Decision: outreach.Decision{Suppressed: outreach.ReasonNoConsent}}, outreach.DefaultRetryPolicy, t0)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Record(ctx, coded, next); err != nil {
			t.Fatal(err)
		}
		if got := assignedCodes(t, s, pool)[coded.CouponCode]; got != "" {
			t.Errorf("after suppression code %s is still assigned to %q", coded.CouponCode, got)
		}
		late := message("welcome", "c9", "first-order", t0)
		late.Coupon = pool
		if _, err := s.CreateMessage(ctx, late); err != nil {
			t.Fatal(err)
		}
		if got, err := s.GetMessage(ctx, late.ID); err != nil || got.CouponCode != coded.CouponCode {
			t.Errorf("the next message got code %q, %v; want the returned %s", got.CouponCode, err, coded.CouponCode)
		}
	})
}

// assignedCodes returns the customer each code of pool is assigned to.
func assignedCodes(t *testing.T, s *store.Store, pool outreach.CouponPool) map[string]string {
	t.Helper()
	codes, err := s.ListCodes(context.Background(), pool.CampaignID, pool.PromotionID, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, c := range codes {
		out[c.Code] = c.CustomerID
	}
	return out
}

// TestDispatchCoupons: a message carries the code it was given when
// created; one whose customer has no consent is suppressed and its code
// goes back to the pool; one created when the pool was empty is
// suppressed for NO_COUPON.
func TestDispatchCoupons(t *testing.T) {
	engines(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		pool := outreach.CouponPool{CampaignID: "spring", PromotionID: "welcome"}
		if _, err := s.InsertCodes(ctx, []promotion.Code{{Code: "W-1", CampaignID: "spring", PromotionID: "welcome", MaxUses: 1},
			{Code: "W-2", CampaignID: "spring", PromotionID: "welcome", MaxUses: 1}}, nil); err != nil {
			t.Fatal(err)
		}
		tmpl, err := outreach.Compile("template", outreach.Template{Subject: "A gift", Text: "Your code: {{.CouponCode}}"})
		if err != nil {
			t.Fatal(err)
		}
		j := outreach.Journey{ID: "welcome", Trigger: outreach.Trigger{Kind: outreach.TriggerFirstOrder},
			Channels: []outreach.Channel{outreach.ChannelEmail}, Coupon: pool}
		email := func(c outreach.Channel) bool { return c == outreach.ChannelEmail }
		people := contacts{"a": {Recipient: outreach.Recipient{Consent: email}}, "b": {}, "c": {Recipient: outreach.Recipient{Consent: email}}}
		sent := &capture{}
		d := &outreach.Dispatcher{Store: s, Contacts: people, Retry: outreach.DefaultRetryPolicy, Zone: time.UTC,
			Journeys: oneJourney{outreach.Content{Journey: j, Templates: map[outreach.TemplateKey]*outreach.Compiled{{Channel: outreach.ChannelEmail}: tmpl}}},
			Sender:   &channel.Router{Providers: map[outreach.Channel]channel.Provider{outreach.ChannelEmail: sent}},
			Clock:    func() time.Time { return t0 }}
		ids := map[string]string{}
		for _, c := range []string{"a", "b", "c"} { // one at a time: a and b get the codes
			m := outreach.NewMessage(j, c, outreach.FirstOrderOccurrence, t0, time.UTC, outreach.QuietHours{}, t0)
			if _, err := s.CreateMessage(ctx, m); err != nil {
				t.Fatal(err)
			}
			ids[c] = m.ID
		}
		if _, err := d.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		for c, want := range map[string]string{"a": "sent ", "b": "suppressed no_consent", "c": "suppressed no_coupon"} {
			m, _ := s.GetMessage(ctx, ids[c])
			if got := fmt.Sprintf("%s %s", m.State, m.Reason); got != want {
				t.Errorf("%s: got %q, want %q", c, got, want)
			}
		}
		a, _ := s.GetMessage(ctx, ids["a"])
		if len(sent.got) != 1 || sent.got[0].Text != "Your code: "+a.CouponCode || a.CouponCode == "" {
			t.Errorf("sent %+v; want one email carrying a's code %q", sent.got, a.CouponCode)
		}
		b, _ := s.GetMessage(ctx, ids["b"])
		if owner := assignedCodes(t, s, pool)[b.CouponCode]; b.CouponCode == "" || owner != "" {
			t.Errorf("b's code %q is assigned to %q after b's message was suppressed, want it free", b.CouponCode, owner)
		}
	})
}

// TestChargeAll: one transaction charges several messages in order; a
// message stopped by one cap counts none of its charges, and the messages
// after it go on.
func TestChargeAll(t *testing.T) {
	engines(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var ids []string
		for i := range 4 {
			m := message("j", fmt.Sprintf("c%d", i), "o", t0)
			if _, err := s.CreateMessage(ctx, m); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, m.ID)
		}
		day := func(key string) outreach.Charge {
			return outreach.Charge{Key: key, Limit: 1, Day: "2026-06-01", At: t0}
		}
		ok, err := s.ChargeAll(ctx, []outreach.ChargeRequest{
			{MessageID: ids[0], Charges: []outreach.Charge{day("week")}},                 // takes "week"
			{MessageID: ids[1], Charges: []outreach.Charge{day("journey"), day("week")}}, // "week" is full: "journey" not counted
			{MessageID: ids[2], Charges: []outreach.Charge{day("journey")}},              // so "journey" is still free
			{MessageID: ids[0], Charges: []outreach.Charge{day("other")}},                // charged before: counts nothing again
		})
		if want := []bool{true, false, true, true}; err != nil || !slices.Equal(ok, want) {
			t.Fatalf("ChargeAll = %v, %v; want %v", ok, err, want)
		}
		if got, err := s.Charge(ctx, ids[3], []outreach.Charge{day("other")}); err != nil || !got {
			t.Errorf("\"other\" was counted by a message charged before: %v, %v", got, err)
		}
	})
}

// TestRecordAll: one transaction records several changes in order; a
// change from a stale state conflicts and changes nothing, a second change
// of the same message builds on the first, and each message's history and
// outbox entry follow its last state.
func TestRecordAll(t *testing.T) {
	engines(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var ms []outreach.Message
		for i := range 3 {
			m := message("j", fmt.Sprintf("c%d", i), "o", t0)
			if _, err := s.CreateMessage(ctx, m); err != nil {
				t.Fatal(err)
			}
			ms = append(ms, m)
		}
		email := outreach.Decision{Channel: outreach.ChannelEmail}
		retry := outreach.RetryPolicy{MaxAttempts: 3, Min: time.Hour, Max: time.Hour}
		apply := func(m outreach.Message, o outreach.Outcome) outreach.Message {
			t.Helper()
			next, err := m.Apply(o, retry, t0.Add(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			return next
		}
		failed := apply(ms[0], outreach.Outcome{Decision: email, Err: errors.New("down")})
		sent := apply(failed, outreach.Outcome{Decision: email})
		stale := ms[1]
		stale.Attempts = 5
		suppressed := apply(ms[2], outreach.Outcome{Decision: outreach.Decision{Suppressed: outreach.ReasonNoConsent}})
		conflicts, err := s.RecordAll(ctx, []outreach.Change{
			{Prev: ms[0], Next: failed},
			{Prev: stale, Next: apply(ms[1], outreach.Outcome{Decision: email})},
			{Prev: failed, Next: sent},
			{Prev: ms[2], Next: suppressed},
			{Prev: ms[2], Next: suppressed}, // the message moved on: stale now
		})
		if err != nil {
			t.Fatal(err)
		}
		for i, wantConflict := range []bool{false, true, false, false, true} {
			if got := errors.Is(conflicts[i], outreach.ErrConflict); got != wantConflict {
				t.Errorf("change %d: conflict %v, want %v", i, conflicts[i], wantConflict)
			}
		}
		for i, want := range []outreach.State{outreach.StateSent, outreach.StateScheduled, outreach.StateSuppressed} {
			if got, err := s.GetMessage(ctx, ms[i].ID); err != nil || got.State != want {
				t.Errorf("message %d: state %v, %v; want %v", i, got.State, err, want)
			}
		}
		hist, err := s.MessageHistories(ctx, []string{ms[0].ID, ms[1].ID, ms[2].ID})
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range [][]outreach.State{
			{outreach.StateScheduled, outreach.StateFailed, outreach.StateSent},
			{outreach.StateScheduled},
			{outreach.StateScheduled, outreach.StateSuppressed},
		} {
			var got []outreach.State
			for _, c := range hist[ms[i].ID] {
				got = append(got, c.State)
			}
			if !slices.Equal(got, want) {
				t.Errorf("message %d history %v, want %v", i, got, want)
			}
		}
		// Only the untouched message is still in the outbox.
		claimed, err := s.Claim(ctx, t0.Add(24*time.Hour), time.Minute, 10)
		if err != nil || len(claimed) != 1 || claimed[0].ID != ms[1].ID {
			t.Errorf("outbox a day later: %+v, %v; want only message 1", claimed, err)
		}
	})
}

// TestChargeAllAcrossReplicas: under "2 per day", each customer has had
// one message today; then two replicas (each its own pool on the same
// database) charge overlapping batches at once, each batch holding two
// messages per customer: exactly one more message per customer passes,
// whichever replica and batch carries it.
func TestChargeAllAcrossReplicas(t *testing.T) {
	sqlstoretest.EnginesDSN(t, func(t *testing.T, db *sqlstore.DB, dsn string) {
		ctx := context.Background()
		first := store.New(db)
		if err := first.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		db2, err := sqlstore.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db2.Close()
		replicas := []*store.Store{first, store.New(db2)}
		const customers, batches, perBatch = 20, 8, 10
		caps := []outreach.Cap{{Channel: outreach.ChannelSMS, Limit: 2, PerLocalDay: true}}
		for c := range customers { // the counters exist, at 1
			customer := fmt.Sprintf("c%02d", c)
			m := message("earlier", customer, "o", t0)
			if _, err := first.CreateMessage(ctx, m); err != nil {
				t.Fatal(err)
			}
			if ok, err := first.Charge(ctx, m.ID, outreach.Charges(caps, customer, m.JourneyID, outreach.ChannelSMS, false, t0, time.UTC)); err != nil || !ok {
				t.Fatalf("first message to %s: %v, %v", customer, ok, err)
			}
		}
		var reqs [batches][]outreach.ChargeRequest
		for b := range batches {
			for k := range perBatch {
				customer := fmt.Sprintf("c%02d", (b*perBatch/2+k/2)%customers) // two messages each
				m := message(fmt.Sprintf("j%d-%d", b, k), customer, "o", t0)
				if _, err := first.CreateMessage(ctx, m); err != nil {
					t.Fatal(err)
				}
				reqs[b] = append(reqs[b], outreach.ChargeRequest{MessageID: m.ID,
					Charges: outreach.Charges(caps, customer, m.JourneyID, outreach.ChannelSMS, false, t0, time.UTC)})
			}
		}
		var mu sync.Mutex
		passed := map[string]int{}
		var wg sync.WaitGroup
		for b := range batches {
			wg.Go(func() {
				ok, err := replicas[b%2].ChargeAll(ctx, reqs[b])
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				for i, r := range reqs[b] {
					if ok[i] {
						passed[r.Charges[0].Key]++
					}
				}
			})
		}
		wg.Wait()
		if len(passed) != customers {
			t.Errorf("%d customers got a message, want %d", len(passed), customers)
		}
		for key, n := range passed {
			if n != 1 {
				t.Errorf("%s: %d more messages passed a 2-per-day cap, want 1", key, n)
			}
		}
	})
}
