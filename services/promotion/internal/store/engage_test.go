package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
	"github.com/tenurehq/tenure/services/promotion/internal/promotion"
	"github.com/tenurehq/tenure/services/promotion/internal/store"
)

// decided stores a message of journey j for customer and moves it to
// state (sent on ch, or suppressed for reason) at t0.
func decided(t *testing.T, s *store.Store, j, customer string, state outreach.State, ch outreach.Channel, reason outreach.SuppressionReason) outreach.Message {
	t.Helper()
	ctx := context.Background()
	m := message(j, customer, "occ", t0)
	if _, err := s.CreateMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	if state == outreach.StateScheduled {
		return m
	}
	next := m
	next.State, next.Channel, next.Reason, next.UpdateTime = state, ch, reason, t0
	if state == outreach.StateSent {
		next.Attempts = 1
	}
	if err := s.Record(ctx, m, next); err != nil {
		t.Fatal(err)
	}
	return next
}

func TestEngagementsRecordedOnce(t *testing.T) {
	engines(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		sent := decided(t, s, "j", "c1", outreach.StateSent, outreach.ChannelEmail, 0)
		waiting := decided(t, s, "j", "c2", outreach.StateScheduled, 0, 0)
		e := outreach.Engagement{MessageID: sent.ID, Action: outreach.ActionDelivered, CustomerID: "c1", Channel: outreach.ChannelEmail, OccurTime: t0.Add(time.Minute)}
		for i, wantDup := range []bool{false, true} {
			again := e
			again.OccurTime = e.OccurTime.Add(time.Duration(i) * time.Hour) // a retry's later time is not kept
			got, dup, err := s.RecordEngagement(ctx, again)
			if err != nil || dup != wantDup || got != e {
				t.Fatalf("RecordEngagement %d: got %+v, duplicate %v, %v; want %+v, duplicate %v", i+1, got, dup, err, e, wantDup)
			}
		}
		if m, err := s.GetMessage(ctx, sent.ID); err != nil || m.State != outreach.StateDelivered || !m.UpdateTime.Equal(e.OccurTime) {
			t.Fatalf("message after the delivery: got %+v, %v; want delivered at %s", m, err, e.OccurTime)
		}
		if h, err := s.MessageHistories(ctx, []string{sent.ID}); err != nil || len(h[sent.ID]) == 0 ||
			h[sent.ID][len(h[sent.ID])-1].State != outreach.StateDelivered || !h[sent.ID][len(h[sent.ID])-1].At.Equal(e.OccurTime) {
			t.Fatalf("history after the delivery: got %+v, %v; want it to end delivered at %s", h[sent.ID], err, e.OccurTime)
		}
		// A delivery of a message never sent is refused, and nothing of
		// it is kept.
		bad := outreach.Engagement{MessageID: waiting.ID, Action: outreach.ActionDelivered, CustomerID: "c2", OccurTime: t0}
		if _, _, err := s.RecordEngagement(ctx, bad); !errors.Is(err, outreach.ErrInvalidTransition) {
			t.Fatalf("delivery of a scheduled message: got %v, want ErrInvalidTransition", err)
		}
		opened := outreach.Engagement{MessageID: sent.ID, Action: outreach.ActionOpened, CustomerID: "c1", Channel: outreach.ChannelEmail, OccurTime: t0.Add(2 * time.Minute)}
		if _, dup, err := s.RecordEngagement(ctx, opened); err != nil || dup {
			t.Fatalf("open: duplicate %v, %v", dup, err)
		}
		pending, err := s.UnreportedEngagements(ctx, 10)
		if err != nil || len(pending) != 2 || pending[0] != e || pending[1] != opened {
			t.Fatalf("UnreportedEngagements: got %+v, %v; want the delivery then the open", pending, err)
		}
		if err := s.MarkEngagementReported(ctx, e.MessageID, e.Action); err != nil {
			t.Fatal(err)
		}
		if pending, err := s.UnreportedEngagements(ctx, 10); err != nil || len(pending) != 1 || pending[0] != opened {
			t.Fatalf("UnreportedEngagements after marking the delivery: got %+v, %v; want the open", pending, err)
		}
	})
}

// TestOutreachFigures checks a journey's report figures worked out by
// hand. Journey j: c1, c2, c3 and c4 were sent a message at t0 (c1 and
// c3 by email, c2 by SMS, c4 by push), c5 and c6 were held out, c7 had
// no consent, c8's message is still scheduled; journey k also messaged
// c1. Orders: c1 o1 at +1 day (1000) and o2 at +10 days (500); c2 o3 an
// hour before its message (400); c4 o4 at +2 days (2000, 500 of it
// refunded); c5 o5 at +3 days (700); c9, never messaged, o6 (900).
func TestOutreachFigures(t *testing.T) {
	engines(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c1 := decided(t, s, "j", "c1", outreach.StateSent, outreach.ChannelEmail, 0)
		decided(t, s, "j", "c2", outreach.StateSent, outreach.ChannelSMS, 0)
		decided(t, s, "j", "c3", outreach.StateSent, outreach.ChannelEmail, 0)
		decided(t, s, "j", "c4", outreach.StateSent, outreach.ChannelPush, 0)
		decided(t, s, "j", "c5", outreach.StateSuppressed, 0, outreach.ReasonHoldout)
		decided(t, s, "j", "c6", outreach.StateSuppressed, 0, outreach.ReasonHoldout)
		decided(t, s, "j", "c7", outreach.StateSuppressed, 0, outreach.ReasonNoConsent)
		decided(t, s, "j", "c8", outreach.StateScheduled, 0, 0)
		decided(t, s, "k", "c1", outreach.StateSent, outreach.ChannelEmail, 0)
		for _, a := range []outreach.Action{outreach.ActionDelivered, outreach.ActionOpened, outreach.ActionClicked} {
			if _, _, err := s.RecordEngagement(ctx, outreach.Engagement{MessageID: c1.ID, Action: a, CustomerID: "c1", OccurTime: t0}); err != nil {
				t.Fatal(err)
			}
		}
		day := 24 * time.Hour
		orders := []promotion.Order{
			{Sequence: 1, OrderID: "o1", CustomerID: "c1", Time: t0.Add(day), Revenue: 1000},
			{Sequence: 2, OrderID: "o2", CustomerID: "c1", Time: t0.Add(10 * day), Revenue: 500},
			{Sequence: 3, OrderID: "o3", CustomerID: "c2", Time: t0.Add(-time.Hour), Revenue: 400},
			{Sequence: 4, OrderID: "o4", CustomerID: "c4", Time: t0.Add(2 * day), Revenue: 2000},
			{Sequence: 5, OrderID: "o4", CustomerID: "c4", Time: t0.Add(3 * day), Revenue: 500, Refund: true},
			{Sequence: 6, OrderID: "o5", CustomerID: "c5", Time: t0.Add(3 * day), Revenue: 700},
			{Sequence: 7, OrderID: "o6", CustomerID: "c9", Time: t0.Add(day), Revenue: 900},
		}
		if err := s.ApplyOrders(ctx, 7, orders, func(promotion.Order, map[string]bool) []promotion.Attribution { return nil }); err != nil {
			t.Fatal(err)
		}
		f, err := s.OutreachFigures(ctx, []string{"j"}, 7*day)
		if err != nil {
			t.Fatal(err)
		}
		counts := map[outreach.State]int64{}
		for _, c := range f.States {
			counts[c.State] += c.Count
		}
		if counts[outreach.StateSent] != 3 || counts[outreach.StateDelivered] != 1 || counts[outreach.StateSuppressed] != 3 || counts[outreach.StateScheduled] != 1 {
			t.Errorf("states: got %v (%+v), want 3 sent, 1 delivered, 3 suppressed, 1 scheduled", counts, f.States)
		}
		if f.Actions[outreach.ActionDelivered] != 1 || f.Actions[outreach.ActionOpened] != 1 || f.Actions[outreach.ActionClicked] != 1 {
			t.Errorf("actions: got %v, want one each", f.Actions)
		}
		// 7 days: c1's o1 and c4's o4 (2000 − 500); c5's o5.
		if want := (outreach.GroupFigures{Messages: 4, Converters: 2, Orders: 2, Revenue: 2500}); f.Treatment != want {
			t.Errorf("treatment, 7 days: got %+v, want %+v", f.Treatment, want)
		}
		if want := (outreach.GroupFigures{Messages: 2, Converters: 1, Orders: 1, Revenue: 700}); f.Control != want {
			t.Errorf("control, 7 days: got %+v, want %+v", f.Control, want)
		}
		// 30 days: c1's o2 too, still one converter.
		f, err = s.OutreachFigures(ctx, []string{"j"}, 30*day)
		if want := (outreach.GroupFigures{Messages: 4, Converters: 2, Orders: 3, Revenue: 3000}); err != nil || f.Treatment != want {
			t.Errorf("treatment, 30 days: got %+v, %v; want %+v", f.Treatment, err, want)
		}
		// Both journeys: c1's second message adds a message and a
		// converter, not its orders again.
		f, err = s.OutreachFigures(ctx, []string{"j", "k"}, 7*day)
		if want := (outreach.GroupFigures{Messages: 5, Converters: 3, Orders: 2, Revenue: 2500}); err != nil || f.Treatment != want {
			t.Errorf("treatment of j and k: got %+v, %v; want %+v", f.Treatment, err, want)
		}
	})
}

// events is profile as the engagements see it: it fails while down.
type events struct {
	down bool
	got  []string
}

func (e *events) RecordEngaged(_ context.Context, en outreach.Engagement) error {
	if e.down {
		return errors.New("profile unavailable")
	}
	e.got = append(e.got, en.EventID())
	return nil
}

// TestEngagementReachesProfileLater records a click while profile is
// down: the click is kept, and ReportPending records its event once
// profile is back, and only once.
func TestEngagementReachesProfileLater(t *testing.T) {
	engines(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		m := decided(t, s, "j", "c1", outreach.StateSent, outreach.ChannelEmail, 0)
		ev := &events{down: true}
		e := &outreach.Engagements{Store: s, Events: ev, LinkSecret: []byte("k"), Clock: func() time.Time { return t0.Add(time.Hour) }}
		links, err := outreach.LinkSigner{Base: "https://api.shop.example.com", Secret: []byte("k")}.Links(outreach.Links{}, m, t0)
		if err != nil {
			t.Fatal(err)
		}
		link, err := links.Click("https://shop.example.com/sale")
		if err != nil {
			t.Fatal(err)
		}
		token := link[strings.Index(link, "token=")+len("token="):]
		r, err := e.Link(ctx, token)
		if err != nil || r.Duplicate || r.RedirectURL != "https://shop.example.com/sale" || r.Action != outreach.ActionClicked {
			t.Fatalf("click while profile is down: got %+v, %v", r, err)
		}
		ev.down = false
		for i, want := range []int{1, 0} {
			if n, err := e.ReportPending(ctx, 10); err != nil || n != want {
				t.Fatalf("ReportPending %d: got %d, %v; want %d", i+1, n, err, want)
			}
		}
		if r, err := e.Link(ctx, token); err != nil || !r.Duplicate || r.RedirectURL != "https://shop.example.com/sale" {
			t.Fatalf("second click: got %+v, %v; want a duplicate that still redirects", r, err)
		}
		if want := "outreach-" + m.ID + "-clicked"; len(ev.got) != 1 || ev.got[0] != want {
			t.Errorf("profile got events %v, want [%s]", ev.got, want)
		}
		// A valid token of another customer's message is refused.
		other := decided(t, s, "j", "c2", outreach.StateSent, outreach.ChannelEmail, 0)
		forged := other
		forged.CustomerID = "c1"
		links, _ = outreach.LinkSigner{Base: "https://x", Secret: []byte("k")}.Links(outreach.Links{}, forged, t0)
		if _, err := e.Link(ctx, links.Open[strings.Index(links.Open, "token=")+len("token="):]); !errors.Is(err, outreach.ErrEngagementForbidden) {
			t.Errorf("token naming another customer: got %v, want ErrEngagementForbidden", err)
		}
	})
}
