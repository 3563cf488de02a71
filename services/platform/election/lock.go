package election

import (
	"context"
	"errors"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// LockPrefix is the etcd key prefix of every lock.
const LockPrefix = "tenure/locks/"

// ErrLocked is returned by Locker.TryLock when another holder has the lock.
var ErrLocked = errors.New("election: lock held elsewhere")

// Locker takes a cluster-wide lock, tenure/locks/<name>, for work that must
// not run on two replicas at once but is started on demand rather than by an
// elected leader (Run). The lock is held under an etcd session of TTL
// seconds, so a holder that dies releases it within about TTL. Like
// elections, locks are not fenced: guard the work's writes as well.
type Locker struct {
	cli *clientv3.Client
	key string
}

// NewLocker returns a Locker for lock name over cli.
func NewLocker(cli *clientv3.Client, name string) (*Locker, error) {
	if err := validName(name); err != nil {
		return nil, err
	}
	if cli == nil {
		return nil, errors.New("election: nil client")
	}
	return &Locker{cli: cli, key: LockPrefix + name}, nil
}

// TryLock takes the lock if it is free and returns a function that releases
// it; it fails at once with ErrLocked if another holder has it. The release
// function revokes the session, bounded by a few seconds, and may be called
// once.
func (l *Locker) TryLock(ctx context.Context) (unlock func(), err error) {
	// Grant the lease with ctx, as Run does, so that an unreachable etcd
	// costs the caller its deadline, not an unbounded wait; the session
	// then lives until unlock, beyond ctx.
	lease, err := l.cli.Grant(ctx, TTL)
	if err != nil {
		return nil, fmt.Errorf("election: lock lease: %w", err)
	}
	sess, err := concurrency.NewSession(l.cli, concurrency.WithLease(lease.ID), concurrency.WithTTL(TTL))
	if err != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
		defer cancel()
		_, _ = l.cli.Revoke(rctx, lease.ID)
		return nil, fmt.Errorf("election: lock session: %w", err)
	}
	m := concurrency.NewMutex(sess, l.key)
	if err := m.TryLock(ctx); err != nil {
		_ = sess.Close()
		if errors.Is(err, concurrency.ErrLocked) {
			return nil, fmt.Errorf("%w: %s", ErrLocked, l.key)
		}
		return nil, fmt.Errorf("election: lock %s: %w", l.key, err)
	}
	return func() {
		rctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
		defer cancel()
		_ = m.Unlock(rctx)
		_ = sess.Close()
	}, nil
}
