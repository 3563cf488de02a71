package election_test

import (
	"context"
	"errors"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/tenurehq/tenure/services/platform/election"
	"github.com/tenurehq/tenure/services/platform/etcdtest"
)

func newLocker(t *testing.T, cli *clientv3.Client, name string) *election.Locker {
	t.Helper()
	l, err := election.NewLocker(cli, name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestLockerExcludes takes one lock from two replicas: the second fails at
// once with ErrLocked until the first releases it.
func TestLockerExcludes(t *testing.T) {
	ctx := context.Background()
	srv := etcdtest.Start(t)
	a := newLocker(t, etcdtest.Client(t, srv), "job")
	b := newLocker(t, etcdtest.Client(t, srv), "job")

	unlockA, err := a.TryLock(ctx)
	if err != nil {
		t.Fatalf("first TryLock: %v", err)
	}
	if _, err := b.TryLock(ctx); !errors.Is(err, election.ErrLocked) {
		t.Fatalf("TryLock while held elsewhere = %v, want ErrLocked", err)
	}
	if _, err := a.TryLock(ctx); !errors.Is(err, election.ErrLocked) {
		t.Fatalf("TryLock while held by the same replica = %v, want ErrLocked", err)
	}
	other := newLocker(t, etcdtest.Client(t, srv), "other-job")
	unlockOther, err := other.TryLock(ctx)
	if err != nil {
		t.Fatalf("TryLock of another lock: %v", err)
	}
	unlockOther()

	unlockA()
	unlockB, err := b.TryLock(ctx)
	if err != nil {
		t.Fatalf("TryLock after release: %v", err)
	}
	unlockB()
}

// TestLockerReleasedWithHolderSession expires the holder's session lease,
// as etcd does when the holder dies: the lock is free again.
func TestLockerReleasedWithHolderSession(t *testing.T) {
	ctx := context.Background()
	srv := etcdtest.Start(t)
	admin := etcdtest.Client(t, srv)
	if _, err := newLocker(t, etcdtest.Client(t, srv), "job").TryLock(ctx); err != nil {
		t.Fatal(err)
	}
	resp, err := admin.Get(ctx, election.LockPrefix+"job/", clientv3.WithPrefix())
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("lock keys = %v, %v; want one", resp, err)
	}
	if _, err := admin.Revoke(ctx, clientv3.LeaseID(resp.Kvs[0].Lease)); err != nil {
		t.Fatal(err)
	}
	unlock, err := newLocker(t, admin, "job").TryLock(ctx)
	if err != nil {
		t.Fatalf("TryLock after the holder's lease expired: %v", err)
	}
	unlock()
}

// TestLockerKey holds the lock's key with etcd's mutex directly, as a
// replica of an earlier release did: the Locker sees it held, so replicas
// of both releases exclude each other during a rolling upgrade.
func TestLockerKey(t *testing.T) {
	ctx := context.Background()
	srv := etcdtest.Start(t)
	sess, err := concurrency.NewSession(etcdtest.Client(t, srv), concurrency.WithTTL(election.TTL))
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	m := concurrency.NewMutex(sess, "tenure/locks/segmentation-recompute")
	if err := m.TryLock(ctx); err != nil {
		t.Fatal(err)
	}
	l := newLocker(t, etcdtest.Client(t, srv), "segmentation-recompute")
	if _, err := l.TryLock(ctx); !errors.Is(err, election.ErrLocked) {
		t.Fatalf("TryLock while an etcd mutex holds the key = %v, want ErrLocked", err)
	}
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	unlock, err := l.TryLock(ctx)
	if err != nil {
		t.Fatalf("TryLock after the mutex was released: %v", err)
	}
	unlock()
}

func TestNewLockerRejectsBadNames(t *testing.T) {
	cli := etcdtest.Client(t, etcdtest.Start(t))
	for _, name := range []string{"", "a/b", "a b"} {
		if _, err := election.NewLocker(cli, name); !errors.Is(err, election.ErrInvalidName) {
			t.Errorf("NewLocker(%q) = %v, want ErrInvalidName", name, err)
		}
	}
}

// TestLockerHonoursContextWhileEtcdIsDown: TryLock against an unreachable
// etcd ends with its caller's context rather than waiting for etcd.
func TestLockerHonoursContextWhileEtcdIsDown(t *testing.T) {
	px := etcdtest.NewProxy(t, "") // etcd is down
	l := newLocker(t, px.Client(t), "job")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan error, 1)
	go func() {
		_, err := l.TryLock(ctx)
		done <- err
	}()
	guard := time.NewTimer(30 * time.Second) // a hang, not a slow answer
	defer guard.Stop()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("TryLock with a cancelled context = %v, want context.Canceled", err)
		}
	case <-guard.C:
		t.Fatal("TryLock ignored its cancelled context while etcd was down")
	}
}
