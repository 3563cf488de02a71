// Package storetest is the conformance suite of the feedback storage
// interfaces: every storage engine runs the same tests through Run.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/feedback/internal/feedback"
)

// Opener returns a new, empty, migrated store for one test.
type Opener func(t *testing.T) feedback.Store

// Run runs the conformance suite against the stores open returns.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s feedback.Store)
	}{
		{"TicketRoundTrip", testTicketRoundTrip},
		{"UpdateTicket", testUpdateTicket},
		{"Batches", testBatches},
		{"ListTickets", testListTickets},
		{"DueAndContacts", testDueAndContacts},
		{"Rules", testRules},
		{"Policies", testPolicies},
		{"Surveys", testSurveys},
		{"Operations", testOperations},
		{"Erasures", testErasures},
		{"Invitations", testInvitations},
		{"TicketInvites", testTicketInvites},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

var (
	errTransient = errors.New("outreach unavailable")
	ctx          = context.Background()
	t0           = time.Date(2026, 12, 2, 9, 0, 0, 123456000, time.UTC)
)

func ticket(id, customer string, status feedback.Status, created time.Time) *feedback.Ticket {
	return &feedback.Ticket{
		ID: id, CustomerID: customer, Email: "ada@example.com", Type: feedback.TypeComplaint, Channel: "web",
		Subject: "退款", Body: "我要退款", OrderID: "o-1", Priority: feedback.PriorityHigh, Queue: "billing", Assignee: "bo",
		Tags: []string{"refund", "vip"}, Status: status, History: []feedback.StatusChange{{Status: status, At: created}},
		PolicyID: "p", MatchedRules: []string{"r1"}, SurveyResponse: "surveys/s/responses/x",
		CreateTime: created, UpdateTime: created, FirstReplyDue: created.Add(2 * time.Hour), ResolutionDue: created.Add(8 * time.Hour),
		NextEscalation: created.Add(time.Hour),
		Comments:       []feedback.Comment{{ID: "c1", FromAgent: true, Author: "bo", Body: "hi", Internal: true, CreateTime: created}},
		Escalations:    []feedback.EscalationEntry{{StepID: "warn", Actions: []string{"notified"}, ApplyTime: created, Escalation: "escalations/e"}},
	}
}

func testTicketRoundTrip(t *testing.T, s feedback.Store) {
	want := ticket("t1", "c-1", feedback.StatusNew, t0)
	if err := s.CreateTicket(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetTicket(ctx, "t1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if err := s.CreateTicket(ctx, ticket("t1", "c-1", feedback.StatusNew, t0)); !errors.Is(err, feedback.ErrAlreadyExists) {
		t.Fatalf("second create: got %v, want ErrAlreadyExists", err)
	}
	if _, err := s.GetTicket(ctx, "nope"); !errors.Is(err, feedback.ErrTicketNotFound) {
		t.Fatalf("get unknown: got %v, want ErrTicketNotFound", err)
	}
}

func testUpdateTicket(t *testing.T, s feedback.Store) {
	if err := s.CreateTicket(ctx, ticket("t1", "c-1", feedback.StatusNew, t0)); err != nil {
		t.Fatal(err)
	}
	got, err := s.UpdateTicket(ctx, "t1", func(tk *feedback.Ticket) error {
		tk.Status, tk.Queue, tk.SolveTime = feedback.StatusSolved, "done", t0.Add(time.Hour)
		return nil
	})
	if err != nil || got.Version != 2 || got.Queue != "done" {
		t.Fatalf("update: %v, version %d, queue %q; want version 2, queue done", err, got.Version, got.Queue)
	}
	boom := errors.New("boom")
	if _, err := s.UpdateTicket(ctx, "t1", func(tk *feedback.Ticket) error { tk.Queue = "lost"; return boom }); !errors.Is(err, boom) {
		t.Fatalf("failed update: got %v, want boom", err)
	}
	read, _ := s.GetTicket(ctx, "t1")
	if read.Queue != "done" || read.Status != feedback.StatusSolved || read.Version != 2 || !read.SolveTime.Equal(t0.Add(time.Hour)) {
		t.Fatalf("after a failed update read %+v, want the first update only", read)
	}
	if _, err := s.UpdateTicket(ctx, "nope", func(*feedback.Ticket) error { return nil }); !errors.Is(err, feedback.ErrTicketNotFound) {
		t.Fatalf("update unknown: got %v, want ErrTicketNotFound", err)
	}
}

func ids(ts []feedback.Ticket) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

func testListTickets(t *testing.T, s feedback.Store) {
	a := ticket("a", "c-1", feedback.StatusOpen, t0)
	b := ticket("b", "c-2", feedback.StatusPending, t0)
	b.Queue = "general"
	c := ticket("c", "c-1", feedback.StatusSolved, t0)
	c.FirstReplyTime, c.SolveTime = t0.Add(time.Hour), t0.Add(3*time.Hour) // met both targets
	a.FirstReplyTime = t0.Add(3 * time.Hour)                               // replied late
	for _, tk := range []*feedback.Ticket{a, b, c} {
		if err := s.CreateTicket(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	now := t0.Add(time.Hour)
	tests := []struct {
		name  string
		f     feedback.TicketFilter
		after string
		limit int
		want  []string
	}{
		{"all newest first", feedback.TicketFilter{}, "", 10, []string{"c", "b", "a"}},
		{"page", feedback.TicketFilter{}, "c", 1, []string{"b"}},
		{"status", feedback.TicketFilter{Status: feedback.StatusPending}, "", 10, []string{"b"}},
		{"queue", feedback.TicketFilter{Queue: "billing"}, "", 10, []string{"c", "a"}},
		{"customer", feedback.TicketFilter{CustomerID: "c-1"}, "", 10, []string{"c", "a"}},
		{"breached: a late reply", feedback.TicketFilter{Breached: true, Now: now}, "", 10, []string{"a"}},
		{"breached later: b past due", feedback.TicketFilter{Breached: true, Now: t0.Add(9 * time.Hour)}, "", 10, []string{"b", "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ListTickets(ctx, tt.f, tt.after, tt.limit)
			if err != nil || !slices.Equal(ids(got), tt.want) {
				t.Fatalf("got %v, %v; want %v", ids(got), err, tt.want)
			}
		})
	}
}

func deref(ts []*feedback.Ticket) []feedback.Ticket {
	out := make([]feedback.Ticket, len(ts))
	for i, t := range ts {
		out[i] = *t
	}
	return out
}

func testDueAndContacts(t *testing.T, s feedback.Store) {
	for i, id := range []string{"a", "b", "c", "d"} {
		tk := ticket(id, "c-1", feedback.StatusOpen, t0)
		tk.NextEscalation = t0.Add(time.Duration(i) * time.Hour)
		if id == "d" {
			tk.NextEscalation, tk.CustomerID = time.Time{}, ""
		}
		if err := s.CreateTicket(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	var each []string
	err := s.EachTicket(ctx, t0, t0.Add(time.Second), func(tk *feedback.Ticket) error { each = append(each, tk.ID); return nil })
	if err != nil || !slices.Equal(each, []string{"a", "b", "c", "d"}) {
		t.Fatalf("each ticket: %v, %v; want a to d", each, err)
	}
	each = nil
	if err := s.EachTicket(ctx, t0.Add(time.Second), time.Time{}, func(tk *feedback.Ticket) error { each = append(each, tk.ID); return nil }); err != nil || each != nil {
		t.Fatalf("each ticket created later: %v, %v; want none", each, err)
	}
	due := func(asOf time.Time, after string, limit int) []string {
		t.Helper()
		got, err := s.UpdateDueTickets(ctx, asOf, after, limit, func(tk *feedback.Ticket) error { tk.Assignee = "sweeper"; return nil })
		if err != nil {
			t.Fatal(err)
		}
		return ids(deref(got))
	}
	if got := due(t0.Add(time.Hour), "", 10); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("due: %v; want [a b]", got)
	}
	if got := due(t0.Add(5*time.Hour), "a", 1); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("due page after a: %v, want [b]", got)
	}
	if a, _ := s.GetTicket(ctx, "a"); a.Assignee != "sweeper" || a.Version != 2 {
		t.Fatalf("due ticket a after the update: assignee %q, version %d", a.Assignee, a.Version)
	}
	if err := s.MarkContactRecorded(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.PendingContactIDs(ctx, 10); err != nil || !slices.Equal(got, []string{"a", "c"}) {
		t.Fatalf("pending contacts: %v, %v; want [a c] (b recorded, d a guest)", got, err)
	}
}

func testRules(t *testing.T, s feedback.Store) {
	r2 := feedback.Rule{ID: "second", Position: 2, Keywords: []string{"退款"}, SetType: feedback.TypeComplaint, CreateTime: t0}
	r1 := feedback.Rule{ID: "first", DisplayName: "VIP", Position: 1, Condition: `customer.value_tier == "vip"`,
		SetPriority: feedback.PriorityUrgent, SetQueue: "vip", AddTags: []string{"vip"}, CreateTime: t0}
	for _, r := range []feedback.Rule{r2, r1} {
		if err := s.CreateRule(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateRule(ctx, r1); !errors.Is(err, feedback.ErrAlreadyExists) {
		t.Fatalf("duplicate rule: got %v, want ErrAlreadyExists", err)
	}
	got, err := s.ListRules(ctx)
	if err != nil || !reflect.DeepEqual(got, []feedback.Rule{r1, r2}) {
		t.Fatalf("rules: %+v, %v; want %+v", got, err, []feedback.Rule{r1, r2})
	}
	if n, err := s.CountRules(ctx); n != 2 || err != nil {
		t.Fatalf("count: %d, %v; want 2", n, err)
	}
}

func testPolicies(t *testing.T, s feedback.Store) {
	spec := &feedback.CalendarSpec{TimeZone: "Europe/Berlin", Hours: []feedback.DayHours{{Day: 1, Start: "09:00", End: "17:00"}},
		Holidays: []string{"2026-12-25"}}
	p := feedback.Policy{ID: "vip", Priority: feedback.PriorityHigh, Queue: "vip", ValueTier: "vip", FirstReply: time.Hour,
		Resolution: 8 * time.Hour, CalendarSpec: spec, PauseOnHold: true, CreateTime: t0,
		Steps: []feedback.Step{{ID: "warn", Clock: feedback.ClockFirstReply, Offset: -30 * time.Minute, NotifyURL: "http://h"}}}
	if err := s.CreatePolicy(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := s.CreatePolicy(ctx, p); !errors.Is(err, feedback.ErrAlreadyExists) {
		t.Fatalf("duplicate policy: got %v, want ErrAlreadyExists", err)
	}
	got, err := s.ListPolicies(ctx)
	if err != nil || len(got) != 1 {
		t.Fatalf("policies: %v, %v", got, err)
	}
	g := got[0]
	if g.Calendar == nil || g.Calendar.Location.String() != "Europe/Berlin" || !g.Calendar.Holidays["2026-12-25"] {
		t.Fatalf("calendar not compiled back: %+v", g.Calendar)
	}
	g.Calendar = nil
	if !reflect.DeepEqual(g, p) {
		t.Fatalf("got %+v\nwant %+v", g, p)
	}
}

func testSurveys(t *testing.T, s feedback.Store) {
	sv := feedback.Survey{ID: "nps", DisplayName: "After delivery", Kind: feedback.KindNPS, Trigger: "order_delivered",
		FollowUpQueue: "follow-up", PromoterPoints: 50, CreateTime: t0}
	if err := s.CreateSurvey(ctx, sv); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetSurvey(ctx, "nps"); err != nil || !reflect.DeepEqual(*got, sv) {
		t.Fatalf("survey: %+v, %v; want %+v", got, err, sv)
	}
	if _, err := s.GetSurvey(ctx, "nope"); !errors.Is(err, feedback.ErrSurveyNotFound) {
		t.Fatalf("unknown survey: got %v", err)
	}
	r1 := feedback.Response{SurveyID: "nps", ID: "r1", CustomerID: "c-1", Score: 3, Comment: "slow", Channel: "app",
		ValueTier: "vip", LoyaltyTier: "gold", Reward: feedback.RewardNone, CreateTime: t0}
	r2 := r1
	r2.ID, r2.Score = "r2", 10
	for _, r := range []feedback.Response{r1, r2} {
		if err := s.CreateResponse(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetResponseOutcome(ctx, "nps", "r1", "t-9", feedback.RewardNone, time.Time{}); err != nil {
		t.Fatal(err)
	}
	got, err := s.DismissResponse(ctx, "nps", "r2")
	if err != nil || !got.Dismissed {
		t.Fatalf("dismiss: %+v, %v", got, err)
	}
	if _, err := s.DismissResponse(ctx, "nps", "nope"); !errors.Is(err, feedback.ErrResponseNotFound) {
		t.Fatalf("dismiss unknown: got %v", err)
	}
	list, err := s.ListResponses(ctx, "nps")
	r1.FollowUpTicket, r2.Dismissed = "t-9", true
	if err != nil || !reflect.DeepEqual(list, []feedback.Response{r2, r1}) {
		t.Fatalf("responses: %+v, %v; want %+v", list, err, []feedback.Response{r2, r1})
	}
	testPromoterRewarded(t, s)
	testPendingRewards(t, s)
}

// testPendingRewards runs after testPromoterRewarded: an answer whose
// thanks is pending is due from its retry time, oldest first, is delayed by
// a failed retry, and stops being due when its outcome is set.
func testPendingRewards(t *testing.T, s feedback.Store) {
	due := func(at time.Time) []string {
		t.Helper()
		got, err := s.RewardsDue(ctx, at, 10)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range got {
			out = append(out, fmt.Sprintf("%s %s %d", p.ID, p.Reward, p.Attempts))
		}
		return out
	}
	if got := due(t0.Add(time.Hour)); len(got) != 0 {
		t.Fatalf("due with no pending reward: %v", got)
	}
	for _, id := range []string{"r3", "r4"} {
		if err := s.CreateResponse(ctx, feedback.Response{SurveyID: "nps", ID: id, CustomerID: "c-3", Score: 10,
			Reward: feedback.RewardNone, CreateTime: t0}); err != nil {
			t.Fatal(err)
		}
	}
	for id, at := range map[string]time.Time{"r3": t0.Add(time.Minute), "r4": t0} {
		if err := s.SetResponseOutcome(ctx, "nps", id, "", feedback.RewardUnavailable, at); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := due(t0), []string{"r4 unavailable 0"}; !slices.Equal(got, want) {
		t.Fatalf("due at t0: %v, want %v", got, want)
	}
	if got, want := due(t0.Add(time.Minute)), []string{"r4 unavailable 0", "r3 unavailable 0"}; !slices.Equal(got, want) {
		t.Fatalf("due a minute later: %v, want %v", got, want)
	}
	if err := s.DelayReward(ctx, "nps", "r4", 1, t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, want := due(t0.Add(time.Minute)), []string{"r3 unavailable 0"}; !slices.Equal(got, want) {
		t.Fatalf("due after r4's delay: %v, want %v", got, want)
	}
	if err := s.SetResponseOutcome(ctx, "nps", "r3", "", feedback.RewardGranted, time.Time{}); err != nil {
		t.Fatal(err)
	}
	// Delaying a reward no longer pending leaves it so.
	if err := s.DelayReward(ctx, "nps", "r3", 1, t0); err != nil {
		t.Fatal(err)
	}
	if got, want := due(t0.Add(time.Hour)), []string{"r4 unavailable 1"}; !slices.Equal(got, want) {
		t.Fatalf("due after r3 was granted: %v, want %v", got, want)
	}
	if err := s.SetResponseOutcome(ctx, "nps", "r4", "", feedback.RewardNotMember, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got := due(t0.Add(time.Hour)); len(got) != 0 {
		t.Fatalf("due after every outcome was set: %v", got)
	}
}

// testPromoterRewarded runs after testSurveys' answers r1 and r2 of c-1.
func testPromoterRewarded(t *testing.T, s feedback.Store) {
	rewarded := func(survey, customer string) bool {
		t.Helper()
		ok, err := s.PromoterRewarded(ctx, survey, customer)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if rewarded("nps", "c-1") {
		t.Fatal("c-1 rewarded before any reward was granted")
	}
	for _, st := range []feedback.RewardState{feedback.RewardUnavailable, feedback.RewardNotMember} {
		if err := s.SetResponseOutcome(ctx, "nps", "r2", "", st, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if rewarded("nps", "c-1") {
			t.Fatalf("c-1 rewarded with an answer whose reward is %s", st)
		}
	}
	for _, st := range []feedback.RewardState{feedback.RewardGranted, feedback.RewardAlreadyGranted} {
		if err := s.SetResponseOutcome(ctx, "nps", "r2", "", st, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if !rewarded("nps", "c-1") || rewarded("nps", "c-2") || rewarded("csat", "c-1") {
			t.Fatalf("with r2 %s: want c-1 rewarded for nps only", st)
		}
	}
}

func testOperations(t *testing.T, s feedback.Store) {
	op := feedback.Operation{ID: "e1", AsOf: t0, CreateTime: t0, Scheduled: true}
	if err := s.CreateOperation(ctx, op); err != nil {
		t.Fatal(err)
	}
	op.Done, op.Failed, op.TicketsScanned, op.StepsApplied, op.EndTime, op.ErrorMessage = true, true, 7, 3, t0.Add(time.Second), "x"
	if err := s.UpdateOperation(ctx, op); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetOperation(ctx, "e1"); err != nil || !reflect.DeepEqual(*got, op) {
		t.Fatalf("operation: %+v, %v; want %+v", got, err, op)
	}
	if _, err := s.GetOperation(ctx, "nope"); !errors.Is(err, feedback.ErrEscalationNotFound) {
		t.Fatalf("unknown operation: got %v", err)
	}
}

func testBatches(t *testing.T, s feedback.Store) {
	batch := []*feedback.Ticket{ticket("a", "c-1", feedback.StatusOpen, t0), ticket("b", "c-2", feedback.StatusOpen, t0)}
	if err := s.CreateTickets(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTickets(ctx, []*feedback.Ticket{ticket("c", "c-3", feedback.StatusOpen, t0), ticket("a", "c-1", feedback.StatusOpen, t0)}); !errors.Is(err, feedback.ErrAlreadyExists) {
		t.Fatalf("batch with a duplicate: got %v, want ErrAlreadyExists", err)
	}
	if _, err := s.GetTicket(ctx, "c"); !errors.Is(err, feedback.ErrTicketNotFound) {
		t.Fatalf("a failed batch kept ticket c: %v", err)
	}
	if got, err := s.UpdateTickets(ctx, nil, func(*feedback.Ticket) error { return nil }); err != nil || len(got) != 0 {
		t.Fatalf("update no tickets: %v, %v", got, err)
	}
	got, err := s.UpdateTickets(ctx, []string{"a", "b"}, func(tk *feedback.Ticket) error { tk.Queue = "moved"; return nil })
	if err != nil || len(got) != 2 || got[0].Version != 2 || got[1].Queue != "moved" {
		t.Fatalf("update batch: %v, %v", got, err)
	}
	_, err = s.UpdateTickets(ctx, []string{"a", "nope"}, func(tk *feedback.Ticket) error { tk.Queue = "lost"; return nil })
	if !errors.Is(err, feedback.ErrTicketNotFound) {
		t.Fatalf("batch with an unknown id: got %v, want ErrTicketNotFound", err)
	}
	if a, _ := s.GetTicket(ctx, "a"); a.Queue != "moved" {
		t.Fatalf("a failed batch changed ticket a: queue %q", a.Queue)
	}
}

func testErasures(t *testing.T, s feedback.Store) {
	if err := s.CreateTicket(ctx, ticket("a", "c-1", feedback.StatusOpen, t0)); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTicket(ctx, ticket("b", "c-2", feedback.StatusOpen, t0)); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSurvey(ctx, feedback.Survey{ID: "s", Kind: feedback.KindNPS, CreateTime: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateResponse(ctx, feedback.Response{SurveyID: "s", ID: "r", CustomerID: "c-1", Score: 3, CreateTime: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetResponseOutcome(ctx, "s", "r", "", feedback.RewardUnavailable, t0); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Cursor(ctx); c != 0 || err != nil {
		t.Fatalf("cursor %d, %v; want 0", c, err)
	}
	erase := []feedback.Erasure{{Sequence: 7, CustomerID: "c-1", AnonymousID: "anon-1"}}
	if err := s.ApplyErasures(ctx, erase, 9); err != nil {
		t.Fatal(err)
	}
	a, _ := s.GetTicket(ctx, "a")
	b, _ := s.GetTicket(ctx, "b")
	r, _ := s.GetResponse(ctx, "s", "r")
	if a.CustomerID != "anon-1" || a.Email != "" || b.CustomerID != "c-2" || b.Email == "" || r.CustomerID != "anon-1" {
		t.Fatalf("after erasure: a %s %q, b %s %q, response %s; want a and the response anonymous, b untouched",
			a.CustomerID, a.Email, b.CustomerID, b.Email, r.CustomerID)
	}
	if due, err := s.RewardsDue(ctx, t0.Add(time.Hour), 10); err != nil || len(due) != 0 {
		t.Fatalf("rewards due after erasure: %v, %v; want none: an erased customer is not thanked", due, err)
	}
	if got, _ := s.ListTickets(ctx, feedback.TicketFilter{CustomerID: "c-1"}, "", 10); len(got) != 0 {
		t.Fatalf("tickets still listed under c-1: %v", ids(got))
	}
	// A page at or below the cursor was applied already: nothing changes.
	if err := s.ApplyErasures(ctx, []feedback.Erasure{{Sequence: 5, CustomerID: "c-2", AnonymousID: "anon-2"}}, 9); err != nil {
		t.Fatal(err)
	}
	if b, _ := s.GetTicket(ctx, "b"); b.CustomerID != "c-2" {
		t.Fatalf("a replayed page erased b: %s", b.CustomerID)
	}
	if c, err := s.Cursor(ctx); c != 9 || err != nil {
		t.Fatalf("cursor %d, %v; want 9", c, err)
	}
}
