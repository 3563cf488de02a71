package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/bootstrap"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	typev1 "github.com/tenurehq/tenure/gen/tenure/type/v1"
	"github.com/tenurehq/tenure/services/platform/etcdtest"
	profileapp "github.com/tenurehq/tenure/services/profile/app"
	"github.com/tenurehq/tenure/services/segmentation/app"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/timestamppb"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// running starts fn(ctx) in the background and stops it at cleanup.
func running(t *testing.T, run func(ctx context.Context) error) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	var stopped bool
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("run did not return within 20 s of cancel")
		}
	}
	t.Cleanup(stop)
	return stop
}

func dial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return cc
}

// startProfile runs a profile service registered in etcd.
func startProfile(t *testing.T, cli *clientv3.Client) profilev1.ProfileServiceClient {
	t.Helper()
	cfg := profileapp.Config{Config: bootstrap.Config{ListenAddr: "127.0.0.1:0", DSN: "sqlite:" + filepath.Join(t.TempDir(), "profile.db"), LogLevel: "error", ShutdownTimeout: 5 * time.Second}}
	a, cleanup, err := profileapp.New(context.Background(), cfg, profileapp.Deps{Logger: quiet, Etcd: cli})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	running(t, a.Run)
	return profilev1.NewProfileServiceClient(dial(t, a.Addr()))
}

type segApp struct {
	app    *app.App
	client segmentationv1.SegmentationServiceClient
	stop   func()
}

// startSegmentation runs a segmentation replica on dsn.
func startSegmentation(t *testing.T, cli *clientv3.Client, dsn string, clock func() time.Time, interval time.Duration) *segApp {
	t.Helper()
	cfg := app.Config{Config: bootstrap.Config{ListenAddr: "127.0.0.1:0", DSN: dsn, LogLevel: "error", ShutdownTimeout: 5 * time.Second}, RecomputeInterval: interval, ProfileService: "profile"}
	a, cleanup, err := app.New(context.Background(), cfg, app.Deps{Logger: quiet, Etcd: cli, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	stop := running(t, a.Run)
	t.Cleanup(cleanup) // runs after stop (cleanups are LIFO)
	return &segApp{app: a, client: segmentationv1.NewSegmentationServiceClient(dial(t, a.Addr())), stop: stop}
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
