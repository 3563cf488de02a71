package app_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
)

// TestScheduleOnOneReplica runs two replicas on one database and one etcd:
// exactly one runs the recompute schedule, and the other takes over when
// it stops.
func TestScheduleOnOneReplica(t *testing.T) {
	cli := newEtcd(t)
	startProfile(t, cli)
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "seg.db")
	a := startSegmentation(t, cli, dsn, nil, 100*time.Millisecond)
	b := startSegmentation(t, cli, dsn, nil, 100*time.Millisecond)

	var leader, follower *segApp
	waitFor(t, "a leader", func() (bool, error) {
		switch {
		case a.app.Leading() && !b.app.Leading():
			leader, follower = a, b
		case b.app.Leading() && !a.app.Leading():
			leader, follower = b, a
		}
		return leader != nil, nil
	})
	scheduled := func() (bool, error) {
		ops, err := follower.client.ListOperations(context.Background(), &segmentationv1.ListOperationsRequest{PageSize: 200})
		if err != nil {
			return false, err
		}
		n := 0
		for _, op := range ops.GetOperations() {
			if op.GetTrigger() == segmentationv1.OperationTrigger_OPERATION_TRIGGER_SCHEDULE &&
				op.GetState() == segmentationv1.OperationState_OPERATION_STATE_SUCCEEDED {
				n++
			}
		}
		return n >= 2, nil
	}
	waitFor(t, "scheduled recomputes", scheduled)
	// Every scheduled recompute so far was started by the leader.
	for range 5 {
		if follower.app.Leading() || follower.app.ScheduledRecomputes() != 0 {
			t.Fatalf("the follower leads (%v) or started %d scheduled recomputes", follower.app.Leading(), follower.app.ScheduledRecomputes())
		}
		time.Sleep(20 * time.Millisecond)
	}
	leader.stop()
	// Each stored scheduled operation was started by a replica's schedule:
	// the leader's, or the follower's once it took over.
	led, before := leader.app.ScheduledRecomputes(), follower.app.ScheduledRecomputes()
	ops, err := follower.client.ListOperations(context.Background(), &segmentationv1.ListOperationsRequest{PageSize: 200})
	if err != nil {
		t.Fatal(err)
	}
	after := follower.app.ScheduledRecomputes()
	var n int64
	for _, op := range ops.GetOperations() {
		if op.GetTrigger() == segmentationv1.OperationTrigger_OPERATION_TRIGGER_SCHEDULE {
			n++
		}
	}
	if led < 2 || n < led+before || n > led+after {
		t.Errorf("%d scheduled operations stored; the leader started %d, the follower %d to %d", n, led, before, after)
	}
	waitFor(t, "the follower to take over", func() (bool, error) { return follower.app.Leading(), nil })
	waitFor(t, "the new leader's scheduled recompute", func() (bool, error) { return follower.app.ScheduledRecomputes() > 0, nil })
}
