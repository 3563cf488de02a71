package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/status"

	"github.com/tenurehq/tenure/services/platform/backoff"
	"github.com/tenurehq/tenure/services/platform/grpcclient"
)

// Scheme is the gRPC resolver scheme of Target.
const Scheme = "etcd"

// listTimeout bounds one read of a service's endpoints, so that a resolver
// notices an unreachable etcd and says so instead of waiting.
const listTimeout = 5 * time.Second

// errWatchClosed explains a watch that ended without an error response.
var errWatchClosed = errors.New("discovery: watch closed")

// Resolver is the gRPC name resolver (a resolver.Builder) for Target
// addresses. It differs from etcd's own naming resolver in what happens
// when etcd misbehaves:
//
//   - Build never blocks: the first read of the endpoints runs in the
//     background, retried with backoff, so a call made while etcd is down
//     still ends at its own deadline. Until a read has answered, calls wait
//     for it.
//   - A service with no replica registered fails calls at once with
//     UNAVAILABLE (unless they wait for ready) rather than at their
//     deadline; a replica registering later is used from then on.
//   - The last known endpoints are kept through an etcd outage, and a
//     connection that rebuilds its resolver starts from them.
//   - It follows membership for as long as the connection lives: when its
//     watch ends (compaction, an etcd restart, a lost leader) it reads the
//     endpoints again and watches from there.
//
// One Resolver may serve any number of connections.
type Resolver struct {
	cli *clientv3.Client
	log *slog.Logger

	mu    sync.Mutex
	known map[string][]string // service → last known addresses, sorted
}

// NewResolver returns a resolver reading cli. lg receives watch and read
// failures; nil discards them.
func NewResolver(cli *clientv3.Client, lg *slog.Logger) *Resolver {
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	return &Resolver{cli: cli, log: lg, known: map[string][]string{}}
}

// Scheme implements resolver.Builder.
func (r *Resolver) Scheme() string { return Scheme }

// Endpoints returns the addresses of service's replicas last delivered to
// its connections, sorted; during an etcd outage, the last ones known. It is
// empty until a connection to service has resolved it.
func (r *Resolver) Endpoints(service string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.known[service])
}

// Dial returns a client connection to service that resolves its replicas
// through r and balances calls round-robin across them, with the settings of
// grpcclient.DialOptions. The connection starts resolving and connecting at
// once and never goes idle, so it keeps following membership. opts are
// applied after the defaults and may override them.
func (r *Resolver) Dial(service string, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	if err := validService(service); err != nil {
		return nil, err
	}
	all := append(grpcclient.DialOptions(grpcclient.Options{}),
		grpc.WithResolvers(r),
		grpc.WithIdleTimeout(0),
	)
	conn, err := grpc.NewClient(Target(service), append(all, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("discovery: dial %s: %w", service, err)
	}
	conn.Connect()
	return conn, nil
}

// Build implements resolver.Builder. It returns at once.
func (r *Resolver) Build(target resolver.Target, cc resolver.ClientConn, _ resolver.BuildOptions) (resolver.Resolver, error) {
	path := target.URL.Path
	if path == "" {
		path = target.URL.Opaque
	}
	service, ok := strings.CutPrefix(strings.TrimPrefix(path, "/"), KeyPrefix)
	if !ok || validService(service) != nil {
		return nil, fmt.Errorf("discovery: target %q is not %s", target.URL.String(), Target("<service>"))
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &watcher{
		res:     r,
		service: service,
		prefix:  serviceKey(service) + "/",
		cc:      cc,
		log:     r.log.With("service", service),
		cancel:  cancel,
		done:    make(chan struct{}),
	}
	go w.run(ctx)
	return w, nil
}

// remember records the addresses last delivered for service.
func (r *Resolver) remember(service string, addrs []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.known[service] = addrs
}

// watcher resolves one connection's target.
type watcher struct {
	res     *Resolver
	service string
	prefix  string // tenure/services/<service>/
	cc      resolver.ClientConn
	log     *slog.Logger
	cancel  context.CancelFunc
	done    chan struct{}

	eps       map[string]string // key → address, as last read
	delivered bool              // some state has reached cc
}

// ResolveNow implements resolver.Resolver. The watch delivers every change,
// so there is nothing to do.
func (w *watcher) ResolveNow(resolver.ResolveNowOptions) {}

// Close implements resolver.Resolver.
func (w *watcher) Close() {
	w.cancel()
	<-w.done
}

// run reads and watches the endpoints until Close: read, watch from the
// revision read, and after the watch ends or a read fails, back off and read
// again.
func (w *watcher) run(ctx context.Context) {
	defer close(w.done)
	if addrs := w.res.Endpoints(w.service); len(addrs) > 0 {
		w.push(addrs) // a previous connection's view, until etcd answers
	}
	var bo backoff.Backoff
	for {
		if rev, err := w.list(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			w.unreachable(err)
		} else {
			progressed, err := w.watch(ctx, rev)
			if ctx.Err() != nil {
				return
			}
			if progressed {
				bo.Reset()
			}
			w.log.Info("discovery: watch ended, reading endpoints again", "error", err)
		}
		if backoff.Sleep(ctx, bo.Next()) != nil {
			return
		}
	}
}

// list reads every endpoint of the service and delivers them; it returns
// the revision read.
func (w *watcher) list(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, listTimeout)
	defer cancel()
	resp, err := w.res.cli.Get(ctx, w.prefix, clientv3.WithPrefix())
	if err != nil {
		return 0, fmt.Errorf("discovery: list %s: %w", w.prefix, err)
	}
	w.eps = make(map[string]string, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		if addr, ok := w.decode(kv.Key, kv.Value); ok {
			w.eps[string(kv.Key)] = addr
		}
	}
	w.deliver()
	return resp.Header.Revision, nil
}

// watch applies changes after rev until the watch ends. It reports whether
// any response arrived, and why the watch ended.
func (w *watcher) watch(ctx context.Context, rev int64) (progressed bool, err error) {
	// RequireLeader ends the watch when its etcd member loses the cluster's
	// leader, rather than leaving it silently stale.
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	wch := w.res.cli.Watch(wctx, w.prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
	for wr := range wch {
		if err := wr.Err(); err != nil {
			return progressed, fmt.Errorf("discovery: watch %s: %w", w.prefix, err)
		}
		progressed = true
		for _, ev := range wr.Events {
			key := string(ev.Kv.Key)
			if ev.Type == clientv3.EventTypeDelete {
				delete(w.eps, key)
			} else if addr, ok := w.decode(ev.Kv.Key, ev.Kv.Value); ok {
				w.eps[key] = addr
			}
		}
		if len(wr.Events) > 0 {
			w.deliver()
		}
	}
	return progressed, errWatchClosed
}

// decode reads an endpoint written by endpoints.Manager ({"Addr": …}).
func (w *watcher) decode(key, value []byte) (string, bool) {
	var ep struct{ Addr string }
	if err := json.Unmarshal(value, &ep); err != nil || ep.Addr == "" {
		w.log.Warn("discovery: ignoring malformed endpoint", "key", string(key), "error", err)
		return "", false
	}
	return ep.Addr, true
}

// deliver hands the current endpoints to the connection. An empty set is
// delivered too: the balancer then fails calls that do not wait for ready
// with UNAVAILABLE at once, instead of holding them until their deadline.
func (w *watcher) deliver() {
	addrs := make([]string, 0, len(w.eps))
	for _, a := range w.eps {
		addrs = append(addrs, a)
	}
	slices.Sort(addrs)
	w.push(slices.Compact(addrs))
}

func (w *watcher) push(addrs []string) {
	state := resolver.State{Addresses: make([]resolver.Address, len(addrs))}
	for i, a := range addrs {
		state.Addresses[i] = resolver.Address{Addr: a}
	}
	w.res.remember(w.service, addrs)
	w.delivered = true
	// An error only says the balancer has no address (an empty set); the
	// watch will deliver the next change anyway.
	_ = w.cc.UpdateState(state)
}

// unreachable reports a failed read. With endpoints known the connection
// keeps using them; without, its calls fail with UNAVAILABLE rather than
// wait for etcd.
func (w *watcher) unreachable(err error) {
	if w.delivered {
		w.log.Warn("discovery: etcd unreachable, keeping the last known endpoints", "error", err)
		return
	}
	w.log.Warn("discovery: etcd unreachable and no endpoint known", "error", err)
	w.cc.ReportError(status.Errorf(codes.Unavailable, "discovery: no endpoint of %s known: %v", w.service, err))
}
