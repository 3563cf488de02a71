// Package stacktest starts real Tenure components in a test: an embedded
// etcd, any set of services on fresh SQLite or PostgreSQL databases, and
// the gateway, all stopped when the test ends. Every service's API tests,
// the gateway's HTTP tests and the end-to-end tests use it.
//
//	s := stacktest.Start(t, stacktest.Options{})
//	profile := s.Add(profileapp.Component(nil))
//	s.Add(segmentationapp.Component(nil))
//	gw := s.Add(gatewayapp.Component(nil))
//
// Authentication is on, as in production: every stack has its own key file
// holding the test process's admin key (AdminKey), which Dial and
// AuthHeader send, and a service key the services call each other with.
// Tests of authorization add keys of other roles with CreateKey.
package stacktest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/tenurehq/tenure/services/platform/auth"
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
	// Auth replaces the stack's authentication settings (a key file with
	// AdminKey and the service key, reloaded every KeyReloadInterval).
	Auth *auth.Config
}

// KeyReloadInterval is how often a test stack's components reload its key
// file.
const KeyReloadInterval = 100 * time.Millisecond

// keys are the test process's admin and service keys, the same in every
// stack, so that Dial needs no stack.
var keys = sync.OnceValues(func() (admin, service [2]string) {
	now := time.Now()
	for i, k := range []struct {
		name string
		role auth.Role
		out  *[2]string
	}{{"test-admin", auth.Admin, &admin}, {"test-services", auth.Service, &service}} {
		token, key, err := auth.NewKey(k.name, []auth.Role{k.role}, now, time.Time{})
		if err != nil {
			panic(fmt.Sprintf("stacktest: key %d: %v", i, err))
		}
		b, err := json.Marshal(key)
		if err != nil {
			panic(err)
		}
		*k.out = [2]string{token, string(b)}
	}
	return admin, service
})

// AdminKey is the API key with the admin role that every test stack
// accepts.
func AdminKey() string {
	admin, _ := keys()
	return admin[0]
}

// AuthHeader is the authorization header value of AdminKey.
func AuthHeader() string { return "Bearer " + AdminKey() }

// AuthConfig returns the authentication settings of a test stack, for a
// test that builds a component itself: a fresh key file holding AdminKey
// and the service key, which it sends on its calls to other services.
func AuthConfig(t testing.TB) auth.Config {
	t.Helper()
	path, serviceKey := writeKeyFile(t)
	return auth.Config{KeysFile: path, ServiceKey: serviceKey, ReloadInterval: KeyReloadInterval}
}

// writeKeyFile writes a key file with the admin and service keys.
func writeKeyFile(t testing.TB) (path, serviceKey string) {
	t.Helper()
	admin, service := keys()
	var f auth.KeyFile
	for _, k := range [][2]string{admin, service} {
		var key auth.Key
		if err := json.Unmarshal([]byte(k[1]), &key); err != nil {
			t.Fatal(err)
		}
		f.Keys = append(f.Keys, key)
	}
	path = filepath.Join(t.TempDir(), "keys.json")
	if err := auth.WriteKeyFile(path, f); err != nil {
		t.Fatal(err)
	}
	return path, service[0]
}

// Stack is a stack.Stack that belongs to a test.
type Stack struct {
	*stack.Stack
	t      testing.TB
	engine string
	auth   auth.Config
}

// KeysFile is the stack's key file.
func (s *Stack) KeysFile() string { return s.auth.KeysFile }

// CreateKey adds a key with roles to the stack's key file and returns it;
// the components accept it within KeyReloadInterval.
func (s *Stack) CreateKey(name string, roles ...auth.Role) string {
	s.t.Helper()
	key, _, err := auth.CreateKey(s.auth.KeysFile, name, roles, time.Now(), time.Time{})
	if err != nil {
		s.t.Fatalf("create key %s: %v", name, err)
	}
	return key
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
	authCfg := opts.Auth
	if authCfg == nil {
		c := AuthConfig(t)
		authCfg = &c
	}
	s, err := stack.Start(ctx, stack.Config{Etcd: opts.Etcd, NoEtcd: opts.NoEtcd, EtcdDir: dir, EtcdAddr: "127.0.0.1:0",
		Logger: opts.Logger, LogLevel: "error", Telemetry: opts.Telemetry, Clock: opts.Clock, Auth: authCfg})
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
	return &Stack{Stack: s, t: t, engine: engine, auth: *authCfg}
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

// Dial returns a client connection to addr whose calls carry AdminKey,
// closed when the test ends.
func Dial(t testing.TB, addr string) *grpc.ClientConn {
	t.Helper()
	return DialKey(t, addr, AdminKey())
}

// DialKey returns a client connection to addr whose calls carry key (none
// when empty), closed when the test ends.
func DialKey(t testing.TB, addr, key string) *grpc.ClientConn {
	t.Helper()
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if key != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(auth.KeyCredentials{Key: key}))
	}
	cc, err := grpc.NewClient(addr, opts...)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return cc
}
