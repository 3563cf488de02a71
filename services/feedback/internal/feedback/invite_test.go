package feedback_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/feedback/internal/feedback"
)

// outreach records invitations by occurrence id, failing the first `fail`
// calls as unavailable, or every call as refused.
type outreach struct {
	mu      sync.Mutex
	fail    int
	refuse  bool
	calls   int
	journey map[string]string            // occurrence id → journey
	vars    map[string]map[string]string // occurrence id → variables
}

func newOutreach() *outreach {
	return &outreach{journey: map[string]string{}, vars: map[string]map[string]string{}}
}

func (o *outreach) Invite(_ context.Context, journey, _, occurrence string, vars map[string]string) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls++
	if o.refuse {
		return "", &feedback.RefusedError{Err: errors.New("journey not found")}
	}
	if o.calls <= o.fail {
		return "", errors.New("promotion unavailable")
	}
	o.journey[occurrence], o.vars[occurrence] = journey, vars
	return "m-" + occurrence, nil
}

func (o *outreach) sent() map[string]map[string]string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.vars
}

type inviteFixture struct {
	svc *feedback.Service
	out *outreach
	now *time.Time
}

func newInviteFixture(t *testing.T, surveys ...feedback.Survey) inviteFixture {
	t.Helper()
	st, compiler := newStore(t)
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	f := inviteFixture{out: newOutreach(), now: &now}
	f.svc = feedback.NewService(st, compiler, feedback.WithClock(func() time.Time { return *f.now }),
		feedback.WithOutreach(f.out, "https://shop.example.com/s"), feedback.WithInvitationRetry(func(int) time.Duration { return time.Minute }))
	for _, sv := range surveys {
		if _, err := f.svc.CreateSurvey(context.Background(), sv); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f inviteFixture) send(t *testing.T) {
	t.Helper()
	if err := f.svc.SendInvitations(context.Background(), 100); err != nil {
		t.Fatal(err)
	}
}

// TestSolvedTicketInvites: solving a customer's ticket invites it once to
// each ticket_solved survey, even when the ticket is reopened and solved
// again; a guest's ticket invites nobody.
func TestSolvedTicketInvites(t *testing.T) {
	ctx := context.Background()
	f := newInviteFixture(t, feedback.Survey{ID: "support", Kind: feedback.KindCSAT, Trigger: "ticket_solved", Journey: "support-survey"},
		feedback.Survey{ID: "nps", Kind: feedback.KindNPS, Trigger: "on_demand", Journey: "nps"})
	tk, err := f.svc.CreateTicket(ctx, feedback.Ticket{CustomerID: "c-1", Channel: "web", Body: "late parcel"})
	if err != nil {
		t.Fatal(err)
	}
	guest, err := f.svc.CreateTicket(ctx, feedback.Ticket{Email: "g@example.com", Channel: "email", Body: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{tk.ID, guest.ID} {
		if _, err := f.svc.SolveTicket(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	f.send(t)
	if _, err := f.svc.UpdateTicket(ctx, tk.ID, feedback.TicketPatch{Fields: []string{"status"}, Status: feedback.StatusOpen}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SolveTicket(ctx, tk.ID); err != nil {
		t.Fatal(err)
	}
	*f.now = f.now.Add(time.Hour)
	f.send(t)
	sent := f.out.sent()
	if len(sent) != 1 || f.out.calls != 1 {
		t.Fatalf("outreach got %d calls, %v; want one invitation", f.out.calls, sent)
	}
	for occ, vars := range sent {
		if f.out.journey[occ] != "support-survey" || vars["ticket_id"] != tk.ID || vars["survey_id"] != "support" {
			t.Errorf("invitation %s: journey %s, vars %v", occ, f.out.journey[occ], vars)
		}
	}
}

// TestDeliveryInvitesRetry: a delivery seen twice makes one invitation,
// due after the survey's delay; outreach being unavailable delays it, and
// it is sent once when outreach answers.
func TestDeliveryInvitesRetry(t *testing.T) {
	ctx := context.Background()
	f := newInviteFixture(t, feedback.Survey{ID: "delivery", Kind: feedback.KindCSAT, Trigger: "order_delivered",
		Journey: "delivery-survey", InvitationDelay: time.Hour})
	f.out.fail = 1
	d := feedback.Delivery{CustomerID: "c-1", OrderID: "o-77", At: *f.now}
	for range 2 {
		if err := f.svc.InviteDeliveries(ctx, []feedback.Delivery{d}); err != nil {
			t.Fatal(err)
		}
	}
	f.send(t)
	if f.out.calls != 0 {
		t.Fatalf("outreach called %d times before the delay, want 0", f.out.calls)
	}
	for _, step := range []time.Duration{time.Hour, 30 * time.Second, 30 * time.Second, time.Minute} {
		*f.now = f.now.Add(step)
		f.send(t)
	}
	if f.out.calls != 2 || len(f.out.sent()) != 1 {
		t.Fatalf("outreach got %d calls and %d invitations, want 2 calls (one failed) and 1 invitation", f.out.calls, len(f.out.sent()))
	}
	for _, vars := range f.out.sent() {
		if vars["order_id"] != "o-77" || vars["survey_url"] == "" {
			t.Errorf("vars: %v", vars)
		}
	}
}

// TestSendSurvey: on demand, each customer is invited once per occurrence
// id, at once; a refused invitation fails for good; a survey without a
// journey cannot be sent.
func TestSendSurvey(t *testing.T) {
	ctx := context.Background()
	f := newInviteFixture(t, feedback.Survey{ID: "nps", Kind: feedback.KindNPS, Journey: "nps-survey"},
		feedback.Survey{ID: "quiet", Kind: feedback.KindNPS})
	for range 2 {
		invs, err := f.svc.SendSurvey(ctx, "nps", []string{"c-1", "c-2"}, "2026-q4")
		if err != nil || len(invs) != 2 {
			t.Fatalf("SendSurvey: %+v, %v", invs, err)
		}
		for _, inv := range invs {
			if inv.State != feedback.InvitationSent || inv.Message == "" || inv.Occurrence != "demand:2026-q4" {
				t.Errorf("invitation %+v: want sent with a message", inv)
			}
		}
	}
	if f.out.calls != 2 {
		t.Errorf("outreach got %d calls, want 2", f.out.calls)
	}
	if _, err := f.svc.SendSurvey(ctx, "quiet", []string{"c-1"}, "2026-q4"); !errors.Is(err, feedback.ErrSurveyHasNoJourney) {
		t.Errorf("SendSurvey without a journey: got %v, want ErrSurveyHasNoJourney", err)
	}
	f.out.refuse = true
	invs, err := f.svc.SendSurvey(ctx, "nps", []string{"c-3"}, "2026-q4")
	if err != nil || invs[0].State != feedback.InvitationFailed {
		t.Fatalf("refused invitation: %+v, %v; want failed", invs, err)
	}
	*f.now = f.now.Add(time.Hour)
	f.send(t)
	if f.out.calls != 3 {
		t.Errorf("outreach got %d calls, want a failed invitation not retried", f.out.calls)
	}
}
