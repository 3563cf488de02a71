package stack_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tenurehq/tenure/services/platform/discovery"
	"github.com/tenurehq/tenure/services/platform/stack"
)

// fake is a component that registers in discovery when it runs (unless it
// is the edge) and records when it stops.
type fake struct {
	name, addr string
	env        stack.Env
	edge       bool
	runErr     error // returned by Run after ctx ends
	exitAtOnce bool  // Run returns runErr at once
	log        *events
}

type events struct {
	mu   sync.Mutex
	list []string
}

func (e *events) add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, s)
}

func (e *events) get() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.list)
}

func (f *fake) Addr() string { return f.addr }

func (f *fake) Run(ctx context.Context) error {
	if f.exitAtOnce {
		return f.runErr
	}
	if f.env.Etcd != nil && !f.edge {
		// Add returns once the key is in etcd, which can be before Register
		// has returned here: a stop that comes meanwhile ends Register with
		// ctx's error, and is a stop like any other.
		reg, err := discovery.Register(ctx, f.env.Etcd, f.name, f.addr)
		switch {
		case err == nil:
			defer func() { _ = reg.Deregister(context.WithoutCancel(ctx)) }()
		case ctx.Err() == nil:
			return err
		}
	}
	<-ctx.Done()
	f.log.add("stop " + f.name)
	return f.runErr
}

func (f *fake) component() stack.Component {
	return stack.Component{Name: f.name, Edge: f.edge, Start: func(_ context.Context, env stack.Env) (stack.Runner, func(), error) {
		f.env = env
		return f, func() { f.log.add("cleanup " + f.name) }, nil
	}}
}

// TestAddWaitsAndCloseStopsInReverse: Add returns once a service is
// registered, so the next component finds it; Close stops the components
// last first, each Run before its cleanup, and returns their errors.
func TestAddWaitsAndCloseStopsInReverse(t *testing.T) {
	ctx := context.Background()
	s, err := stack.Start(ctx, stack.Config{})
	if err != nil {
		t.Fatal(err)
	}
	log := &events{}
	broken := errors.New("disk full")
	fakes := []*fake{
		{name: "a", addr: "127.0.0.1:1", log: log},
		{name: "b", addr: "127.0.0.1:2", log: log, runErr: broken},
		{name: "a", addr: "127.0.0.1:3", log: log}, // a second replica of a
		{name: "edge", addr: "127.0.0.1:4", edge: true, log: log},
	}
	for _, f := range fakes {
		r, err := s.Add(ctx, f.component())
		if err != nil {
			t.Fatal(err)
		}
		if r.Addr() != f.addr || f.env.Etcd != s.Etcd() {
			t.Fatalf("%s: Addr %s, etcd %p; want %s and the stack's etcd", f.name, r.Addr(), f.env.Etcd, f.addr)
		}
		if f.edge {
			continue
		}
		eps, err := discovery.Endpoints(ctx, s.Etcd(), f.name)
		if err != nil || !slices.Contains(eps, f.addr) {
			t.Fatalf("after Add(%s at %s): endpoints %v, %v; want it registered", f.name, f.addr, eps, err)
		}
	}
	err = s.Close()
	if !errors.Is(err, broken) || !strings.Contains(err.Error(), "b: disk full") {
		t.Errorf("Close = %v, want b's error", err)
	}
	want := []string{"stop edge", "cleanup edge", "stop a", "cleanup a", "stop b", "cleanup b", "stop a", "cleanup a"}
	if got := log.get(); !slices.Equal(got, want) {
		t.Errorf("stop order %q, want %q", got, want)
	}
	if err := s.Err(); err != nil {
		t.Errorf("Err after Close = %v, want nil: every component was stopped", err)
	}
}

// TestWaitReportsExit: a component that ends by itself ends Wait with its
// name and error.
func TestWaitReportsExit(t *testing.T) {
	ctx := context.Background()
	s, err := stack.Start(ctx, stack.Config{NoEtcd: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f := &fake{name: "a", addr: "127.0.0.1:1", log: &events{}, exitAtOnce: true, runErr: errors.New("port taken")}
	if _, err := s.Add(ctx, f.component()); err != nil {
		t.Fatal(err)
	}
	if f.env.Etcd != nil {
		t.Errorf("Env.Etcd = %p in a stack without etcd, want nil", f.env.Etcd)
	}
	err = s.Wait(ctx)
	if err == nil || err.Error() != "a exited unexpectedly: port taken" {
		t.Errorf("Wait = %v, want a's exit", err)
	}
	if !errors.Is(s.Err(), err) {
		t.Errorf("Err = %v, want %v", s.Err(), err)
	}
}

// TestWaitEndsWithContext: Wait returns nil when its context ends.
func TestWaitEndsWithContext(t *testing.T) {
	s, err := stack.Start(context.Background(), stack.Config{NoEtcd: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Wait(ctx); err != nil {
		t.Errorf("Wait = %v, want nil", err)
	}
}

// TestStartFails: a component that cannot start is reported by name.
func TestStartFails(t *testing.T) {
	s, err := stack.Start(context.Background(), stack.Config{NoEtcd: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Add(context.Background(), stack.Component{Name: "bad", Start: func(context.Context, stack.Env) (stack.Runner, func(), error) {
		return nil, nil, fmt.Errorf("dsn is required")
	}})
	if err == nil || err.Error() != "bad: dsn is required" {
		t.Errorf("Add = %v, want the component's error with its name", err)
	}
}
