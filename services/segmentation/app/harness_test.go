package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	typev1 "github.com/tenurehq/tenure/gen/tenure/type/v1"
	"github.com/tenurehq/tenure/services/platform/etcdtest"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	profileapp "github.com/tenurehq/tenure/services/profile/app"
	"github.com/tenurehq/tenure/services/segmentation/app"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// startProfile runs a profile service registered in etcd.
func startProfile(t *testing.T, cli *clientv3.Client) profilev1.ProfileServiceClient {
	t.Helper()
	p := stacktest.Start(t, stacktest.Options{Etcd: cli}).Add(profileapp.Component(nil))
	return profilev1.NewProfileServiceClient(stacktest.Dial(t, p.Addr()))
}

type segApp struct {
	app    *app.App
	client segmentationv1.SegmentationServiceClient
	stop   func()
}

// startSegmentation runs a segmentation replica on dsn, registered in etcd
// and consuming profile's log when cli is not nil; stop ends it before the
// test does.
func startSegmentation(t *testing.T, cli *clientv3.Client, dsn string, clock func() time.Time, interval time.Duration) *segApp {
	t.Helper()
	c := app.Component(func(c *app.Config, d *app.Deps) {
		c.RecomputeInterval = interval
		c.MemoryLimit = 0 // a process-wide setting; leave the test binary's alone
		d.Clock = clock
	})
	c.DSN = dsn
	r := stacktest.Start(t, stacktest.Options{Etcd: cli, NoEtcd: cli == nil}).Add(c)
	stop := func() {
		if err := r.Stop(); err != nil {
			t.Errorf("stop segmentation: %v", err)
		}
	}
	return &segApp{app: r.Runner.(*app.App), client: segmentationv1.NewSegmentationServiceClient(stacktest.Dial(t, r.Addr())), stop: stop}
}

func newEtcd(t *testing.T) *clientv3.Client {
	return etcdtest.Client(t, etcdtest.Start(t))
}

func gbp(minor int64) *typev1.Money { return &typev1.Money{CurrencyCode: "GBP", AmountMinor: minor} }

func order(id, customer string, at time.Time, total int64) *profilev1.Event {
	return &profilev1.Event{EventId: id, CustomerId: customer, OccurredAt: timestamppb.New(at),
		Payload: &profilev1.Event_OrderPlaced{OrderPlaced: &profilev1.OrderPlaced{
			OrderId: "o-" + id, Total: gbp(total), Channel: "web",
			Lines: []*profilev1.OrderLine{{Sku: "sku-1", Category: "shoes", Quantity: 1, UnitPrice: gbp(total)}},
		}}}
}

func refund(id, customer string, at time.Time, amount int64) *profilev1.Event {
	return &profilev1.Event{EventId: id, CustomerId: customer, OccurredAt: timestamppb.New(at),
		Payload: &profilev1.Event_OrderRefunded{OrderRefunded: &profilev1.OrderRefunded{Amount: gbp(amount)}}}
}

// record appends events and returns the highest sequence.
func record(t *testing.T, pc profilev1.ProfileServiceClient, events []*profilev1.Event) int64 {
	t.Helper()
	var last int64
	for start := 0; start < len(events); start += 1000 {
		resp, err := pc.BatchRecordEvents(context.Background(), &profilev1.BatchRecordEventsRequest{Events: events[start:min(start+1000, len(events))]})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range resp.GetResults() {
			if r.GetOutcome() != profilev1.EventOutcome_EVENT_OUTCOME_ACCEPTED {
				t.Fatalf("event %s: %v %s %s", r.GetEventId(), r.GetOutcome(), r.GetReason(), r.GetMessage())
			}
			last = max(last, r.GetSequence())
		}
	}
	return last
}

// waitFor polls cond until it is true or 20 s pass.
func waitFor(t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, err := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s (last error %v)", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitCursor(t *testing.T, a *app.App, seq int64) {
	t.Helper()
	waitFor(t, fmt.Sprintf("cursor %d", seq), func() (bool, error) {
		c, err := a.Cursor(context.Background())
		return c >= seq, err
	})
}

// waitOperation polls an operation until it is done and returns it.
func waitOperation(t *testing.T, c segmentationv1.SegmentationServiceClient, name string) *segmentationv1.Operation {
	t.Helper()
	var op *segmentationv1.Operation
	waitFor(t, name, func() (bool, error) {
		resp, err := c.GetOperation(context.Background(), &segmentationv1.GetOperationRequest{Name: name})
		if err != nil {
			return false, err
		}
		op = resp.GetOperation()
		return op.GetDone(), nil
	})
	if op.GetState() != segmentationv1.OperationState_OPERATION_STATE_SUCCEEDED {
		t.Fatalf("operation %s = %v", name, op)
	}
	return op
}
