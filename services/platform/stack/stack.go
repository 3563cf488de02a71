// Package stack runs Tenure's services and gateway in one process around
// one etcd: it starts components in order, waits until each service is
// registered in discovery, runs them, and stops them in reverse order (the
// gateway first, etcd last). tenured, tenure-bench and the tests (through
// stacktest) all start real services this way; each service's app package
// exports its Component.
package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/tenurehq/tenure/services/platform/auth"
	"github.com/tenurehq/tenure/services/platform/bootstrap"
	"github.com/tenurehq/tenure/services/platform/discovery"
	"github.com/tenurehq/tenure/services/platform/embedetcd"
	"github.com/tenurehq/tenure/services/platform/telemetry"
)

// registerTimeout bounds the wait for a service to appear in discovery.
const registerTimeout = 30 * time.Second

// Runner is a built component: a service's or the gateway's *App.
type Runner interface {
	// Addr is the address the component listens on.
	Addr() string
	// Run serves until ctx is done, then shuts down cleanly.
	Run(ctx context.Context) error
}

// Env is what the stack hands a component's Start. Empty strings and nil
// values leave the component's own configuration (its flag defaults and
// environment variables) in place.
type Env struct {
	ListenAddr string
	DSN        string
	LogLevel   string
	Logger     *slog.Logger
	Telemetry  *telemetry.Providers
	// Etcd is nil in a stack without etcd.
	Etcd *clientv3.Client
	// Clock gives "now" to components that take an injected clock.
	Clock func() time.Time
	// Auth, when set, replaces the components' authentication settings
	// (their key file, tokens and service key).
	Auth *auth.Config
}

// Configure applies the listen address, database and log level of e, where
// set, to a service's shared configuration.
func (e Env) Configure(c *bootstrap.Config) {
	if e.ListenAddr != "" {
		c.ListenAddr = e.ListenAddr
	}
	if e.DSN != "" {
		c.DSN = e.DSN
	}
	if e.LogLevel != "" {
		c.LogLevel = e.LogLevel
	}
	if e.Auth != nil {
		c.Auth = *e.Auth
	}
}

// Component is one part of a stack: a service or the gateway.
type Component struct {
	// Name is the component's name in discovery and in logs.
	Name string
	// Edge marks the gateway: it has no database and does not register in
	// discovery, so Add does not wait for it there.
	Edge bool
	// ListenAddr and DSN place this instance; empty keeps the component's
	// own configuration.
	ListenAddr string
	DSN        string
	// Start builds the component. The stack runs it and calls cleanup
	// after Run has returned.
	Start func(ctx context.Context, env Env) (r Runner, cleanup func(), err error)
}

// Started adapts an app constructor's results, New(ctx, cfg, deps), to
// what Component.Start returns, so that a failed New gives a nil Runner
// rather than a nil *App in one.
func Started[R Runner](r R, cleanup func(), err error) (Runner, func(), error) {
	if err != nil {
		return nil, nil, err
	}
	return r, cleanup, nil
}

// Config configures a stack.
type Config struct {
	// Etcd is the etcd the components use. Nil starts an embedded etcd in
	// EtcdDir at EtcdAddr, closed by Close, unless NoEtcd is set.
	Etcd     *clientv3.Client
	EtcdDir  string // empty: a temporary directory
	EtcdAddr string // empty: 127.0.0.1:0
	// NoEtcd runs the components without etcd: services neither register
	// nor find each other through discovery.
	NoEtcd bool
	// Log receives the stack's own messages; nil discards them.
	Log *slog.Logger
	// Logger returns the logger of a component (and of etcd, as "etcd");
	// nil discards their logs.
	Logger func(name string) *slog.Logger
	// LogLevel, Telemetry and Clock are handed to every component; see Env.
	LogLevel  string
	Telemetry *telemetry.Providers
	Clock     func() time.Time
	// Auth is handed to every component; see Env.
	Auth *auth.Config
}

// Stack is a running etcd and the components added to it.
type Stack struct {
	cfg     Config
	log     *slog.Logger
	etcd    *clientv3.Client
	closers []func() // etcd's, run last first by Close

	mu      sync.Mutex
	running []*Running

	failOnce sync.Once
	failed   chan struct{}
	failure  error
}

// Start starts or connects to etcd. Add components to the stack, then
// Wait for it and Close it.
func Start(ctx context.Context, cfg Config) (*Stack, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Logger == nil {
		cfg.Logger = func(string) *slog.Logger { return slog.New(slog.DiscardHandler) }
	}
	s := &Stack{cfg: cfg, log: cfg.Log, etcd: cfg.Etcd, failed: make(chan struct{})}
	if cfg.Etcd != nil || cfg.NoEtcd {
		return s, nil
	}
	if err := s.startEtcd(ctx); err != nil {
		s.closeEtcd()
		return nil, err
	}
	return s, nil
}

// startEtcd runs the embedded etcd and connects a client to it.
func (s *Stack) startEtcd(ctx context.Context) error {
	if s.cfg.EtcdDir != "" {
		if err := os.MkdirAll(s.cfg.EtcdDir, 0o700); err != nil {
			return fmt.Errorf("etcd: %w", err)
		}
	}
	srv, err := embedetcd.Start(ctx, embedetcd.Config{Dir: s.cfg.EtcdDir, ClientAddr: s.cfg.EtcdAddr, Logger: s.cfg.Logger("etcd")})
	if err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	s.closers = append(s.closers, func() {
		srv.Close()
		s.log.Info("etcd stopped")
	})
	cli, err := clientv3.New(clientv3.Config{Endpoints: srv.Endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return fmt.Errorf("etcd client: %w", err)
	}
	s.closers = append(s.closers, func() { _ = cli.Close() })
	s.etcd = cli
	s.log.Info("etcd ready", "endpoints", srv.Endpoints(), "dir", s.cfg.EtcdDir)
	return nil
}

// Etcd is the stack's etcd client, nil in a stack without etcd.
func (s *Stack) Etcd() *clientv3.Client { return s.etcd }

// Add builds c and runs it. For a service in a stack with etcd it returns
// once the new instance is registered in discovery, so that components
// added later find it.
func (s *Stack) Add(ctx context.Context, c Component) (*Running, error) {
	env := Env{ListenAddr: c.ListenAddr, DSN: c.DSN, LogLevel: s.cfg.LogLevel, Logger: s.cfg.Logger(c.Name),
		Telemetry: s.cfg.Telemetry, Etcd: s.etcd, Clock: s.cfg.Clock, Auth: s.cfg.Auth}
	r, cleanup, err := c.Start(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Name, err)
	}
	// Registrations after this revision are the new instance's.
	var rev int64
	wait := s.etcd != nil && !c.Edge
	if wait {
		resp, err := s.etcd.Get(ctx, discovery.KeyPrefix+c.Name+"/", clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err != nil {
			cleanup()
			return nil, fmt.Errorf("%s: etcd: %w", c.Name, err)
		}
		rev = resp.Header.Revision
	}
	run := s.run(ctx, c.Name, env.Logger, r, cleanup)
	if wait {
		if err := s.waitRegistered(ctx, c.Name, r.Addr(), rev); err != nil {
			return nil, err
		}
	}
	return run, nil
}

// run starts r in its own goroutine and records it for Close.
func (s *Stack) run(ctx context.Context, name string, log *slog.Logger, r Runner, cleanup func()) *Running {
	// Components stop when the stack stops them, in order, not all at once
	// when ctx ends.
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	run := &Running{Name: name, Runner: r, log: log, cancel: cancel, cleanup: cleanup, done: make(chan struct{})}
	go func() {
		defer close(run.done)
		run.err = r.Run(rctx)
		if !run.stopping.Load() {
			s.fail(run)
		}
	}()
	s.mu.Lock()
	s.running = append(s.running, run)
	s.mu.Unlock()
	return run
}

// fail records the first component that ended without being stopped.
func (s *Stack) fail(r *Running) {
	s.failOnce.Do(func() {
		s.failure = fmt.Errorf("%s exited unexpectedly", r.Name)
		if r.err != nil {
			s.failure = fmt.Errorf("%s exited unexpectedly: %w", r.Name, r.err)
		}
		s.log.Error("component exited", "name", r.Name, "error", r.err)
		close(s.failed)
	})
}

// waitRegistered blocks until the instance at addr has put its key in
// discovery after revision rev and the key can be read.
//
// The watch event alone is not enough: etcd sends it to watchers before
// the write is visible to reads, so a serializable read made at once (a
// resolver's first listing, discovery.Endpoints) could still miss the key.
// A linearizable read after the event waits until etcd has applied the
// write, after which every read of that member sees it.
func (s *Stack) waitRegistered(ctx context.Context, service, addr string, rev int64) error {
	ctx, cancel := context.WithTimeout(ctx, registerTimeout)
	defer cancel()
	prefix := discovery.KeyPrefix + service + "/"
	key := prefix + addr
	// Another replica's key can be written again meanwhile (a new lease, a
	// restored key): only this instance's own key counts.
	for wr := range s.etcd.Watch(ctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1)) {
		for _, ev := range wr.Events {
			if ev.Type != clientv3.EventTypePut || string(ev.Kv.Key) != key {
				continue
			}
			resp, err := s.etcd.Get(ctx, key)
			if err != nil {
				return fmt.Errorf("%s: %s: etcd: %w", service, addr, err)
			}
			if len(resp.Kvs) == 1 {
				return nil
			}
			// Put and deleted again (its lease revoked after a timed-out
			// put): the registration will put it once more.
		}
	}
	return fmt.Errorf("%s: %s not registered in discovery: %w", service, addr, context.Cause(ctx))
}

// Wait blocks until ctx is done, then returns nil, or until a component
// exits without being stopped, then returns why.
func (s *Stack) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case <-s.failed:
		return s.failure
	}
}

// Err reports the first component that exited without being stopped, nil
// if none has.
func (s *Stack) Err() error {
	select {
	case <-s.failed:
		return s.failure
	default:
		return nil
	}
}

// Close stops the components in reverse order of Add, then etcd, and
// returns their errors.
func (s *Stack) Close() error {
	s.mu.Lock()
	running := s.running
	s.running = nil
	s.mu.Unlock()
	var errs []error
	for i := len(running) - 1; i >= 0; i-- {
		errs = append(errs, running[i].Stop())
	}
	s.closeEtcd()
	return errors.Join(errs...)
}

func (s *Stack) closeEtcd() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

// Running is a component the stack runs.
type Running struct {
	Name string
	// Runner is what the component's Start built, e.g. a service's *App.
	Runner

	log      *slog.Logger
	cancel   context.CancelFunc
	cleanup  func()
	done     chan struct{}
	err      error // Run's, read after done
	stopping atomic.Bool
	stopOnce sync.Once
	stopErr  error
}

// Stop stops the component: it cancels Run, waits for it to return and
// releases what the component opened. It returns Run's error and is safe
// to call more than once.
func (r *Running) Stop() error {
	r.stopOnce.Do(func() {
		r.stopping.Store(true)
		r.cancel()
		<-r.done
		r.cleanup()
		r.log.Info("stopped")
		if r.err != nil {
			r.stopErr = fmt.Errorf("%s: %w", r.Name, r.err)
		}
	})
	return r.stopErr
}
