package app_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/platform/auth"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	"github.com/tenurehq/tenure/services/profile/app"
)

// TestPrivacyOperationsAreAudited: every export and erasure, allowed or
// not, leaves a record in profile's database, which the privacy and admin
// roles can list and others cannot.
func TestPrivacyOperationsAreAudited(t *testing.T) {
	stacktest.Engines(t, func(t *testing.T, engine string) {
		st := stacktest.Start(t, stacktest.Options{NoEtcd: true, Engine: engine})
		p := st.Add(app.Component(nil))
		admin := profilev1.NewProfileServiceClient(stacktest.Dial(t, p.Addr()))
		dpo := profilev1.NewProfileServiceClient(stacktest.DialKey(t, p.Addr(), st.CreateKey("dpo", auth.Privacy)))
		analyst := profilev1.NewProfileServiceClient(stacktest.DialKey(t, p.Addr(), st.CreateKey("reader", auth.Analyst)))
		ctx := context.Background()
		if _, err := admin.CreateCustomer(ctx, &profilev1.CreateCustomerRequest{CustomerId: "c-1", Customer: &profilev1.Customer{}}); err != nil {
			t.Fatal(err)
		}
		// The new keys work once the key file has been reloaded.
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, err := dpo.ExportCustomer(ctx, &profilev1.ExportCustomerRequest{Name: "customers/c-1"})
			if err == nil {
				break
			}
			if status.Code(err) != codes.Unauthenticated || time.Now().After(deadline) {
				t.Fatalf("export as privacy: %v", err)
			}
			time.Sleep(stacktest.KeyReloadInterval / 2)
		}
		if _, err := analyst.ExportCustomer(ctx, &profilev1.ExportCustomerRequest{Name: "customers/c-1"}); status.Code(err) != codes.PermissionDenied {
			t.Fatalf("export as analyst: got %v, want PermissionDenied", err)
		}
		if _, err := dpo.EraseCustomer(ctx, &profilev1.EraseCustomerRequest{Name: "customers/c-1", RequestId: "erase-1"}); err != nil {
			t.Fatalf("erase: %v", err)
		}
		if _, err := dpo.ExportCustomer(ctx, &profilev1.ExportCustomerRequest{Name: "customers/nobody"}); status.Code(err) != codes.NotFound {
			t.Fatalf("export of an unknown customer: got %v, want NotFound", err)
		}
		if _, err := analyst.ListAuditRecords(ctx, &profilev1.ListAuditRecordsRequest{}); status.Code(err) != codes.PermissionDenied {
			t.Errorf("list as analyst: got %v, want PermissionDenied", err)
		}
		// Two pages of two, newest first.
		var got []*profilev1.AuditRecord
		token := ""
		for {
			resp, err := dpo.ListAuditRecords(ctx, &profilev1.ListAuditRecordsRequest{PageSize: 2, PageToken: token})
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, resp.GetAuditRecords()...)
			if token = resp.GetNextPageToken(); token == "" {
				break
			}
		}
		const svc = "/tenure.profile.v1.ProfileService/"
		// Reading the audit log is a privacy operation too: the refused
		// attempt is the newest record.
		want := []struct{ principal, method, resource, requestID, outcome string }{
			{"key:reader", svc + "ListAuditRecords", "", "", "PermissionDenied"},
			{"key:dpo", svc + "ExportCustomer", "customers/nobody", "", "NotFound"},
			{"key:dpo", svc + "EraseCustomer", "customers/c-1", "erase-1", "OK"},
			{"key:reader", svc + "ExportCustomer", "customers/c-1", "", "PermissionDenied"},
			{"key:dpo", svc + "ExportCustomer", "customers/c-1", "", "OK"},
		}
		if len(got) < len(want) {
			t.Fatalf("got %d records, want at least %d: %v", len(got), len(want), got)
		}
		for i, w := range want {
			r := got[i]
			if r.GetPrincipal() != w.principal || r.GetMethod() != w.method || r.GetResource() != w.resource ||
				r.GetRequestId() != w.requestID || r.GetOutcome() != w.outcome || r.GetCreateTime() == nil {
				t.Errorf("record %d = %v, want %+v", i, r, w)
			}
		}
	})
}
