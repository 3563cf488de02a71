package etcdtest

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
)

// Proxy forwards TCP connections to an etcd server. Clients that dial the
// proxy lose etcd when the test cuts it — every connection closes at once,
// as an etcd crash or a partition would do — and find it again when the
// test points the proxy at a server, which may be started only then.
type Proxy struct {
	lis net.Listener

	mu     sync.Mutex
	target string // host:port; empty refuses connections
	conns  map[net.Conn]struct{}
}

// NewProxy listens on a free local port and forwards to target, an etcd
// client URL such as Server.Endpoints()[0]; an empty target refuses
// connections until Forward is called. The proxy closes when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p := &Proxy{lis: lis, conns: map[net.Conn]struct{}{}}
	p.Forward(target)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

// Endpoint is the proxy's client URL.
func (p *Proxy) Endpoint() string { return "http://" + p.lis.Addr().String() }

// Client returns an etcd client that connects through the proxy, closed when
// the test ends. It retries a refused connection at least every second
// (gRPC's default backoff grows to two minutes), so that tests see etcd
// return promptly.
func (p *Proxy) Client(t testing.TB) *clientv3.Client {
	t.Helper()
	return newClient(t, []string{p.Endpoint()}, grpc.WithConnectParams(grpc.ConnectParams{
		Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
		MinConnectTimeout: time.Second,
	}))
}

// Forward sends new connections to target, an etcd client URL.
func (p *Proxy) Forward(target string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = strings.TrimPrefix(target, "http://")
}

// Cut closes every open connection and refuses new ones until Forward.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = ""
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *Proxy) serve() {
	for {
		in, err := p.lis.Accept()
		if err != nil {
			return
		}
		go p.pipe(in)
	}
}

func (p *Proxy) pipe(in net.Conn) {
	p.mu.Lock()
	target := p.target
	p.mu.Unlock()
	if target == "" {
		in.Close()
		return
	}
	out, err := net.Dial("tcp", target)
	if err != nil {
		in.Close()
		return
	}
	p.mu.Lock()
	if p.target != target { // cut while dialling
		p.mu.Unlock()
		in.Close()
		out.Close()
		return
	}
	p.conns[in], p.conns[out] = struct{}{}, struct{}{}
	p.mu.Unlock()
	go func() { _, _ = io.Copy(out, in); out.Close() }()
	_, _ = io.Copy(in, out)
	in.Close()
	p.mu.Lock()
	delete(p.conns, in)
	delete(p.conns, out)
	p.mu.Unlock()
}

func (p *Proxy) close() {
	p.lis.Close()
	p.Cut()
}
