// Package election runs a function on exactly one replica at a time, chosen
// by etcd leader election (Run), and takes cluster-wide locks for work
// started on demand that must not overlap across replicas (Locker).
//
// Each contender holds an etcd session (a lease kept alive in the background)
// and campaigns under tenure/elections/<name>. The winner runs fn with a
// context that is cancelled as soon as its leadership ends: its session
// expires, its election key is deleted (for example when the lease is
// revoked), or the caller's context is done. A contender that loses its
// leadership waits for fn to return and campaigns again with a new session.
// On shutdown the leader resigns and revokes its lease, so another replica
// takes over at once instead of waiting for the lease TTL.
//
// etcd elections are not fenced: after a session is lost behind the leader's
// back (a long pause, a partition) the next leader may start before the old
// fn has noticed its cancelled context. Jobs run under an election must stay
// safe if that happens, e.g. by writing through guarded or idempotent updates.
package election

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/tenurehq/tenure/services/platform/backoff"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// KeyPrefix is the etcd key prefix of every election.
const KeyPrefix = "tenure/elections/"

// TTL is the session lease TTL in seconds: a leader that dies without
// resigning is replaced within about this time.
const TTL = 10

// Errors returned by Run and Leader.
var (
	ErrInvalidName = errors.New("election: invalid election name")
	ErrInvalidID   = errors.New("election: invalid contender id")
	ErrNoLeader    = errors.New("election: no leader")
)

const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
	// releaseTimeout bounds resigning and revoking the session on the way out.
	releaseTimeout = 5 * time.Second
	// returnedPause is how long a contender waits before campaigning again
	// after fn returned on its own, so that a fn that returns at once does not
	// spin.
	returnedPause = time.Second
)

// errFnReturned marks a term that ended because fn returned while still
// leader.
var errFnReturned = errors.New("election: fn returned while leader")

func electionKey(name string) string { return KeyPrefix + name }

func validName(name string) error {
	if name == "" || strings.ContainsAny(name, "/ ") {
		return fmt.Errorf("%w: %q", ErrInvalidName, name)
	}
	return nil
}

// RunOrAlone is Run when there is etcd (cli set). Without etcd the process
// has no peers to elect among, so it leads alone: fn runs until ctx is done.
func RunOrAlone(ctx context.Context, cli *clientv3.Client, name string, id string, logger *slog.Logger, fn func(ctx context.Context)) error {
	if cli == nil && fn != nil {
		fn(ctx)
		return nil
	}
	return Run(ctx, cli, name, id, logger, fn)
}

// Run campaigns for leadership of election tenure/elections/<name> under the
// contender id and, while leader, runs fn with a context cancelled when the
// leadership is lost or ctx is done. fn must return promptly once its context
// is cancelled; Run does not campaign again, or resign, before it has. If fn
// returns while still leader, Run resigns and campaigns again after a pause.
// A panic in fn is recovered and logged like an fn that returned.
//
// Run keeps campaigning across etcd errors and session loss (logged at warn
// level, retried with backoff) and returns nil once ctx is done, after
// resigning. It returns an error only for invalid arguments.
func Run(ctx context.Context, cli *clientv3.Client, name string, id string, logger *slog.Logger, fn func(ctx context.Context)) error {
	if err := validName(name); err != nil {
		return err
	}
	if id == "" {
		return fmt.Errorf("%w: empty", ErrInvalidID)
	}
	if cli == nil || fn == nil {
		return errors.New("election: nil client or fn")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &contender{cli: cli, key: electionKey(name), id: id, log: logger.With("election", name, "id", id), fn: fn}

	bo := backoff.Backoff{Min: minBackoff, Max: maxBackoff}
	for ctx.Err() == nil {
		err := c.term(ctx)
		if ctx.Err() != nil {
			break
		}
		var wait time.Duration
		switch {
		case err == nil:
			bo.Reset()
		case errors.Is(err, errFnReturned):
			bo.Reset()
			wait = returnedPause
		default:
			wait = bo.Next()
			c.log.WarnContext(ctx, "election: campaign failed, retrying", "error", err, "backoff", wait)
		}
		if wait > 0 {
			_ = backoff.Sleep(ctx, wait)
		}
	}
	return nil
}

// Leader returns the id of the current leader of election name, or
// ErrNoLeader when nobody holds it.
func Leader(ctx context.Context, cli *clientv3.Client, name string) (string, error) {
	if err := validName(name); err != nil {
		return "", err
	}
	// concurrency.Election keeps candidates under "<prefix>/"; the oldest
	// key is the leader.
	resp, err := cli.Get(ctx, electionKey(name)+"/", clientv3.WithFirstCreate()...)
	if err != nil {
		return "", fmt.Errorf("election: get leader: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return "", ErrNoLeader
	}
	return string(resp.Kvs[0].Value), nil
}

type contender struct {
	cli *clientv3.Client
	key string
	id  string
	log *slog.Logger
	fn  func(ctx context.Context)
}

// term runs one session: campaign, lead until leadership is lost, release.
// It returns nil when leadership was lost (or ctx is done), errFnReturned
// when fn returned on its own, and any etcd error otherwise.
func (c *contender) term(ctx context.Context) error {
	// Grant the lease with ctx so that shutdown interrupts a slow etcd; the
	// session itself lives on a context of its own so that it can still be
	// revoked after ctx is done.
	lease, err := c.cli.Grant(ctx, TTL)
	if err != nil {
		return fmt.Errorf("grant lease: %w", err)
	}
	sessCtx, cancelSess := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSess()
	sess, err := concurrency.NewSession(c.cli, concurrency.WithLease(lease.ID), concurrency.WithTTL(TTL), concurrency.WithContext(sessCtx))
	if err != nil {
		c.revoke(ctx, lease.ID)
		return fmt.Errorf("session: %w", err)
	}
	defer func() {
		sess.Orphan()
		c.revoke(ctx, sess.Lease())
	}()

	e := concurrency.NewElection(sess, c.key)
	campCtx, cancelCamp := context.WithCancel(ctx)
	stop := cancelOnClose(campCtx, cancelCamp, sess.Done())
	err = e.Campaign(campCtx, c.id)
	stop()
	cancelCamp()
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		select {
		case <-sess.Done():
			return errors.New("session lost while campaigning")
		default:
			return fmt.Errorf("campaign: %w", err)
		}
	}

	// Campaign can return after the session lapsed (its key is then gone),
	// so confirm the key is still ours before leading, and watch it from
	// there on.
	resp, err := c.cli.Get(ctx, e.Key())
	if err != nil {
		return fmt.Errorf("confirm leadership: %w", err)
	}
	if len(resp.Kvs) == 0 || resp.Kvs[0].CreateRevision != e.Rev() {
		return errors.New("leadership lost before it started")
	}
	return c.lead(ctx, sess, e, resp.Header.Revision)
}

// lead runs fn until leadership ends, then resigns if it still holds it.
func (c *contender) lead(ctx context.Context, sess *concurrency.Session, e *concurrency.Election, rev int64) error {
	leadCtx, cancelLead := context.WithCancel(ctx)
	defer cancelLead()
	watchCtx := clientv3.WithRequireLeader(leadCtx)
	wch := c.cli.Watch(watchCtx, e.Key(), clientv3.WithRev(rev+1))

	monitorDone := make(chan struct{})
	go func() {
		defer close(monitorDone)
		defer cancelLead()
		for {
			select {
			case <-leadCtx.Done():
				return
			case <-sess.Done():
				c.log.WarnContext(ctx, "election: session expired, leadership lost")
				return
			case wr, ok := <-wch:
				if !ok || wr.Err() != nil {
					if leadCtx.Err() == nil {
						c.log.WarnContext(ctx, "election: lost watch on leadership key, stepping down", "error", wr.Err())
					}
					return
				}
				for _, ev := range wr.Events {
					if ev.Type == clientv3.EventTypeDelete {
						c.log.WarnContext(ctx, "election: leadership key deleted, leadership lost")
						return
					}
				}
			}
		}
	}()

	c.log.InfoContext(ctx, "election: became leader")
	c.run(leadCtx)
	stillLeader := leadCtx.Err() == nil
	cancelLead()
	<-monitorDone
	c.log.InfoContext(ctx, "election: leadership ended")

	if stillLeader || ctx.Err() != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
		defer cancel()
		if err := e.Resign(rctx); err != nil {
			c.log.WarnContext(ctx, "election: resign", "error", err)
		}
	}
	if stillLeader {
		return errFnReturned
	}
	return nil
}

// run calls fn, recovering a panic so that one failing job does not take the
// process down.
func (c *contender) run(ctx context.Context) {
	defer func() {
		if r := recover(); r != nil {
			c.log.ErrorContext(ctx, "election: fn panicked", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	c.fn(ctx)
}

// revoke revokes a session lease, which deletes the election key attached to
// it; errors (e.g. the lease already expired) are only logged.
func (c *contender) revoke(ctx context.Context, id clientv3.LeaseID) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	if _, err := c.cli.Revoke(rctx, id); err != nil {
		c.log.DebugContext(ctx, "election: revoke session lease", "error", err)
	}
}

// cancelOnClose calls cancel when done closes, until stop is called or ctx
// is done.
func cancelOnClose(ctx context.Context, cancel context.CancelFunc, done <-chan struct{}) (stop func()) {
	quit := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		select {
		case <-done:
			cancel()
		case <-ctx.Done():
		case <-quit:
		}
	}()
	return func() {
		close(quit)
		<-exited
	}
}
