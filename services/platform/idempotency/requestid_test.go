package idempotency_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tenurehq/tenure/services/platform/fielderr"
	"github.com/tenurehq/tenure/services/platform/idempotency"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
)

func TestCheckRequestID(t *testing.T) {
	valid := []string{"", "a", "550e8400-e29b-41d4-a716-446655440000", "01J9Z3:order/42_x.y~!",
		strings.Repeat("k", idempotency.MaxRequestIDLength)}
	for _, id := range valid {
		if err := idempotency.CheckRequestID(id); err != nil {
			t.Errorf("CheckRequestID(%q) = %v, want nil", id, err)
		}
	}
	invalid := map[string]string{
		"too long":  strings.Repeat("k", idempotency.MaxRequestIDLength+1),
		"NUL":       "a\x00b",
		"space":     "a b",
		"newline":   "a\n",
		"DEL":       "a\x7f",
		"non-ASCII": "café",
		"bad UTF-8": "a\xff",
	}
	for name, id := range invalid {
		err := idempotency.CheckRequestID(id)
		if err == nil {
			t.Errorf("%s: CheckRequestID(%q) = nil, want an error", name, id)
			continue
		}
		var rerr *fielderr.Error
		if !strings.HasPrefix(err.Error(), "request_id ") || !errors.As(err, &rerr) || rerr.Field() != "request_id" {
			t.Errorf("%s: got %T %q, want a *fielderr.Error naming request_id", name, err, err)
		}
	}
}

// TestInvalidRequestIDIsRejected sends request ids no store should keep
// (one of 9,000 characters made PostgreSQL fail with a 500) through a
// gRPC server: each is INVALID_ARGUMENT naming request_id, without the
// handler running and without the id repeated in the error.
func TestInvalidRequestIDIsRejected(t *testing.T) {
	sqlstoretest.Engines(t, func(t *testing.T, db *sqlstore.DB) {
		client, fake := serve(t, db, idempotency.WithDomain("profile.tenure.dev"))
		ctx := context.Background()
		long := strings.Repeat("x", 9000)
		tests := []struct {
			name, id, msg string
		}{
			{"9,000 characters", long, "request_id must be at most 128 characters, got 9000; use an opaque id such as a UUID"},
			{"129 characters", long[:129], "request_id must be at most 128 characters, got 129; use an opaque id such as a UUID"},
			{"NUL", "key\x00", "request_id must contain only printable ASCII characters other than space " +
				"(letters, digits and punctuation); byte 3 is 0x00"},
			{"space", "my key", "request_id must contain only printable ASCII characters other than space " +
				"(letters, digits and punctuation); byte 2 is 0x20"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := client.CreateCustomer(ctx, create("c1", "Ada", tt.id))
				wantError(t, err, codes.InvalidArgument, idempotency.ReasonInvalidRequestID, "profile.tenure.dev", tt.msg)
				var field string
				for _, d := range status.Convert(err).Details() {
					if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) == 1 {
						field = br.GetFieldViolations()[0].GetField()
					}
				}
				if field != "request_id" {
					t.Errorf("BadRequest field: got %q, want request_id", field)
				}
			})
		}
		if got := fake.count("c1"); got != 0 {
			t.Errorf("handler calls: got %d, want 0", got)
		}
		// The longest valid id is stored and replayed on every engine.
		max := strings.Repeat("~", idempotency.MaxRequestIDLength)
		for range 2 {
			if _, err := client.CreateCustomer(ctx, create("c1", "Ada", max)); err != nil {
				t.Fatalf("request_id of %d characters: %v", len(max), err)
			}
		}
		if got := fake.count("c1"); got != 1 {
			t.Errorf("handler calls: got %d, want 1", got)
		}
	})
}
