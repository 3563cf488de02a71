package consumer_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/bootstrap"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	typev1 "github.com/tenurehq/tenure/gen/tenure/type/v1"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	profileapp "github.com/tenurehq/tenure/services/profile/app"
	"github.com/tenurehq/tenure/services/segmentation/internal/consumer"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
	"github.com/tenurehq/tenure/services/segmentation/internal/store"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/timestamppb"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func startProfile(t *testing.T) profilev1.ProfileServiceClient {
	t.Helper()
	cfg := profileapp.Config{Config: bootstrap.Config{ListenAddr: "127.0.0.1:0", DSN: "sqlite:" + filepath.Join(t.TempDir(), "profile.db"), LogLevel: "error", ShutdownTimeout: 5 * time.Second}}
	a, cleanup, err := profileapp.New(context.Background(), cfg, profileapp.Deps{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = a.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; cleanup() })
	cc, err := grpc.NewClient(a.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return profilev1.NewProfileServiceClient(cc)
}

func newStore(t *testing.T) *store.Store {
	t.Helper()
	s := store.New(sqlstoretest.SQLite(t))
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func gbp(m int64) *typev1.Money { return &typev1.Money{CurrencyCode: "GBP", AmountMinor: m} }

// writer records random activity in profile: orders, refunds, views, tag
// changes, and creates and deletes of customers without events.
type writer struct {
	pc   profilev1.ProfileServiceClient
	rng  *rand.Rand
	n    int
	last int64
}

func (w *writer) batch(t *testing.T, size int) {
	t.Helper()
	ctx := context.Background()
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	events := make([]*profilev1.Event, size)
	for i := range events {
		w.n++
		id := fmt.Sprintf("ev-%06d", w.n)
		cust := fmt.Sprintf("c%03d", w.rng.IntN(60))
		e := &profilev1.Event{EventId: id, CustomerId: cust, OccurredAt: timestamppb.New(base.Add(time.Duration(w.rng.IntN(1e6)) * time.Second))}
		switch k := w.rng.IntN(10); {
		case k < 5:
			amt := int64(100 + w.rng.IntN(9000))
			e.Payload = &profilev1.Event_OrderPlaced{OrderPlaced: &profilev1.OrderPlaced{OrderId: "o" + id, Total: gbp(amt),
				Channel: []string{"web", "app"}[w.rng.IntN(2)],
				Lines:   []*profilev1.OrderLine{{Sku: "s", Category: fmt.Sprintf("cat%d", w.rng.IntN(4)), Quantity: 1, UnitPrice: gbp(amt)}}}}
		case k < 6:
			e.Payload = &profilev1.Event_OrderRefunded{OrderRefunded: &profilev1.OrderRefunded{Amount: gbp(int64(50 + w.rng.IntN(200)))}}
		default:
			e.Payload = &profilev1.Event_ProductViewed{ProductViewed: &profilev1.ProductViewed{Sku: "s", Category: "cat1"}}
		}
		events[i] = e
	}
	resp, err := w.pc.BatchRecordEvents(ctx, &profilev1.BatchRecordEventsRequest{Events: events})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range resp.GetResults() {
		w.last = max(w.last, r.GetSequence())
	}
	// Profile changes: tags on an existing customer, a short-lived customer.
	cust := fmt.Sprintf("c%03d", w.rng.IntN(60))
	if r, err := w.pc.AddCustomerTags(ctx, &profilev1.AddCustomerTagsRequest{Name: "customers/" + cust, Tags: []string{fmt.Sprintf("t%d", w.rng.IntN(3))}}); err == nil {
		_ = r
	}
	tmp := fmt.Sprintf("tmp-%d", w.n)
	if _, err := w.pc.CreateCustomer(ctx, &profilev1.CreateCustomerRequest{CustomerId: tmp, Customer: &profilev1.Customer{Tags: []string{"x"}}}); err != nil {
		t.Fatal(err)
	}
	if w.rng.IntN(2) == 0 {
		if _, err := w.pc.DeleteCustomer(ctx, &profilev1.DeleteCustomerRequest{Name: "customers/" + tmp}); err != nil {
			t.Fatal(err)
		}
	}
}

// head returns the profile log's last sequence by streaming it.
func head(t *testing.T, pc profilev1.ProfileServiceClient, after int64) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	st, err := pc.StreamEvents(ctx, &profilev1.StreamEventsRequest{AfterSequence: after})
	if err != nil {
		t.Fatal(err)
	}
	last := after
	for {
		r, err := st.Recv()
		if err != nil {
			return last
		}
		last = r.GetEvent().GetSequence()
	}
}

func runUntil(t *testing.T, c *consumer.Consumer, s segmentation.Store, seq int64) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		cur, err := s.Cursor(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if cur >= seq {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cursor %d, want %d", cur, seq)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func snapshot(t *testing.T, s segmentation.Store) []segmentation.Customer {
	t.Helper()
	cs, err := s.LoadCustomers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// TestKillAndRestart consumes while profile keeps receiving events, killing
// the consumer at random moments (mid-stream, mid-page, between pages), and
// compares the result with an uninterrupted run on a fresh database.
func TestKillAndRestart(t *testing.T) {
	pc := startProfile(t)
	w := &writer{pc: pc, rng: rand.New(rand.NewPCG(1, 2))}
	w.batch(t, 300)

	interrupted := newStore(t)
	cfg := consumer.Config{Client: pc, Store: interrupted, Logger: quiet, PageSize: 37, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
	var wg sync.WaitGroup
	wg.Add(1)
	stopWriting := make(chan struct{})
	go func() {
		defer wg.Done()
		for i := 0; i < 15; i++ {
			select {
			case <-stopWriting:
				return
			default:
			}
			w.batch(t, 200)
		}
	}()
	rng := rand.New(rand.NewPCG(3, 4))
	restarts := 0
	writing := true
	for writing || restarts < 30 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rng.IntN(4000))*time.Microsecond)
		if err := consumer.New(cfg).Run(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
		restarts++
		if writing {
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
				writing = false
			default:
			}
		}
	}
	close(stopWriting)
	last := head(t, pc, 0)
	runUntil(t, consumer.New(cfg), interrupted, last)

	fresh := newStore(t)
	runUntil(t, consumer.New(consumer.Config{Client: pc, Store: fresh, Logger: quiet}), fresh, last)

	got, want := snapshot(t, interrupted), snapshot(t, fresh)
	if len(want) < 60 {
		t.Fatalf("uninterrupted run has %d customers, want at least 60", len(want))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after %d restarts: %d customers differ from an uninterrupted run's %d", restarts, len(got), len(want))
		for i := range min(len(got), len(want)) {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Errorf("first difference: %+v\nwant %+v", got[i], want[i])
				break
			}
		}
	}
	var withOrders int
	for _, c := range want {
		if c.Features.OrderCount > 0 {
			withOrders++
			if c.Features.Currency != "GBP" || c.Features.LastOrderTime.IsZero() {
				t.Fatalf("customer %s has orders but features %+v", c.ID, c.Features)
			}
		}
	}
	if withOrders != 60 {
		t.Errorf("%d customers with orders, want 60", withOrders)
	}
	t.Logf("%d restarts, %d events, %d customers", restarts, last, len(want))
}
