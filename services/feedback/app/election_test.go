package app_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	feedbackv1 "github.com/tenurehq/tenure/gen/tenure/feedback/v1"
	"github.com/tenurehq/tenure/services/feedback/app"
	"github.com/tenurehq/tenure/services/platform/stack"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	"google.golang.org/protobuf/types/known/durationpb"
)

// TestScheduleOnElectedReplica runs two replicas on one database: one
// leads the escalation schedule, its sweeps apply a due step once however
// often they run, and when it stops the other takes over.
func TestScheduleOnElectedReplica(t *testing.T) {
	c := &clock{now: friday}
	s := stacktest.Start(t, stacktest.Options{})
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "feedback.db")
	replica := func() *stack.Running {
		comp := app.Component(func(cfg *app.Config, d *app.Deps) { cfg.EscalationInterval, d.Clock = 20*time.Millisecond, c.Now })
		comp.DSN = dsn
		return s.Add(comp)
	}
	a, b := replica(), replica()
	cli := feedbackv1.NewFeedbackServiceClient(stacktest.Dial(t, a.Addr()))
	ctx := context.Background()
	if _, err := cli.CreateSlaPolicy(ctx, &feedbackv1.CreateSlaPolicyRequest{PolicyId: "normal", Policy: &feedbackv1.SlaPolicy{
		Priority: feedbackv1.Priority_PRIORITY_NORMAL, FirstReplyTarget: durationpb.New(time.Hour),
		EscalationSteps: []*feedbackv1.EscalationStep{{StepId: "raise", Clock: feedbackv1.SlaClock_SLA_CLOCK_FIRST_REPLY, RaisePriority: true}}}}); err != nil {
		t.Fatal(err)
	}
	tk, err := cli.CreateTicket(ctx, &feedbackv1.CreateTicketRequest{Ticket: &feedbackv1.Ticket{Email: "guest@example.com",
		Channel: feedbackv1.Channel_CHANNEL_WEB, Body: "hello"}})
	if err != nil {
		t.Fatal(err)
	}
	c.Set(friday.Add(2 * time.Hour))

	leader, other := waitLeader(t, a, b)
	waitSweeps(t, leader, 5)
	got, err := cli.GetTicket(ctx, &feedbackv1.GetTicketRequest{Name: tk.GetTicket().GetName()})
	if err != nil || len(got.GetTicket().GetEscalations()) != 1 || got.GetTicket().GetPriority() != feedbackv1.Priority_PRIORITY_HIGH {
		t.Fatalf("after 5 sweeps: %v, %v; want one escalation and priority HIGH", got, err)
	}
	if other.Runner.(*app.App).ScheduledSweeps() != 0 {
		t.Fatalf("the other replica ran %d sweeps, want 0", other.Runner.(*app.App).ScheduledSweeps())
	}
	if err := leader.Stop(); err != nil {
		t.Fatal(err)
	}
	if next, _ := waitLeader(t, other); next != other {
		t.Fatal("the other replica did not take over")
	}
	waitSweeps(t, other, 1)
}

// waitLeader waits until exactly one of the replicas leads and returns it
// and another.
func waitLeader(t *testing.T, rs ...*stack.Running) (leader, other *stack.Running) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var leading []*stack.Running
		for _, r := range rs {
			if r.Runner.(*app.App).Leading() {
				leading = append(leading, r)
			}
		}
		if len(leading) == 1 {
			for _, r := range rs {
				if r != leading[0] {
					return leading[0], r
				}
			}
			return leading[0], nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no single leader within 20s")
	return nil, nil
}

// waitSweeps waits until r's schedule has run n more sweeps.
func waitSweeps(t *testing.T, r *stack.Running, n int64) {
	t.Helper()
	a := r.Runner.(*app.App)
	want := a.ScheduledSweeps() + n
	deadline := time.Now().Add(20 * time.Second)
	for a.ScheduledSweeps() < want {
		if time.Now().After(deadline) {
			t.Fatalf("%d sweeps within 20s, want %d", a.ScheduledSweeps(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
