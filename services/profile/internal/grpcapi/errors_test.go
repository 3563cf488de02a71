package grpcapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/platform/apierr/apierrtest"
	"github.com/tenurehq/tenure/services/profile/internal/profile"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
)

func TestErrorTable(t *testing.T) {
	table := ErrorTable(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if table.Domain != "profile.tenure.dev" {
		t.Fatalf("domain = %q, want profile.tenure.dev", table.Domain)
	}
	eventErr := &profile.ValidationError{Index: 2, EventID: "e-9", Path: "occurred_at", Message: "required", Err: profile.ErrInvalidEvent}
	tests := []struct {
		name   string
		err    error
		code   codes.Code
		reason string
		field  string
	}{
		{"not found", fmt.Errorf("get: %w", profile.ErrCustomerNotFound), codes.NotFound, "CUSTOMER_NOT_FOUND", ""},
		{"exists", profile.ErrCustomerAlreadyExists, codes.AlreadyExists, "CUSTOMER_ALREADY_EXISTS", ""},
		{"invalid customer", (&profile.ValidationError{Index: -1, Path: "email", Message: "bad", Err: profile.ErrInvalidCustomer}).WithPrefix("customer"), codes.InvalidArgument, "INVALID_CUSTOMER", "customer.email"},
		{"invalid event", eventErr.WithPrefix("event"), codes.InvalidArgument, "INVALID_EVENT", "event.occurred_at"},
		{"etag", profile.ErrETagMismatch, codes.Aborted, "ETAG_MISMATCH", ""},
		{"has events", fmt.Errorf("%w (customer c-1)", profile.ErrCustomerHasEvents), codes.FailedPrecondition, "CUSTOMER_HAS_EVENTS", ""},
		{"erased", profile.ErrCustomerErased, codes.FailedPrecondition, "CUSTOMER_ERASED", ""},
		{"batch too large", profile.ErrBatchTooLarge, codes.InvalidArgument, "BATCH_TOO_LARGE", ""},
		{"empty batch", profile.ErrEmptyBatch, codes.InvalidArgument, "EMPTY_BATCH", ""},
		{"page token", profile.ErrInvalidPageToken, codes.InvalidArgument, "INVALID_PAGE_TOKEN", ""},
		{"bad name", profile.InvalidArgument("name", "bad"), codes.InvalidArgument, "INVALID_ARGUMENT", "name"},
		{"unknown", errors.New("disk on fire"), codes.Internal, "INTERNAL", ""},
		{"canceled", context.Canceled, codes.Canceled, "CANCELED", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := table.Status(context.Background(), tt.err)
			if st.Code() != tt.code {
				t.Fatalf("code = %v, want %v", st.Code(), tt.code)
			}
			var info *errdetails.ErrorInfo
			var field string
			for _, d := range st.Details() {
				switch d := d.(type) {
				case *errdetails.ErrorInfo:
					info = d
				case *errdetails.BadRequest:
					field = d.GetFieldViolations()[0].GetField()
				}
			}
			if info.GetReason() != tt.reason {
				t.Fatalf("reason = %q, want %q", info.GetReason(), tt.reason)
			}
			if field != tt.field {
				t.Fatalf("field = %q, want %q", field, tt.field)
			}
			if tt.code == codes.Internal && st.Message() == tt.err.Error() {
				t.Fatalf("internal error leaked its detail: %q", st.Message())
			}
		})
	}
	st := table.Status(context.Background(), eventErr)
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			if info.GetMetadata()["event_id"] != "e-9" || info.GetMetadata()["index"] != "2" {
				t.Fatalf("metadata = %v, want event_id e-9 and index 2", info.GetMetadata())
			}
		}
	}
}

// TestErrorTableCoversDomain checks every sentinel of the profile domain
// (found in its source, so a new one fails here until it has a case) maps
// to its code and ErrorReason, and every ErrorReason is given.
func TestErrorTableCoversDomain(t *testing.T) {
	table := ErrorTable(slog.New(slog.NewTextHandler(io.Discard, nil)))
	r := func(err error, code codes.Code, reason profilev1.ErrorReason) apierrtest.Case {
		return apierrtest.Case{Err: err, Code: code, Reason: reason.String()}
	}
	apierrtest.CheckTable(t, table, "../profile", map[string]apierrtest.Case{
		"ErrCustomerNotFound":      r(profile.ErrCustomerNotFound, codes.NotFound, profilev1.ErrorReason_CUSTOMER_NOT_FOUND),
		"ErrCustomerAlreadyExists": r(profile.ErrCustomerAlreadyExists, codes.AlreadyExists, profilev1.ErrorReason_CUSTOMER_ALREADY_EXISTS),
		"ErrInvalidCustomer":       r(profile.ErrInvalidCustomer, codes.InvalidArgument, profilev1.ErrorReason_INVALID_CUSTOMER),
		"ErrInvalidEvent":          r(profile.ErrInvalidEvent, codes.InvalidArgument, profilev1.ErrorReason_INVALID_EVENT),
		"ErrETagMismatch":          r(profile.ErrETagMismatch, codes.Aborted, profilev1.ErrorReason_ETAG_MISMATCH),
		"ErrCustomerHasEvents":     r(profile.ErrCustomerHasEvents, codes.FailedPrecondition, profilev1.ErrorReason_CUSTOMER_HAS_EVENTS),
		"ErrCustomerErased":        r(profile.ErrCustomerErased, codes.FailedPrecondition, profilev1.ErrorReason_CUSTOMER_ERASED),
		"ErrBatchTooLarge":         r(profile.ErrBatchTooLarge, codes.InvalidArgument, profilev1.ErrorReason_BATCH_TOO_LARGE),
		"ErrEmptyBatch":            r(profile.ErrEmptyBatch, codes.InvalidArgument, profilev1.ErrorReason_EMPTY_BATCH),
		"ErrInvalidPageToken":      r(profile.ErrInvalidPageToken, codes.InvalidArgument, profilev1.ErrorReason_INVALID_PAGE_TOKEN),
	}, profilev1.ErrorReason_value)
}
