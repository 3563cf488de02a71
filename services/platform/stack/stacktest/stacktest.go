// Package stacktest starts real Tenure components in a test: an embedded
// etcd, any set of services on fresh SQLite or PostgreSQL databases, and
// the gateway, all stopped when the test ends. Every service's API tests,
// the gateway's HTTP tests and the end-to-end tests use it.
//
//	s := stacktest.Start(t, stacktest.Options{})
//	profile := s.Add(profileapp.Component(nil))
//	s.Add(segmentationapp.Component(nil))
//	gw := s.Add(gatewayapp.Component(nil))
package stacktest

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"github.com/tenurehq/tenure/services/platform/stack"
	"github.com/tenurehq/tenure/services/platform/telemetry"
)

// Engines are the database engines a stack can give its services.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Options configure a test stack. The zero value is a fresh embedded etcd
// and SQLite databases.
type Options struct {
	// Etcd shares an etcd between stacks; nil starts a fresh one for this
	// stack.
	Etcd *clientv3.Client
	// NoEtcd runs the services without etcd (see stack.Config).
	NoEtcd bool
	// Engine is the database of every service added without a DSN:
	// SQLite (the default) or Postgres, a throw-away database from
	// sqlstoretest (skipped when the server is unreachable, except in CI).
	Engine string
	// Telemetry is shared by every component; nil gives each its own.
	Telemetry *telemetry.Providers
	// Clock is every component's "now"; nil is the wall clock.
	Clock func() time.Time
	// Logger returns a component's logger; nil discards the logs.
	Logger func(name string) *slog.Logger
}

// Stack is a stack.Stack that belongs to a test.
type Stack struct {
	*stack.Stack
	t      testing.TB
	engine string
}

// Start starts etcd (unless opts say otherwise); the stack and everything
// added to it stop when the test ends.
func Start(t testing.TB, opts Options) *Stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var dir string
	if opts.Etcd == nil && !opts.NoEtcd {
		dir = t.TempDir()
	}
	s, err := stack.Start(ctx, stack.Config{Etcd: opts.Etcd, NoEtcd: opts.NoEtcd, EtcdDir: dir, EtcdAddr: "127.0.0.1:0",
		Logger: opts.Logger, LogLevel: "error", Telemetry: opts.Telemetry, Clock: opts.Clock})
	if err != nil {
		t.Fatalf("start stack: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("stop stack: %v", err)
		}
		if err := s.Err(); err != nil {
			t.Errorf("stack: %v", err)
		}
	})
	engine := opts.Engine
	if engine == "" {
		engine = SQLite
	}
	return &Stack{Stack: s, t: t, engine: engine}
}

// Add starts c on 127.0.0.1:0 (unless c says where), a service on a fresh
// database of the stack's engine (unless c names one), and returns once a
// service is registered in discovery. The component stops when the test
// ends, before its database is dropped, or earlier by Stop.
func (s *Stack) Add(c stack.Component) *stack.Running {
	s.t.Helper()
	if c.ListenAddr == "" {
		c.ListenAddr = "127.0.0.1:0"
	}
	if c.DSN == "" && !c.Edge {
		c.DSN = DSN(s.t, s.engine, c.Name)
	}
	r, err := s.Stack.Add(context.Background(), c)
	if err != nil {
		s.t.Fatalf("start %s: %v", c.Name, err)
	}
	s.t.Cleanup(func() {
		if err := r.Stop(); err != nil {
			s.t.Errorf("stop %s: %v", c.Name, err)
		}
	})
	return r
}

// DSN returns a fresh database of engine for the test: a SQLite file named
// for name in a temporary directory, or a throw-away PostgreSQL database.
func DSN(t testing.TB, engine, name string) string {
	t.Helper()
	switch engine {
	case SQLite:
		return "sqlite:" + filepath.Join(t.TempDir(), name+".db")
	case Postgres:
		_, dsn := sqlstoretest.PostgresDSN(t)
		return dsn
	}
	t.Fatalf("engine %q: want %q or %q", engine, SQLite, Postgres)
	return ""
}

// Engines runs fn as the subtests "sqlite" and "postgres".
func Engines(t *testing.T, fn func(t *testing.T, engine string)) {
	t.Helper()
	for _, e := range []string{SQLite, Postgres} {
		t.Run(e, func(t *testing.T) { fn(t, e) })
	}
}

// Dial returns a client connection to addr, closed when the test ends.
func Dial(t testing.TB, addr string) *grpc.ClientConn {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return cc
}
