package app_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
)

// TestRecomputeWaitsForTheLog records events and asks for a recompute at
// once, without waiting for the consumer: the recompute must still score
// every recorded event, as an operator who imports and then recomputes
// expects.
func TestRecomputeWaitsForTheLog(t *testing.T) {
	cli := newEtcd(t)
	pc := startProfile(t, cli)
	seg := startSegmentation(t, cli, "sqlite:"+filepath.Join(t.TempDir(), "seg.db"), func() time.Time { return asOf }, 0)
	var last int64
	for b := range 5 {
		var events []*profilev1.Event
		for i := range 400 {
			id := fmt.Sprintf("c%d-%d", b, i)
			events = append(events, order("o-"+id, id, daysAgo(3+i%50), int64(10_00+i)))
		}
		last = record(t, pc, events)
	}
	op := recompute(t, seg.client)
	if op.GetInputSequence() != last || op.GetCustomersTotal() != 2000 {
		t.Errorf("recompute input sequence %d over %d customers, want %d over 2000",
			op.GetInputSequence(), op.GetCustomersTotal(), last)
	}
}
