package feedback_test

import (
	"context"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/feedback/internal/feedback"
)

// TestMetrics: a first reply after its due time and a solve after its due
// time are each one SLA breach of their target, once; on-time ones are
// none; a sweep's escalation steps are counted.
func TestMetrics(t *testing.T) {
	ctx := context.Background()
	st, compiler := newStore(t)
	nine := time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)
	now := nine
	counts := &counter{got: map[string]int64{}}
	svc := feedback.NewService(st, compiler, feedback.WithClock(func() time.Time { return now }), feedback.WithMetrics(counts))
	// Targets in calendar time: first reply within 1 h, solved within 4 h;
	// a step when the first reply falls due.
	if _, err := svc.CreatePolicy(ctx, feedback.Policy{ID: "normal", Priority: feedback.PriorityNormal,
		FirstReply: time.Hour, Resolution: 4 * time.Hour,
		Steps: []feedback.Step{{ID: "late", Clock: feedback.ClockFirstReply, RaisePriority: true}}}); err != nil {
		t.Fatal(err)
	}
	ticket := func() string {
		tk, err := svc.CreateTicket(ctx, feedback.Ticket{CustomerID: "c-1", Channel: "web", Body: "help", Priority: feedback.PriorityNormal})
		if err != nil || tk.PolicyID != "normal" {
			t.Fatalf("create ticket: %+v, %v; want policy normal", tk, err)
		}
		return tk.ID
	}
	at := func(h, m int) { now = nine.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	reply := func(id string) {
		if _, err := svc.AddComment(ctx, id, feedback.Comment{FromAgent: true, Author: "agent", Body: "on it"}); err != nil {
			t.Fatal(err)
		}
	}
	solve := func(id string) {
		if _, err := svc.SolveTicket(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	late, onTime := ticket(), ticket()
	at(0, 30)
	reply(onTime) // first reply met
	at(1, 30)
	if op, err := svc.Escalate(ctx, time.Time{}, false); err != nil || op.StepsApplied != 1 {
		t.Fatalf("sweep: %+v, %v; want 1 step (the unanswered ticket)", op, err)
	}
	reply(late) // first reply 30 min late
	reply(late) // not a first reply
	at(2, 0)
	solve(late) // solved within 4 h
	at(5, 0)
	solve(onTime) // solved 1 h late

	got := counts.snapshot()
	want := map[string]int64{"breaches first_reply": 1, "breaches resolution": 1, "steps": 1}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %d, want %d (all: %v)", k, got[k], v, got)
		}
	}
}

// counter records the counts: "breaches <target>" and "steps".
type counter struct {
	mu  sync.Mutex
	got map[string]int64
}

func (c *counter) SLABreached(_ context.Context, target feedback.SLATarget) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got["breaches "+string(target)]++
}

func (c *counter) EscalationSteps(_ context.Context, n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got["steps"] += n
}

func (c *counter) snapshot() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.got)
}
