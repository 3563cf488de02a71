package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// personal is the personal data the tests give a customer.
var personal = []string{"Ann Example", "ann@example.com", "+447700900456", "1985-04-01", "ann.new@example.com"}

// idempotencyRows returns the stored idempotency keys' responses and
// fingerprints, concatenated, to look for personal data in.
func idempotencyRows(t *testing.T, db *sqlstore.DB) string {
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

func holdsPersonalData(stored string) []string {
	var found []string
	for _, p := range personal {
		if strings.Contains(stored, p) {
			found = append(found, p)
		}
	}
	return found
}

// TestErasureForgetsStoredResponses replays the request ids of every
// mutation that returned a customer after the customer was erased or
// deleted: none returns its personal data again (REQUEST_FORGOTTEN), none
// runs again, and the key store no longer holds the data. Other
// customers' keys, and the erasure's own, still replay; a deletion that
// fails forgets nothing.
func TestErasureForgetsStoredResponses(t *testing.T) {
	sqlstoretest.EnginesDSN(t, func(t *testing.T, db *sqlstore.DB, dsn string) {
		ctx := context.Background()
		cli := serve(t, dsn)
		ann := func(id string) *profilev1.CreateCustomerRequest {
			return &profilev1.CreateCustomerRequest{CustomerId: id, RequestId: "create-" + id, Customer: &profilev1.Customer{
				FullName: "Ann Example", Email: "ann@example.com", Phone: "+447700900456", Birthday: "1985-04-01"}}
		}
		update := &profilev1.UpdateCustomerRequest{RequestId: "update-ann",
			Customer:   &profilev1.Customer{Name: "customers/ann", Email: "ann.new@example.com"},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"email"}}}
		addTags := &profilev1.AddCustomerTagsRequest{Name: "customers/ann", Tags: []string{"vip"}, RequestId: "tag-ann"}
		removeTags := &profilev1.RemoveCustomerTagsRequest{Name: "customers/ann", Tags: []string{"vip"}, RequestId: "untag-ann"}
		bob := &profilev1.CreateCustomerRequest{CustomerId: "bob", RequestId: "create-bob", Customer: &profilev1.Customer{FullName: "Bob"}}

		for _, req := range []*profilev1.CreateCustomerRequest{ann("ann"), ann("pat"), ann("cy")} {
			if _, err := cli.CreateCustomer(ctx, req); err != nil {
				t.Fatal(err)
			}
		}
		bobResp, err := cli.CreateCustomer(ctx, bob)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cli.UpdateCustomer(ctx, update); err != nil {
			t.Fatal(err)
		}
		if _, err := cli.AddCustomerTags(ctx, addTags); err != nil {
			t.Fatal(err)
		}
		if _, err := cli.RemoveCustomerTags(ctx, removeTags); err != nil {
			t.Fatal(err)
		}
		at := time.Now().Add(-time.Hour).UTC()
		if _, err := cli.BatchRecordEvents(ctx, &profilev1.BatchRecordEventsRequest{RequestId: "events", Events: []*profilev1.Event{
			viewEvent("v-ann", "ann", at), viewEvent("v-cy", "cy", at)}}); err != nil {
			t.Fatal(err)
		}
		if found := holdsPersonalData(idempotencyRows(t, db)); len(found) != len(personal) {
			t.Fatalf("stored responses hold %v before erasure, want all of %v; the test would prove nothing", found, personal)
		}

		erase := &profilev1.EraseCustomerRequest{Name: "customers/ann", RequestId: "erase-ann"}
		erased, err := cli.EraseCustomer(ctx, erase)
		if err != nil {
			t.Fatal(err)
		}
		// pat has no events, so it can be deleted; cy has one, so deleting
		// it fails, and that failure must forget nothing.
		if _, err := cli.DeleteCustomer(ctx, &profilev1.DeleteCustomerRequest{Name: "customers/pat", RequestId: "delete-pat"}); err != nil {
			t.Fatal(err)
		}
		_, err = cli.DeleteCustomer(ctx, &profilev1.DeleteCustomerRequest{Name: "customers/cy", RequestId: "delete-cy"})
		wantErr(t, err, codes.FailedPrecondition, "CUSTOMER_HAS_EVENTS", "")

		replays := map[string]func() error{
			"create ann": func() error { _, err := cli.CreateCustomer(ctx, ann("ann")); return err },
			"update ann": func() error { _, err := cli.UpdateCustomer(ctx, update); return err },
			"tag ann":    func() error { _, err := cli.AddCustomerTags(ctx, addTags); return err },
			"untag ann":  func() error { _, err := cli.RemoveCustomerTags(ctx, removeTags); return err },
			"create pat": func() error { _, err := cli.CreateCustomer(ctx, ann("pat")); return err },
			"another ann": func() error {
				_, err := cli.CreateCustomer(ctx, &profilev1.CreateCustomerRequest{CustomerId: "x", RequestId: "create-ann"})
				return err
			},
		}
		for name, replay := range replays {
			err := replay()
			wantErr(t, err, codes.FailedPrecondition, "REQUEST_FORGOTTEN", "")
			if !strings.Contains(err.Error(), "no longer kept") {
				t.Errorf("%s: message %q does not say the result is no longer kept", name, err)
			}
		}
		// Nothing ran again: ann and pat are still gone.
		for _, name := range []string{"customers/ann", "customers/pat"} {
			_, err := cli.GetCustomer(ctx, &profilev1.GetCustomerRequest{Name: name})
			wantErr(t, err, codes.NotFound, "CUSTOMER_NOT_FOUND", "")
		}
		// cy was not deleted: its response is still stored and replays.
		againCy, err := cli.CreateCustomer(ctx, ann("cy"))
		if err != nil || againCy.GetCustomer().GetFullName() != "Ann Example" {
			t.Errorf("cy's replay after a failed delete: got %v, %v; want the stored response", againCy, err)
		}
		// Once cy is erased too, the key store holds no personal data.
		if _, err := cli.EraseCustomer(ctx, &profilev1.EraseCustomerRequest{Name: "customers/cy"}); err != nil {
			t.Fatal(err)
		}
		if found := holdsPersonalData(idempotencyRows(t, db)); len(found) != 0 {
			t.Errorf("stored responses still hold %v after every customer holding them was erased or deleted", found)
		}

		// Keys about nobody erased still replay, the erasure's own too.
		again, err := cli.CreateCustomer(ctx, bob)
		if err != nil || !proto.Equal(again, bobResp) {
			t.Errorf("bob's replay: got %v, %v; want %v", again, err, bobResp)
		}
		erasedAgain, err := cli.EraseCustomer(ctx, erase)
		if err != nil || !proto.Equal(erasedAgain, erased) {
			t.Errorf("erasure's replay: got %v, %v; want %v", erasedAgain, err, erased)
		}
	})
}

// TestRequestIDIsValidated sends invalid request ids to mutations of every
// kind through the gRPC server: each is INVALID_ARGUMENT with reason
// INVALID_REQUEST_ID naming request_id, on every engine (PostgreSQL used to
// fail with INTERNAL on a 9,000-character id). A NUL anywhere in a request,
// request_id included, is INVALID_TEXT from the gRPC server itself.
func TestRequestIDIsValidated(t *testing.T) {
	sqlstoretest.EnginesDSN(t, func(t *testing.T, db *sqlstore.DB, dsn string) {
		ctx := context.Background()
		cli := serve(t, dsn)
		for _, id := range []string{strings.Repeat("r", 9000), "tab\there", "two words"} {
			calls := map[string]func() error{
				"CreateCustomer": func() error {
					_, err := cli.CreateCustomer(ctx, &profilev1.CreateCustomerRequest{CustomerId: "c", Customer: &profilev1.Customer{}, RequestId: id})
					return err
				},
				"RecordEvent": func() error {
					_, err := cli.RecordEvent(ctx, &profilev1.RecordEventRequest{Event: viewEvent("e", "c", time.Now()), RequestId: id})
					return err
				},
				"EraseCustomer": func() error {
					_, err := cli.EraseCustomer(ctx, &profilev1.EraseCustomerRequest{Name: "customers/c", RequestId: id})
					return err
				},
			}
			for name, call := range calls {
				err := call()
				wantErr(t, err, codes.InvalidArgument, "INVALID_REQUEST_ID", "request_id")
				if !strings.HasPrefix(err.Error(), "rpc error: code = InvalidArgument desc = request_id must ") {
					t.Errorf("%s: message %q does not start with the field", name, err)
				}
			}
		}
		// Nothing ran.
		_, err := cli.GetCustomer(ctx, &profilev1.GetCustomerRequest{Name: "customers/c"})
		wantErr(t, err, codes.NotFound, "CUSTOMER_NOT_FOUND", "")
	})
}
