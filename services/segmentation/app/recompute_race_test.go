package app_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// TestRacingRecomputes starts recomputes at once on two replicas sharing
// one PostgreSQL database, each with its own connection pool, while the
// first recompute to start cannot finish: exactly one call starts a
// recompute and every other one gets ABORTED / RECOMPUTE_IN_PROGRESS,
// with etcd's cluster lock and, without etcd, with the database's guard
// alone.
func TestRacingRecomputes(t *testing.T) {
	for _, withEtcd := range []bool{true, false} {
		t.Run(fmt.Sprintf("etcd=%v", withEtcd), func(t *testing.T) { testRacingRecomputes(t, withEtcd) })
	}
}

func testRacingRecomputes(t *testing.T, withEtcd bool) {
	ctx := context.Background()
	db, dsn := sqlstoretest.PostgresDSN(t)
	var cli *clientv3.Client
	var pc profilev1.ProfileServiceClient
	if withEtcd { // and profile's log to consume
		cli = newEtcd(t)
		pc = startProfile(t, cli)
	}
	clock := func() time.Time { return asOf }
	replicas := []*segApp{startSegmentation(t, cli, dsn, clock, 0), startSegmentation(t, cli, dsn, clock, 0)}
	if pc != nil {
		waitCursor(t, replicas[0].app, record(t, pc, []*profilev1.Event{order("a1", "ann", daysAgo(3), 10_00), order("b1", "bob", daysAgo(9), 20_00)}))
	}

	// Hold the first recompute, once started, where it reads the rule
	// segments until every call has returned (its inputs may come from
	// memory, without reading the customers table).
	hold, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback()
	if _, err := hold.ExecContext(ctx, `LOCK TABLE segments IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}

	const calls = 8
	errs := make([]error, calls)
	names := make([]string, calls)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, err := replicas[i%2].client.Recompute(ctx, &segmentationv1.RecomputeRequest{AsOfTime: timestamppb.New(asOf)})
			errs[i], names[i] = err, resp.GetOperation().GetName()
		}()
	}
	close(start)
	wg.Wait()
	var winner string
	for i, err := range errs {
		if err == nil {
			if winner != "" {
				t.Fatalf("two recomputes started: %s and %s", winner, names[i])
			}
			winner = names[i]
		}
	}
	if winner == "" {
		t.Fatalf("no recompute started: %v", errs)
	}
	for i, err := range errs {
		if err == nil {
			continue
		}
		st := wantStatus(t, err, codes.Aborted, "RECOMPUTE_IN_PROGRESS")
		if op, ok := errorInfo(st).GetMetadata()["operation"]; ok && op != winner {
			t.Errorf("call %d on replica %d: in progress naming %s, want %s", i, i%2, op, winner)
		}
	}
	op, err := replicas[0].client.GetOperation(ctx, &segmentationv1.GetOperationRequest{Name: winner})
	if err != nil || op.GetOperation().GetState() != segmentationv1.OperationState_OPERATION_STATE_RUNNING {
		t.Fatalf("while held: GetOperation(%s) = %v, %v; want running", winner, op, err)
	}
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}

	for _, r := range replicas {
		waitOperation(t, r.client, winner)
	}
	ops, err := replicas[1].client.ListOperations(ctx, &segmentationv1.ListOperationsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if got := ops.GetOperations(); len(got) != 1 || got[0].GetName() != winner {
		t.Errorf("operations = %v, want only %s", got, winner)
	}
}
