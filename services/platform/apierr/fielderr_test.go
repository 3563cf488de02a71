package apierr_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"

	"github.com/tenurehq/tenure/services/platform/apierr"
	"github.com/tenurehq/tenure/services/platform/fielderr"
)

// TestFieldError checks the one mapping of a bad argument: every
// *fielderr.Error becomes INVALID_ARGUMENT with an ErrorInfo and a
// BadRequest entry naming its field, whichever service's table maps it,
// unless a rule of the table matches its more specific Err first.
func TestFieldError(t *testing.T) {
	errToken := errors.New("test: invalid page token")
	errRule := errors.New("test: invalid rule")
	tbl := &apierr.Table{Domain: "test.tenure.dev", Rules: []apierr.Rule{
		{Err: errToken, Code: codes.InvalidArgument, Reason: "INVALID_PAGE_TOKEN"},
		{Err: errRule, Code: codes.InvalidArgument, Reason: "INVALID_RULE"},
	}}
	tests := []struct {
		name       string
		err        error
		wantMsg    string
		wantReason string
		wantField  violation
		wantMeta   map[string]string
	}{
		{
			name:       "plain",
			err:        fmt.Errorf("test: %w", fielderr.New("customer.email", "must be an email address")),
			wantMsg:    "test: customer.email: must be an email address",
			wantReason: "INVALID_ARGUMENT",
			wantField:  violation{"customer.email", "must be an email address"},
		},
		{
			name:       "specific",
			err:        &fielderr.Error{Path: "page_token", Problem: "is not one this service issued", Err: errToken, Predicate: true},
			wantMsg:    "page_token is not one this service issued",
			wantReason: "INVALID_PAGE_TOKEN",
			wantField:  violation{"page_token", "is not one this service issued"},
		},
		{
			name:       "metadata",
			err:        &fielderr.Error{Path: "segment.rule", Problem: "syntax error", Fix: "close the bracket", Err: metaErr{errRule}},
			wantMsg:    "segment.rule: syntax error; close the bracket",
			wantReason: "INVALID_RULE",
			wantField:  violation{"segment.rule", "syntax error; close the bracket"},
			wantMeta:   map[string]string{"customer_id": "c1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := tbl.Status(context.Background(), tt.err)
			if st.Code() != codes.InvalidArgument || st.Message() != tt.wantMsg {
				t.Errorf("got %v %q, want InvalidArgument %q", st.Code(), st.Message(), tt.wantMsg)
			}
			var info *errdetails.ErrorInfo
			var fields []violation
			for _, d := range st.Details() {
				switch d := d.(type) {
				case *errdetails.ErrorInfo:
					info = d
				case *errdetails.BadRequest:
					for _, fv := range d.GetFieldViolations() {
						fields = append(fields, violation{fv.GetField(), fv.GetDescription()})
					}
				}
			}
			if info.GetReason() != tt.wantReason || info.GetDomain() != "test.tenure.dev" {
				t.Errorf("ErrorInfo = %s/%s, want %s/test.tenure.dev", info.GetReason(), info.GetDomain(), tt.wantReason)
			}
			if fmt.Sprint(info.GetMetadata()) != fmt.Sprint(tt.wantMeta) && len(tt.wantMeta)+len(info.GetMetadata()) > 0 {
				t.Errorf("metadata = %v, want %v", info.GetMetadata(), tt.wantMeta)
			}
			if len(fields) != 1 || fields[0] != tt.wantField {
				t.Errorf("field violations = %v, want [%v]", fields, tt.wantField)
			}
		})
	}
}
