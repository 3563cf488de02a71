package idempotency_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/tenurehq/tenure/services/platform/idempotency"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
)

// forget forgets customer ids in a transaction of its own, as a service
// does in the transaction that erases them.
func forget(t *testing.T, db *sqlstore.DB, ids ...string) {
	t.Helper()
	store := idempotency.NewStore(db)
	var subjects []string
	for _, id := range ids {
		subjects = append(subjects, idempotency.CustomerSubject(id))
	}
	if err := db.InTx(context.Background(), func(tx *sql.Tx) error {
		return store.Forget(context.Background(), tx, subjects...)
	}); err != nil {
		t.Fatalf("Forget: %v", err)
	}
}

// storedResponses returns every stored response and fingerprint, to look
// for personal data in them.
func storedResponses(t *testing.T, db *sqlstore.DB) string {
	t.Helper()
	rows, err := db.Query(`SELECT fingerprint, COALESCE(response, fingerprint) FROM idempotency_keys`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var fp, resp []byte
		if err := rows.Scan(&fp, &resp); err != nil {
			t.Fatal(err)
		}
		b.Write(fp)
		b.Write(resp)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestForget checks that forgetting a customer removes the stored
// responses about it, that a retry is then refused with REQUEST_FORGOTTEN
// rather than run again, and that other customers' keys are untouched.
func TestForget(t *testing.T) {
	sqlstoretest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		client, fake := serve(t, db, idempotency.WithDomain("profile.tenure.dev"), idempotency.WithClock(clk.Now),
			idempotency.WithRetention(time.Hour))

		if _, err := client.CreateCustomer(ctx, create("ann", "Ann Example", "k-ann")); err != nil {
			t.Fatal(err)
		}
		bob, err := client.CreateCustomer(ctx, create("bob", "Bob Example", "k-bob"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(storedResponses(t, db), "Ann Example") {
			t.Fatal("the stored response does not hold the name; the test would prove nothing")
		}

		forget(t, db, "ann")
		if got := storedResponses(t, db); strings.Contains(got, "Ann Example") {
			t.Error("Ann's name is still stored after Forget")
		}
		want := `the result of the request with request_id "k-ann" is no longer kept because a customer it concerned ` +
			`was erased or deleted; it is not run again: read the resource's current state, and use a new request_id for a new request`
		_, err = client.CreateCustomer(ctx, create("ann", "Ann Example", "k-ann"))
		wantError(t, err, codes.FailedPrecondition, idempotency.ReasonRequestForgotten, "profile.tenure.dev", want)
		// Whatever the request, the key stays forgotten.
		_, err = client.CreateCustomer(ctx, create("ann", "Someone Else", "k-ann"))
		wantError(t, err, codes.FailedPrecondition, idempotency.ReasonRequestForgotten, "profile.tenure.dev", "")
		if got := fake.count("ann"); got != 1 {
			t.Errorf("handler calls for ann: got %d, want 1", got)
		}
		again, err := client.CreateCustomer(ctx, create("bob", "Bob Example", "k-bob"))
		if err != nil || !proto.Equal(again, bob) {
			t.Errorf("bob's replay: got %v, %v; want %v", again, err, bob)
		}
		forget(t, db, "ann") // forgetting twice is harmless

		// Once the retention has passed, the key is free again.
		clk.Advance(time.Hour)
		if _, err := client.CreateCustomer(ctx, create("ann", "Ann Again", "k-ann")); err != nil {
			t.Fatalf("forgotten key after the retention: %v", err)
		}
	})
}

// TestForgetInFlight forgets a customer while a call about it runs: the
// call's response reaches its caller but is not stored, and a call that
// fails is released as usual.
func TestForgetInFlight(t *testing.T) {
	sqlstoretest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		client, fake := serve(t, db)

		done := make(chan error, 1)
		go func() {
			_, err := client.CreateCustomer(ctx, create("block", "Ed Example", "k1"))
			done <- err
		}()
		<-fake.entered
		forget(t, db, "block")
		fake.block <- struct{}{}
		if err := <-done; err != nil {
			t.Fatalf("call in flight: %v", err)
		}
		_, err := client.CreateCustomer(ctx, create("block", "Ed Example", "k1"))
		wantStatus(t, err, codes.FailedPrecondition, idempotency.ReasonRequestForgotten)
		if strings.Contains(storedResponses(t, db), "Ed Example") {
			t.Error("the response of the forgotten call was stored")
		}

		go func() {
			_, err := client.CreateCustomer(ctx, create("block-fail", "Flo", "k2"))
			done <- err
		}()
		<-fake.entered
		forget(t, db, "block-fail")
		fake.block <- struct{}{}
		wantStatus(t, <-done, codes.Unavailable, "")
		go func() {
			_, err := client.CreateCustomer(ctx, create("block-fail", "Flo", "k2"))
			done <- err
		}()
		<-fake.entered // the failed call's key was released: the retry runs
		fake.block <- struct{}{}
		wantStatus(t, <-done, codes.Unavailable, "")
		if got := fake.count("block-fail"); got != 2 {
			t.Errorf("handler calls: got %d, want 2", got)
		}
	})
}
