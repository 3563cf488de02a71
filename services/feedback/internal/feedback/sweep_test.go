package feedback_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/feedback/internal/feedback"
	"github.com/tenurehq/tenure/services/feedback/internal/rules"
	"github.com/tenurehq/tenure/services/feedback/internal/store"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
)

// newStore returns a migrated SQLite store and the rule compiler.
func newStore(t *testing.T) (*store.Store, feedback.Compiler) {
	t.Helper()
	st := store.New(sqlstoretest.SQLite(t))
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	compiler, err := rules.New()
	if err != nil {
		t.Fatal(err)
	}
	return st, compiler
}

// gate is a Notifier whose calls wait until it is opened; it counts calls
// per notice and the most in flight at once.
type gate struct {
	open chan struct{}

	mu       sync.Mutex
	inFlight int
	most     int
	calls    map[string]int
	changed  chan struct{} // closed and replaced on every arrival
}

func newGate() *gate {
	return &gate{open: make(chan struct{}), calls: map[string]int{}, changed: make(chan struct{})}
}

func (g *gate) Notify(ctx context.Context, n feedback.Notice, _ *feedback.Ticket) error {
	g.mu.Lock()
	g.inFlight++
	g.most = max(g.most, g.inFlight)
	g.calls[n.TicketID+" "+n.StepID]++
	close(g.changed)
	g.changed = make(chan struct{})
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.inFlight--
		g.mu.Unlock()
	}()
	select {
	case <-g.open:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// waitInFlight waits until n calls are in flight at once.
func (g *gate) waitInFlight(t *testing.T, n int) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		g.mu.Lock()
		in, changed := g.inFlight, g.changed
		g.mu.Unlock()
		if in >= n {
			return
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("%d webhooks in flight after 10s, want %d at once", in, n)
		}
	}
}

// TestSweepSendsWebhooksConcurrently: a sweep sends its webhooks
// MaxConcurrentNotices at a time, each once; the escalation lock is free
// again while the last ones are still being answered, and a sweep run
// meanwhile neither records nor sends a step again.
func TestSweepSendsWebhooksConcurrently(t *testing.T) {
	ctx := context.Background()
	st, compiler := newStore(t)
	nine := time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)
	g := newGate()
	svc := feedback.NewService(st, compiler, feedback.WithClock(func() time.Time { return nine }), feedback.WithNotifier(g))
	if _, err := svc.CreatePolicy(ctx, feedback.Policy{ID: "normal", Priority: feedback.PriorityNormal, FirstReply: time.Hour,
		Steps: []feedback.Step{{ID: "late", Clock: feedback.ClockFirstReply, NotifyURL: "http://hooks.example/late"}}}); err != nil {
		t.Fatal(err)
	}
	const tickets = feedback.MaxConcurrentNotices + 4
	for i := range tickets {
		if _, err := svc.CreateTicket(ctx, feedback.Ticket{CustomerID: fmt.Sprintf("c-%d", i), Channel: "web", Body: "help",
			Priority: feedback.PriorityNormal}); err != nil {
			t.Fatal(err)
		}
	}

	type result struct {
		op  *feedback.Operation
		err error
	}
	first := make(chan result, 1)
	go func() {
		op, err := svc.Escalate(ctx, nine.Add(2*time.Hour), false)
		first <- result{op, err}
	}()
	g.waitInFlight(t, feedback.MaxConcurrentNotices)
	close(g.open)
	r := <-first
	if r.err != nil || r.op.StepsApplied != tickets {
		t.Fatalf("sweep: %+v, %v; want %d steps", r.op, r.err, tickets)
	}
	g.mu.Lock()
	if g.most != feedback.MaxConcurrentNotices || len(g.calls) != tickets {
		t.Errorf("%d webhooks at most in flight, %d notices sent; want %d and %d", g.most, len(g.calls), feedback.MaxConcurrentNotices, tickets)
	}
	for k, n := range g.calls {
		if n != 1 {
			t.Errorf("notice %s sent %d times, want once", k, n)
		}
	}
	g.mu.Unlock()

	// One more ticket falls due; its webhook is held.
	g2 := newGate()
	svc = feedback.NewService(st, compiler, feedback.WithClock(func() time.Time { return nine.Add(time.Hour) }), feedback.WithNotifier(g2))
	if _, err := svc.CreateTicket(ctx, feedback.Ticket{CustomerID: "c-late", Channel: "web", Body: "help",
		Priority: feedback.PriorityNormal}); err != nil {
		t.Fatal(err)
	}
	go func() {
		op, err := svc.Escalate(ctx, nine.Add(3*time.Hour), false)
		first <- result{op, err}
	}()
	g2.waitInFlight(t, 1)
	// The lock is free although the webhook is unanswered: the step is
	// recorded, so this sweep finds nothing to do.
	var (
		again *feedback.Operation
		err   error
	)
	deadline := time.Now().Add(10 * time.Second)
	for {
		again, err = svc.Escalate(ctx, nine.Add(3*time.Hour), false)
		if !errors.Is(err, feedback.ErrEscalationInProgress) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil || again.StepsApplied != 0 {
		t.Fatalf("sweep while a webhook is unanswered: %+v, %v; want it to run and apply nothing", again, err)
	}
	close(g2.open)
	if r := <-first; r.err != nil || r.op.StepsApplied != 1 || len(g2.calls) != 1 {
		t.Fatalf("held sweep: %+v, %v, notices %v; want 1 step and its one notice", r.op, r.err, g2.calls)
	}
}
