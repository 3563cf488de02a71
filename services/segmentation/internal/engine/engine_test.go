package engine_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/etcdtest"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"github.com/tenurehq/tenure/services/segmentation/internal/engine"
	"github.com/tenurehq/tenure/services/segmentation/internal/rules"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
	"github.com/tenurehq/tenure/services/segmentation/internal/store"
)

// blockingStore holds LoadCustomers until release is closed.
type blockingStore struct {
	segmentation.Store
	loading chan struct{}
	release chan struct{}
}

func (b *blockingStore) LoadCustomers(ctx context.Context) ([]segmentation.Customer, error) {
	b.loading <- struct{}{}
	<-b.release
	return b.Store.LoadCustomers(ctx)
}

func TestOneRecomputeAtATime(t *testing.T) {
	ctx := context.Background()
	cli := etcdtest.Client(t, etcdtest.Start(t))
	st := store.New(sqlstoretest.SQLite(t))
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.ApplyPage(ctx, []segmentation.Mutation{{Kind: segmentation.MutationUpsert, ID: "a", Features: &segmentation.Features{
		OrderCount: 1, FirstOrderTime: time.Unix(1e9, 0), LastOrderTime: time.Unix(1e9, 0), NetMinor: 100}}}, 1); err != nil {
		t.Fatal(err)
	}
	env, err := rules.NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	newEngine := func(s segmentation.Store) *engine.Engine {
		svc := segmentation.NewService(s, engine.RuleChecker(env))
		e := engine.New(engine.Config{Store: s, Service: svc, Rules: env, Etcd: cli, Logger: quiet})
		t.Cleanup(e.Close)
		return e
	}
	blocking := &blockingStore{Store: st, loading: make(chan struct{}), release: make(chan struct{})}
	first, second := newEngine(blocking), newEngine(st) // two replicas

	op, err := first.Start(ctx, time.Time{}, segmentation.TriggerAPI)
	if err != nil {
		t.Fatal(err)
	}
	<-blocking.loading
	for name, e := range map[string]*engine.Engine{"same replica": first, "other replica": second} {
		_, err := e.Start(ctx, time.Time{}, segmentation.TriggerAPI)
		var ip *segmentation.InProgressError
		if !errors.As(err, &ip) || ip.Operation != op.Name() {
			t.Errorf("%s: Start = %v, want in progress naming %s", name, err, op.Name())
		}
	}
	close(blocking.release)
	for {
		got, err := st.GetOperation(ctx, op.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Done() {
			if got.State != segmentation.OperationSucceeded || got.CustomersTotal != 1 {
				t.Fatalf("operation = %+v", got)
			}
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The lock is released: the other replica can run the next one.
	for {
		_, err := second.Start(ctx, time.Time{}, segmentation.TriggerSchedule)
		if err == nil {
			break
		}
		if !errors.Is(err, segmentation.ErrRecomputeInProgress) {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
