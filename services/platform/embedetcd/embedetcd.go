// Package embedetcd runs an etcd server inside the current process, for
// local development (make run), tests and the local cluster of separate
// processes: a single member by default, or one member of a cluster whose
// members are started together. Deployments point at a real etcd cluster
// instead.
package embedetcd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// ErrNotReady is returned by Start when the server does not become ready in time.
var ErrNotReady = errors.New("embedetcd: server not ready")

// readyTimeout bounds how long Start waits for the member to elect itself.
const readyTimeout = 30 * time.Second

// Config configures an embedded etcd server.
type Config struct {
	// Dir is the data directory. Empty means a temporary directory removed by Close.
	Dir string
	// ClientAddr is the host:port clients connect to; "127.0.0.1:0" (the
	// default) picks a free port.
	ClientAddr string
	// Logger receives etcd's log output (its info level is mapped to debug,
	// as it is noisy). Nil discards it.
	Logger *slog.Logger
	// Cluster, when set, makes this server one member of a new cluster:
	// Start returns once a quorum of its members runs, so start them
	// together (separate processes, or goroutines). Nil: a single member.
	Cluster *Cluster
}

// Cluster describes the members of an etcd cluster and this one's place.
type Cluster struct {
	// Name is this member's name, a key of Peers.
	Name string
	// Peers maps every member's name to its peer address (host:port),
	// which this member listens on for its own name.
	Peers map[string]string
	// Token tells this cluster's members from another's (default
	// "tenure").
	Token string
}

// initialCluster returns etcd's --initial-cluster value for c.
func (c *Cluster) initialCluster() (string, error) {
	if _, ok := c.Peers[c.Name]; !ok {
		return "", fmt.Errorf("embedetcd: member %q is not among the peers", c.Name)
	}
	names := make([]string, 0, len(c.Peers))
	for name := range c.Peers {
		names = append(names, name)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = name + "=" + (&url.URL{Scheme: "http", Host: c.Peers[name]}).String()
	}
	return strings.Join(parts, ","), nil
}

// Server is a running embedded etcd.
type Server struct {
	etcd      *embed.Etcd
	endpoints []string
	tempDir   string
	closeOnce sync.Once
	closing   atomic.Bool // demotes etcd's expected shutdown errors
}

// Start starts an etcd server and returns once it is ready to serve clients.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if cfg.ClientAddr == "" {
		cfg.ClientAddr = "127.0.0.1:0"
	}
	s := &Server{}
	if cfg.Dir == "" {
		dir, err := os.MkdirTemp("", "embedetcd-")
		if err != nil {
			return nil, fmt.Errorf("embedetcd: create data dir: %w", err)
		}
		cfg.Dir = dir
		s.tempDir = dir
	}

	ec := embed.NewConfig()
	ec.Name = "tenure"
	ec.Dir = cfg.Dir
	clientURL := url.URL{Scheme: "http", Host: cfg.ClientAddr}
	// The peer port is never dialled by a single member; port 0 avoids
	// clashing with other embedded servers on the same machine.
	peerURL := url.URL{Scheme: "http", Host: "127.0.0.1:0"}
	if c := cfg.Cluster; c != nil {
		initial, err := c.initialCluster()
		if err != nil {
			s.removeTemp()
			return nil, err
		}
		ec.Name, ec.InitialCluster = c.Name, initial
		ec.InitialClusterToken = cmp.Or(c.Token, "tenure")
		peerURL.Host = c.Peers[c.Name]
	}
	ec.ListenClientUrls = []url.URL{clientURL}
	ec.AdvertiseClientUrls = []url.URL{clientURL}
	ec.ListenPeerUrls = []url.URL{peerURL}
	ec.AdvertisePeerUrls = []url.URL{peerURL}
	if cfg.Cluster == nil {
		ec.InitialCluster = ec.InitialClusterFromName(ec.Name)
	}
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zapLogger(cfg.Logger, &s.closing))

	e, err := embed.StartEtcd(ec)
	if err != nil {
		s.removeTemp()
		return nil, fmt.Errorf("embedetcd: start: %w", err)
	}
	s.etcd = e

	timer := time.NewTimer(readyTimeout)
	defer timer.Stop()
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		s.Close()
		return nil, fmt.Errorf("embedetcd: start: %w", err)
	case <-timer.C:
		s.Close()
		return nil, ErrNotReady
	case <-ctx.Done():
		s.Close()
		return nil, ctx.Err()
	}

	for _, l := range e.Clients {
		s.endpoints = append(s.endpoints, "http://"+l.Addr().String())
	}
	return s, nil
}

// Endpoints returns the client URLs, e.g. "http://127.0.0.1:41234".
func (s *Server) Endpoints() []string {
	return append([]string(nil), s.endpoints...)
}

// Close stops the server. It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.closing.Store(true)
		if s.etcd != nil {
			s.etcd.Close()
		}
		s.removeTemp()
	})
}

func (s *Server) removeTemp() {
	if s.tempDir != "" {
		_ = os.RemoveAll(s.tempDir)
	}
}

// zapLogger returns a zap logger that forwards etcd's records to lg;
// closing marks that the server is shutting down.
func zapLogger(lg *slog.Logger, closing *atomic.Bool) *zap.Logger {
	if lg == nil {
		return zap.NewNop()
	}
	return zap.New(&slogCore{lg: lg.With("component", "etcd"), closing: closing})
}
