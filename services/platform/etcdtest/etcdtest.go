// Package etcdtest starts embedded etcd servers and clients for tests.
package etcdtest

import (
	"context"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"

	"github.com/tenurehq/tenure/services/platform/embedetcd"
)

// Start runs an embedded etcd in a temporary directory and closes it when the
// test ends.
func Start(t testing.TB) *embedetcd.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := embedetcd.Start(ctx, embedetcd.Config{Dir: t.TempDir(), ClientAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatalf("start embedded etcd: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Client returns a client connected to s, closed when the test ends.
func Client(t testing.TB, s *embedetcd.Server) *clientv3.Client {
	t.Helper()
	return newClient(t, s.Endpoints())
}

// newClient connects to endpoints with opts and closes the client when the
// test ends.
func newClient(t testing.TB, endpoints []string, opts ...grpc.DialOption) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(), // keep the client's retry chatter out of test output
		DialOptions: opts,
	})
	if err != nil {
		t.Fatalf("etcd client: %v", err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}
