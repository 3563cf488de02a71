// Package discovery registers service replicas in etcd and dials services
// through etcd with client-side round-robin balancing.
//
// A replica is stored as the key tenure/services/<service>/<host:port> under a
// lease kept alive in the background. A replica started while etcd is down
// serves anyway and registers when etcd answers (Keep). When the lease is
// lost (it expired during an etcd outage or a long pause, or was revoked) the
// registration grants a new lease and puts the key again, retrying with
// backoff; when the key alone is deleted (by an operator or a stray client)
// while the lease lives, the registration puts it back under the same lease.
// Either way a replica heals itself without restarting.
//
// Clients resolve services with Resolver, which never blocks a call on etcd,
// keeps the last known replicas through an etcd outage and follows membership
// for as long as a connection lives.
package discovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/naming/endpoints"
	"google.golang.org/grpc"

	"github.com/tenurehq/tenure/services/platform/backoff"
)

// KeyPrefix is the etcd key prefix under which every service registers.
const KeyPrefix = "tenure/services/"

// DefaultTTL is the lease TTL, in seconds, used when WithTTL is not given.
const DefaultTTL int64 = 10

// Errors returned for invalid arguments.
var (
	ErrInvalidService = errors.New("discovery: invalid service name")
	ErrInvalidAddr    = errors.New("discovery: invalid address")
	ErrInvalidTTL     = errors.New("discovery: invalid ttl")
)

// maxAttemptTimeout bounds one etcd request of a registration.
const maxAttemptTimeout = 5 * time.Second

// Target returns the gRPC target that resolves service through etcd.
func Target(service string) string {
	return "etcd:///" + KeyPrefix + service
}

func serviceKey(service string) string { return KeyPrefix + service }

func validService(service string) error {
	if service == "" || strings.ContainsAny(service, "/ ") {
		return fmt.Errorf("%w: %q", ErrInvalidService, service)
	}
	return nil
}

// RegisterOption configures Register.
type RegisterOption func(*registerOptions)

type registerOptions struct {
	ttl      int64
	logger   *slog.Logger
	onChange func(registered bool)
}

// WithTTL sets the lease TTL in seconds (default 10). A replica that stops
// without deregistering disappears from clients within about this time.
func WithTTL(seconds int64) RegisterOption {
	return func(o *registerOptions) { o.ttl = seconds }
}

// WithLogger sets the logger for lease loss and re-registration.
func WithLogger(lg *slog.Logger) RegisterOption {
	return func(o *registerOptions) { o.logger = lg }
}

// WithOnChange calls f whenever the replica becomes registered or stops
// being registered (its lease was lost, e.g. during an etcd outage), for
// example to report it in a health service. f runs on the registration's
// goroutine and must not block.
func WithOnChange(f func(registered bool)) RegisterOption {
	return func(o *registerOptions) { o.onChange = f }
}

// Registration is a replica's entry in etcd, kept alive until Deregister.
type Registration struct {
	cli     *clientv3.Client
	em      endpoints.Manager
	service string
	addr    string
	key     string
	ttl     int64
	log     *slog.Logger

	onChange   func(bool)
	registered atomic.Bool
	first      chan struct{} // closed once registered the first time

	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	lease   clientv3.LeaseID
	lastErr error // why the last attempt to register failed

	deregisterOnce sync.Once
	deregisterErr  error
}

// Register puts tenure/services/<service>/<addr> under a lease with the
// given TTL and keeps it alive until Deregister is called or cli is closed.
// It returns once the key is in etcd, retrying until ctx is done; ctx bounds
// the initial registration only, the keep-alive loop outlives it. Losing
// the lease later is not reported to the caller: the key is restored with a
// fresh lease, and each failure is logged at warn level.
func Register(ctx context.Context, cli *clientv3.Client, service, addr string, opts ...RegisterOption) (*Registration, error) {
	r, err := Keep(ctx, cli, service, addr, opts...)
	if err != nil {
		return nil, err
	}
	select {
	case <-r.first:
		return r, nil
	case <-r.done:
	case <-ctx.Done():
	}
	// Stop trying, and undo a registration that succeeded just now.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.attemptTimeout())
	_ = r.Deregister(dctx)
	cancel()
	r.mu.Lock()
	last := r.lastErr
	r.mu.Unlock()
	err = ctx.Err()
	if err == nil {
		err = errors.New("etcd client closed")
	}
	return nil, errors.Join(fmt.Errorf("discovery: register %s: %w", r.key, err), last)
}

// Keep registers tenure/services/<service>/<addr> like Register, but in the
// background: it returns at once, and keeps trying while etcd is
// unreachable, so that a replica can serve before it is registered.
// Registered and WithOnChange tell whether it is registered; every failed
// attempt is logged at warn level and success at info level. Only invalid
// arguments are errors. ctx carries values for the background loop, not
// its lifetime: the loop runs until Deregister or until cli is closed.
func Keep(ctx context.Context, cli *clientv3.Client, service, addr string, opts ...RegisterOption) (*Registration, error) {
	o := registerOptions{ttl: DefaultTTL}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	if o.onChange == nil {
		o.onChange = func(bool) {}
	}
	if err := validService(service); err != nil {
		return nil, err
	}
	if addr == "" || strings.Contains(addr, "/") {
		return nil, fmt.Errorf("%w: %q", ErrInvalidAddr, addr)
	}
	if o.ttl <= 0 {
		return nil, fmt.Errorf("%w: %d", ErrInvalidTTL, o.ttl)
	}
	em, err := endpoints.NewManager(cli, serviceKey(service))
	if err != nil {
		return nil, fmt.Errorf("discovery: endpoint manager: %w", err)
	}
	// The logger gets the key, which names the service and the address:
	// the logger may already carry a "service" attribute of its own.
	r := &Registration{
		cli:      cli,
		em:       em,
		service:  service,
		addr:     addr,
		key:      serviceKey(service) + "/" + addr,
		ttl:      o.ttl,
		log:      o.logger.With("key", serviceKey(service)+"/"+addr),
		onChange: o.onChange,
		first:    make(chan struct{}),
		done:     make(chan struct{}),
	}
	// The loop stops on Deregister or when cli is closed: one context says
	// both, so its waits need no second channel.
	loopCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stopOnClose := context.AfterFunc(cli.Ctx(), cancel)
	r.cancel = func() {
		stopOnClose()
		cancel()
	}
	go r.run(loopCtx)
	return r, nil
}

// Registered reports whether the replica's key is in etcd under a lease
// that is being kept alive. It is false until the first registration
// succeeds and while a lost lease is being replaced.
func (r *Registration) Registered() bool { return r.registered.Load() }

func (r *Registration) setRegistered(ok bool) {
	if r.registered.Swap(ok) != ok {
		r.onChange(ok)
	}
}

// Key returns the etcd key of the registration, for operators' tools and
// tests.
func (r *Registration) Key() string { return r.key }

// put grants a lease and writes the key under it. On failure no lease is
// left behind (best effort).
func (r *Registration) put(ctx context.Context) (clientv3.LeaseID, error) {
	grant, err := r.cli.Grant(ctx, r.ttl)
	if err != nil {
		return 0, fmt.Errorf("discovery: grant lease: %w", err)
	}
	ep := endpoints.Endpoint{Addr: r.addr}
	if err := r.em.AddEndpoint(ctx, r.key, ep, clientv3.WithLease(grant.ID)); err != nil {
		r.revoke(context.WithoutCancel(ctx), grant.ID)
		return 0, fmt.Errorf("discovery: put %s: %w", r.key, err)
	}
	return grant.ID, nil
}

// revoke revokes a lease we no longer use, ignoring failures: an unrevoked
// lease expires on its own.
func (r *Registration) revoke(ctx context.Context, id clientv3.LeaseID) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	_, _ = r.cli.Revoke(ctx, id)
}

// run registers, keeps the lease alive and registers again whenever it is
// lost, until ctx is cancelled or the client is closed.
func (r *Registration) run(ctx context.Context) {
	defer close(r.done)
	defer r.setRegistered(false)
	var (
		bo    backoff.Backoff
		lease clientv3.LeaseID
	)
	for {
		old := lease
		lease = r.reregister(ctx)
		if lease == 0 {
			return // stopped
		}
		r.mu.Lock()
		r.lease = lease
		r.mu.Unlock()
		r.setRegistered(true)
		if old == 0 {
			r.log.InfoContext(ctx, "discovery: registered", "lease", int64(lease))
			close(r.first)
		} else {
			// The old lease may still exist if only the keep-alive stream broke.
			r.revoke(ctx, old)
			r.log.InfoContext(ctx, "discovery: re-registered", "lease", int64(lease))
		}

		// Wall time, not an injected clock: the lease's age is measured
		// against etcd's real TTL.
		obtained := time.Now()
		err := r.hold(ctx, lease)
		if ctx.Err() != nil {
			return
		}
		r.setRegistered(false)
		r.log.WarnContext(ctx, "discovery: lease lost, re-registering", "lease", int64(lease), "error", err)

		// A lease lost again right after it was obtained (e.g. keep-alives
		// refused outright) must not turn into a tight grant loop.
		if time.Since(obtained) < time.Duration(r.ttl)*time.Second {
			if bo.Wait(ctx) != nil {
				return
			}
		} else {
			bo.Reset()
		}
	}
}

// hold keeps lease alive and the key present under it until the lease is
// lost or ctx is cancelled. It watches the key: when the key is deleted
// while the lease lives, it is put back under the same lease, retrying
// with backoff. The returned error, if any, explains the loss.
func (r *Registration) hold(ctx context.Context, lease clientv3.LeaseID) error {
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	kch, err := r.cli.KeepAlive(hctx, lease)
	if err != nil {
		return err
	}

	var (
		wch         clientv3.WatchChan // nil until a watch runs
		stopWatch   = func() {}
		bo          backoff.Backoff
		ensureTimer = time.NewTimer(0) // check the key at once
	)
	defer func() { stopWatch() }()
	defer ensureTimer.Stop()
	for {
		select {
		case <-hctx.Done():
			return nil
		case _, ok := <-kch:
			if !ok {
				return nil // the lease is lost, or the client closed
			}
		case wr, ok := <-wch:
			if ok && wr.Err() == nil && !deleted(wr.Events) {
				continue
			}
			// The key was deleted, or the watch broke (e.g. compaction):
			// check the key again from a fresh read.
			stopWatch()
			wch, stopWatch = nil, func() {}
			ensureTimer.Reset(0)
		case <-ensureTimer.C:
			w, stop, err := r.ensure(hctx, lease)
			if err != nil {
				if hctx.Err() != nil {
					return nil
				}
				if errors.Is(err, rpctypes.ErrLeaseNotFound) {
					return err
				}
				r.log.WarnContext(ctx, "discovery: restore key failed", "lease", int64(lease), "error", err)
				ensureTimer.Reset(bo.Next())
				continue
			}
			wch, stopWatch = w, stop
			bo.Reset()
		}
	}
}

// ensure makes sure the key exists under lease, putting it back if it is
// missing (or held by another lease), and returns a watch on the key that
// starts right after the state it checked.
func (r *Registration) ensure(ctx context.Context, lease clientv3.LeaseID) (clientv3.WatchChan, func(), error) {
	actx, cancel := context.WithTimeout(ctx, r.attemptTimeout())
	defer cancel()
	var resp *clientv3.GetResponse
	for restored := false; ; restored = true {
		var err error
		resp, err = r.cli.Get(actx, r.key)
		if err != nil {
			return nil, nil, fmt.Errorf("discovery: get %s: %w", r.key, err)
		}
		if len(resp.Kvs) == 1 && clientv3.LeaseID(resp.Kvs[0].Lease) == lease {
			if restored {
				r.log.InfoContext(ctx, "discovery: key restored", "lease", int64(lease))
			}
			break
		}
		r.log.WarnContext(ctx, "discovery: key missing, restoring it", "lease", int64(lease))
		ep := endpoints.Endpoint{Addr: r.addr}
		if err := r.em.AddEndpoint(actx, r.key, ep, clientv3.WithLease(lease)); err != nil {
			return nil, nil, fmt.Errorf("discovery: put %s: %w", r.key, err)
		}
	}
	wctx, stop := context.WithCancel(ctx)
	return r.cli.Watch(wctx, r.key, clientv3.WithRev(resp.Header.Revision+1)), stop, nil
}

// deleted reports whether events include a deletion of the key.
func deleted(events []*clientv3.Event) bool {
	for _, ev := range events {
		if ev.Type == clientv3.EventTypeDelete {
			return true
		}
	}
	return false
}

func (r *Registration) attemptTimeout() time.Duration {
	return min(max(time.Duration(r.ttl)*time.Second, time.Second), maxAttemptTimeout)
}

// reregister grants a lease and puts the key, retrying with jittered
// exponential backoff. It returns 0 when the loop is stopped.
func (r *Registration) reregister(ctx context.Context) clientv3.LeaseID {
	var bo backoff.Backoff
	attemptTimeout := r.attemptTimeout()
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		lease, err := r.put(actx)
		cancel()
		r.mu.Lock()
		r.lastErr = err
		r.mu.Unlock()
		if err == nil {
			return lease
		}
		if ctx.Err() != nil {
			return 0
		}
		r.log.WarnContext(ctx, "discovery: not registered, retrying", "attempt", attempt, "error", err)
		if bo.Wait(ctx) != nil {
			return 0
		}
	}
}

// Deregister stops the keep-alive loop, deletes the key and revokes the
// lease, so clients stop routing to this replica at once. Calls after the
// first return the first call's result.
func (r *Registration) Deregister(ctx context.Context) error {
	r.deregisterOnce.Do(func() {
		r.cancel()
		select {
		case <-r.done:
		case <-ctx.Done():
			r.deregisterErr = fmt.Errorf("discovery: deregister %s: %w", r.key, ctx.Err())
			return
		}
		r.mu.Lock()
		lease := r.lease
		r.mu.Unlock()
		if lease == 0 {
			return // never registered: nothing to delete
		}

		var errs []error
		if err := r.em.DeleteEndpoint(ctx, r.key); err != nil {
			errs = append(errs, fmt.Errorf("discovery: delete %s: %w", r.key, err))
		}
		if _, err := r.cli.Revoke(ctx, lease); err != nil {
			errs = append(errs, fmt.Errorf("discovery: revoke lease: %w", err))
		}
		r.deregisterErr = errors.Join(errs...)
	})
	return r.deregisterErr
}

// Dial returns a client connection to service through a Resolver of its
// own; see Resolver.Dial. Processes that dial several services share one
// Resolver instead.
func Dial(cli *clientv3.Client, service string, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	return NewResolver(cli, nil).Dial(service, opts...)
}

// Endpoints returns the addresses currently registered for service, sorted.
func Endpoints(ctx context.Context, cli *clientv3.Client, service string) ([]string, error) {
	if err := validService(service); err != nil {
		return nil, err
	}
	em, err := endpoints.NewManager(cli, serviceKey(service))
	if err != nil {
		return nil, fmt.Errorf("discovery: endpoint manager: %w", err)
	}
	eps, err := em.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("discovery: list %s: %w", service, err)
	}
	addrs := make([]string, 0, len(eps))
	for _, ep := range eps {
		addrs = append(addrs, ep.Addr)
	}
	sort.Strings(addrs)
	return addrs, nil
}
