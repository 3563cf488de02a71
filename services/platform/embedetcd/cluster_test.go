package embedetcd_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/tenurehq/tenure/services/platform/embedetcd"
)

// freeAddrs returns n loopback addresses that were free a moment ago.
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	var addrs []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, l.Addr().String())
		defer l.Close()
	}
	return addrs
}

// TestCluster starts three members together: a write through one is read
// through another, and with one member stopped the other two still hold a
// quorum and take writes.
func TestCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	peerAddrs := freeAddrs(t, 3)
	peers := map[string]string{}
	for i, a := range peerAddrs {
		peers[fmt.Sprintf("m%d", i)] = a
	}
	type started struct {
		s   *embedetcd.Server
		err error
	}
	results := make([]chan started, 3)
	for i := range 3 {
		results[i] = make(chan started, 1)
		go func() {
			s, err := embedetcd.Start(ctx, embedetcd.Config{Dir: t.TempDir(),
				Cluster: &embedetcd.Cluster{Name: fmt.Sprintf("m%d", i), Peers: peers}})
			results[i] <- started{s, err}
		}()
	}
	servers := make([]*embedetcd.Server, 3)
	for i, ch := range results {
		r := <-ch
		if r.err != nil {
			t.Fatalf("member m%d: %v", i, r.err)
		}
		servers[i] = r.s
		t.Cleanup(r.s.Close)
	}
	client := func(s *embedetcd.Server) *clientv3.Client {
		cli, err := clientv3.New(clientv3.Config{Endpoints: s.Endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cli.Close() })
		return cli
	}
	first, second := client(servers[0]), client(servers[1])
	members, err := first.MemberList(ctx)
	if err != nil || len(members.Members) != 3 {
		t.Fatalf("member list = %v, %v; want 3 members", members, err)
	}
	if _, err := first.Put(ctx, "k", "v1"); err != nil {
		t.Fatal(err)
	}
	if got, err := second.Get(ctx, "k"); err != nil || len(got.Kvs) != 1 || string(got.Kvs[0].Value) != "v1" {
		t.Fatalf("read through another member = %v, %v; want v1", got, err)
	}
	servers[2].Close()
	if _, err := second.Put(ctx, "k", "v2"); err != nil {
		t.Fatalf("write with two of three members: %v", err)
	}
}

func TestClusterNeedsItsOwnPeer(t *testing.T) {
	_, err := embedetcd.Start(context.Background(), embedetcd.Config{Cluster: &embedetcd.Cluster{Name: "x", Peers: map[string]string{"a": "127.0.0.1:1"}}})
	if err == nil || !strings.Contains(err.Error(), `member "x" is not among the peers`) {
		t.Errorf("Start = %v, want an error naming the missing member", err)
	}
}
