package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/feedback/internal/feedback"
)

func deliverySurvey(t *testing.T, s feedback.Store) *feedback.Survey {
	t.Helper()
	sv := feedback.Survey{ID: "delivery", Kind: feedback.KindCSAT, Trigger: "order_delivered", FollowUpQueue: "q",
		Journey: "delivery-survey", InvitationDelay: 2 * time.Hour, CreateTime: t0}
	if err := s.CreateSurvey(ctx, sv); err != nil {
		t.Fatal(err)
	}
	return &sv
}

// testInvitations: an invitation is stored once per id, comes due, and
// records an attempt only over the state it was read in.
func testInvitations(t *testing.T, s feedback.Store) {
	sv := deliverySurvey(t, s)
	all, err := s.ListSurveys(ctx)
	if err != nil || len(all) != 1 || !reflect.DeepEqual(all[0], *sv) {
		t.Fatalf("ListSurveys: got %+v, %v; want %+v", all, err, *sv)
	}
	a := feedback.NewInvitation(sv, "c-1", feedback.OrderOccurrence("o-1"), t0, t0)
	b := feedback.NewInvitation(sv, "c-2", feedback.OrderOccurrence("o-2"), t0.Add(time.Hour), t0)
	got, err := s.CreateInvitations(ctx, []feedback.Invitation{a, b})
	if err != nil || !reflect.DeepEqual(got, []feedback.Invitation{a, b}) {
		t.Fatalf("CreateInvitations: got %+v, %v", got, err)
	}
	// A replay makes nothing new and answers the stored invitation.
	again := feedback.NewInvitation(sv, "c-1", feedback.OrderOccurrence("o-1"), t0.Add(time.Minute), t0.Add(time.Minute))
	if got, err := s.CreateInvitations(ctx, []feedback.Invitation{again}); err != nil || !reflect.DeepEqual(got, []feedback.Invitation{a}) {
		t.Fatalf("replayed CreateInvitations: got %+v, %v; want the first", got, err)
	}
	due, err := s.InvitationsDue(ctx, a.Due, 10)
	if err != nil || !reflect.DeepEqual(due, []feedback.Invitation{a}) {
		t.Fatalf("InvitationsDue at a's due time: got %+v, %v; want a", due, err)
	}
	failed := a.After("", errTransient, t0.Add(3*time.Hour), t0.Add(2*time.Hour))
	if ok, err := s.RecordInvitation(ctx, a, failed); !ok || err != nil {
		t.Fatalf("RecordInvitation: %v, %v", ok, err)
	}
	sent := a.After("m-1", nil, time.Time{}, t0.Add(2*time.Hour))
	if ok, err := s.RecordInvitation(ctx, a, sent); ok || err != nil {
		t.Fatalf("RecordInvitation over a stale read: %v, %v; want false", ok, err)
	}
	due, err = s.InvitationsDue(ctx, t0.Add(4*time.Hour), 10)
	if err != nil || !reflect.DeepEqual(due, []feedback.Invitation{b, failed}) {
		t.Fatalf("InvitationsDue later: got %+v, %v; want b then the retried a", due, err)
	}
	sent = failed.After("m-1", nil, time.Time{}, t0.Add(4*time.Hour))
	if ok, err := s.RecordInvitation(ctx, failed, sent); !ok || err != nil {
		t.Fatalf("RecordInvitation sent: %v, %v", ok, err)
	}
	if got, _ := s.CreateInvitations(ctx, []feedback.Invitation{again}); got[0].State != feedback.InvitationSent || got[0].Message != "m-1" {
		t.Fatalf("stored after sending: %+v", got[0])
	}
	if due, _ := s.InvitationsDue(ctx, t0.Add(4*time.Hour), 10); !reflect.DeepEqual(due, []feedback.Invitation{b}) {
		t.Fatalf("InvitationsDue after sending a: got %+v; want b", due)
	}
}

// testTicketInvites: a ticket written as newly solved stays pending until
// marked invited, and an erasure withdraws its customer's invitations.
func testTicketInvites(t *testing.T, s feedback.Store) {
	if err := s.CreateTicket(ctx, ticket("a", "c-1", feedback.StatusOpen, t0)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateTicket(ctx, "a", func(tk *feedback.Ticket) error {
		tk.Status, tk.InvitePending = feedback.StatusSolved, true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// A later change that does not solve it keeps it pending.
	if _, err := s.UpdateTicket(ctx, "a", func(tk *feedback.Ticket) error { tk.Status = feedback.StatusOpen; return nil }); err != nil {
		t.Fatal(err)
	}
	if ids, err := s.PendingInviteTickets(ctx, 10); err != nil || !reflect.DeepEqual(ids, []string{"a"}) {
		t.Fatalf("PendingInviteTickets: got %v, %v; want [a]", ids, err)
	}
	if err := s.MarkTicketInvited(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if ids, err := s.PendingInviteTickets(ctx, 10); err != nil || len(ids) != 0 {
		t.Fatalf("PendingInviteTickets after marking: got %v, %v; want none", ids, err)
	}

	sv := deliverySurvey(t, s)
	inv := feedback.NewInvitation(sv, "c-1", feedback.TicketOccurrence("a"), t0, t0)
	if _, err := s.CreateInvitations(ctx, []feedback.Invitation{inv}); err != nil {
		t.Fatal(err)
	}
	if err := s.ApplyErasures(ctx, []feedback.Erasure{{Sequence: 1, CustomerID: "c-1", AnonymousID: "anon-1"}}, 1); err != nil {
		t.Fatal(err)
	}
	if due, err := s.InvitationsDue(ctx, t0.Add(24*time.Hour), 10); err != nil || len(due) != 0 {
		t.Fatalf("invitations due after erasure: %+v, %v; want none", due, err)
	}
}
