package election_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/tenurehq/tenure/services/platform/election"
	"github.com/tenurehq/tenure/services/platform/embedetcd"
	"github.com/tenurehq/tenure/services/platform/etcdtest"
)

// takeover bounds how long a handover may take: well under the session TTL,
// so passing proves the old leader resigned or was detected as gone rather
// than timing out.
const takeover = 5 * time.Second

type event struct {
	id      string
	started bool // false: fn returned
}

// harness runs contenders of one election and records when their fn starts
// and returns.
type harness struct {
	t       *testing.T
	srv     *embedetcd.Server
	name    string
	events  chan event
	running atomic.Int32
	overlap atomic.Bool
	cancels map[string]context.CancelFunc
	dones   map[string]chan struct{} // closed when Run returns
	errs    map[string]*error
}

func newHarness(t *testing.T, name string) *harness {
	return &harness{
		t:       t,
		srv:     etcdtest.Start(t),
		name:    name,
		events:  make(chan event, 64),
		cancels: map[string]context.CancelFunc{},
		dones:   map[string]chan struct{}{},
		errs:    map[string]*error{},
	}
}

// start runs a contender with its own etcd client.
func (h *harness) start(id string) {
	cli := etcdtest.Client(h.t, h.srv)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	errp := new(error)
	h.cancels[id], h.dones[id], h.errs[id] = cancel, done, errp
	go func() {
		defer close(done)
		*errp = election.Run(ctx, cli, h.name, id, nil, func(ctx context.Context) {
			if h.running.Add(1) > 1 {
				h.overlap.Store(true)
			}
			h.events <- event{id: id, started: true}
			<-ctx.Done()
			h.running.Add(-1)
			h.events <- event{id: id, started: false}
		})
	}()
	h.t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			h.t.Errorf("Run(%s) did not return after cancel", id)
		}
	})
}

// stop cancels a contender's ctx and waits for Run to return nil.
func (h *harness) stop(id string) {
	h.t.Helper()
	h.cancels[id]()
	select {
	case <-h.dones[id]:
		if err := *h.errs[id]; err != nil {
			h.t.Fatalf("Run(%s) = %v, want nil", id, err)
		}
	case <-time.After(takeover):
		h.t.Fatalf("Run(%s) did not return within %v of cancel", id, takeover)
	}
}

func (h *harness) next(within time.Duration) event {
	h.t.Helper()
	select {
	case ev := <-h.events:
		return ev
	case <-time.After(within):
		h.t.Fatalf("no leadership change within %v", within)
		return event{}
	}
}

func (h *harness) wantLeader(want string) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := election.Leader(ctx, etcdtest.Client(h.t, h.srv), h.name)
	if err != nil || got != want {
		h.t.Fatalf("Leader() = %q, %v; want %q", got, err, want)
	}
}

func TestOneLeaderAndHandoverOnCancel(t *testing.T) {
	h := newHarness(t, "jobs")
	ids := []string{"a", "b", "c"}
	for _, id := range ids {
		h.start(id)
	}

	first := h.next(10 * time.Second)
	if !first.started {
		t.Fatalf("first event = %+v, want a start", first)
	}
	h.wantLeader(first.id)

	// Hand leadership over twice by cancelling the current leader; each
	// time the old fn must return before the next one starts.
	leader, seen := first.id, map[string]bool{first.id: true}
	for range 2 {
		began := time.Now()
		h.cancels[leader]()
		if ev := h.next(takeover); ev.started || ev.id != leader {
			t.Fatalf("after cancelling %s got %+v, want its fn to return", leader, ev)
		}
		ev := h.next(takeover)
		if !ev.started || seen[ev.id] {
			t.Fatalf("after %s stepped down got %+v, want a new leader", leader, ev)
		}
		if d := time.Since(began); d >= takeover {
			t.Fatalf("handover took %v, want < %v", d, takeover)
		}
		h.stop(leader)
		h.wantLeader(ev.id)
		leader, seen[ev.id] = ev.id, true
	}
	if h.overlap.Load() {
		t.Fatal("two contenders ran fn at the same time")
	}
}

func TestRevokedLeaseMovesLeadership(t *testing.T) {
	h := newHarness(t, "sweeper")
	h.start("a")
	h.start("b")

	first := h.next(10 * time.Second)
	if !first.started {
		t.Fatalf("first event = %+v, want a start", first)
	}
	old := first.id

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	admin := etcdtest.Client(t, h.srv)
	prefix := election.KeyPrefix + h.name + "/"
	resp, err := admin.Get(ctx, prefix, clientv3.WithFirstCreate()...)
	if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != old {
		t.Fatalf("leader key = %v, %v; want one key with value %q", resp, err, old)
	}
	// Watch the election so that the old leader's new campaign is seen.
	wch := admin.Watch(ctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1))

	// Revoke the leader's session lease behind its back.
	if _, err := admin.Revoke(ctx, clientv3.LeaseID(resp.Kvs[0].Lease)); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	var oldStopped, newStarted bool
	var successor string
	for !oldStopped || !newStarted {
		ev := h.next(takeover)
		switch {
		case ev.id == old && !ev.started:
			oldStopped = true
		case ev.id != old && ev.started:
			newStarted, successor = true, ev.id
		default:
			t.Fatalf("unexpected event %+v after revoking %s's lease", ev, old)
		}
	}
	h.wantLeader(successor)

	// The old leader campaigns again with a new session.
	for campaigning := false; !campaigning; {
		select {
		case wr := <-wch:
			if err := wr.Err(); err != nil {
				t.Fatalf("watch: %v", err)
			}
			for _, ev := range wr.Events {
				if ev.Type == clientv3.EventTypePut && string(ev.Kv.Value) == old {
					campaigning = true
				}
			}
		case <-ctx.Done():
			t.Fatalf("%s did not campaign again after losing its session", old)
		}
	}

	// ...and takes over when the successor shuts down.
	h.cancels[successor]()
	if ev := h.next(takeover); ev.started || ev.id != successor {
		t.Fatalf("after cancelling %s got %+v, want its fn to return", successor, ev)
	}
	if ev := h.next(takeover); !ev.started || ev.id != old {
		t.Fatalf("got %+v, want %s to lead again", ev, old)
	}
	h.wantLeader(old)
}

func TestFnReturningHandsOver(t *testing.T) {
	srv := etcdtest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan string, 16)
	done := make(chan error, 2)
	for _, id := range []string{"a", "b"} {
		cli := etcdtest.Client(t, srv)
		go func() {
			done <- election.Run(ctx, cli, "oneshot", id, nil, func(ctx context.Context) {
				started <- id
				if id == "a" {
					panic("job failed") // recovered; a resigns
				}
				<-ctx.Done()
			})
		}()
	}
	// Whoever leads first, "b" ends up holding the leadership: "a" resigns
	// each time its fn returns.
	deadline := time.After(10 * time.Second)
	for got := ""; got != "b"; {
		select {
		case got = <-started:
		case <-deadline:
			t.Fatal("b never became leader")
		}
	}
	cancel()
	for range 2 {
		if err := <-done; err != nil {
			t.Fatalf("Run = %v, want nil", err)
		}
	}
}

func TestLeaderAndArguments(t *testing.T) {
	cli := etcdtest.Client(t, etcdtest.Start(t))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	if _, err := election.Leader(ctx, cli, "nobody"); !errors.Is(err, election.ErrNoLeader) {
		t.Errorf("Leader(nobody) err = %v, want ErrNoLeader", err)
	}
	noop := func(context.Context) {}
	tests := []struct {
		name, election, id string
		want               error
	}{
		{"empty name", "", "a", election.ErrInvalidName},
		{"slash in name", "a/b", "a", election.ErrInvalidName},
		{"empty id", "jobs", "", election.ErrInvalidID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := election.Run(ctx, cli, tt.election, tt.id, nil, noop); !errors.Is(err, tt.want) {
				t.Errorf("Run err = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := election.Leader(ctx, cli, "a/b"); !errors.Is(err, election.ErrInvalidName) {
		t.Errorf("Leader(a/b) err = %v, want ErrInvalidName", err)
	}
}

// Without etcd there is no one to elect among: RunOrAlone runs fn at once
// and returns when it does.
func TestRunOrAloneWithoutEtcd(t *testing.T) {
	ran := false
	if err := election.RunOrAlone(t.Context(), nil, "jobs", "replica-1", nil, func(context.Context) { ran = true }); err != nil || !ran {
		t.Errorf("RunOrAlone without etcd: ran %v, err %v; want fn run and no error", ran, err)
	}
}
