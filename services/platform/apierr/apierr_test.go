package apierr_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tenurehq/tenure/services/platform/apierr"
	"github.com/tenurehq/tenure/services/platform/telemetry"
)

var (
	errCustomerNotFound = errors.New("profile: customer not found")
	errEventConflict    = errors.New("profile: event conflict")
	errDatabaseDown     = errors.New("sqlstore: dial tcp 10.0.0.7:5432: connection refused")
)

// fieldErr is a FieldViolation.
type fieldErr struct{ field, msg string }

func (e fieldErr) Error() string { return e.field + ": " + e.msg }
func (e fieldErr) Field() string { return e.field }

// describedErr is a FieldViolation with a separate description.
type describedErr struct{ fieldErr }

func (e describedErr) Description() string { return e.msg }

// metaErr carries ErrorInfo metadata.
type metaErr struct{ err error }

func (e metaErr) Error() string                    { return e.err.Error() }
func (e metaErr) Unwrap() error                    { return e.err }
func (e metaErr) ErrorMetadata() map[string]string { return map[string]string{"customer_id": "c1"} }

func newTable(log *slog.Logger) *apierr.Table {
	return &apierr.Table{
		Domain: "profile.tenure.dev",
		Logger: log,
		Rules: []apierr.Rule{
			{Err: errCustomerNotFound, Code: codes.NotFound, Reason: "CUSTOMER_NOT_FOUND"},
			{Err: errEventConflict, Code: codes.Aborted}, // reason from the code
		},
	}
}

type violation struct{ field, description string }

// TestStatus checks how Status maps each kind of error; its length is the
// table.
func TestStatus(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantCode   codes.Code
		wantMsg    string
		wantReason string // empty: no ErrorInfo expected
		wantMeta   map[string]string
		wantFields []violation
		wantLogged bool
	}{
		{
			name:       "sentinel",
			err:        errCustomerNotFound,
			wantCode:   codes.NotFound,
			wantMsg:    "profile: customer not found",
			wantReason: "CUSTOMER_NOT_FOUND",
		},
		{
			name:       "wrapped sentinel",
			err:        fmt.Errorf("get customer c1: %w", errCustomerNotFound),
			wantCode:   codes.NotFound,
			wantMsg:    "get customer c1: profile: customer not found",
			wantReason: "CUSTOMER_NOT_FOUND",
		},
		{
			name:       "reason defaults to code name",
			err:        errEventConflict,
			wantCode:   codes.Aborted,
			wantMsg:    "profile: event conflict",
			wantReason: "ABORTED",
		},
		{
			name:       "metadata",
			err:        metaErr{fmt.Errorf("lookup: %w", errCustomerNotFound)},
			wantCode:   codes.NotFound,
			wantMsg:    "lookup: profile: customer not found",
			wantReason: "CUSTOMER_NOT_FOUND",
			wantMeta:   map[string]string{"customer_id": "c1"},
		},
		{
			name:       "generic sentinel",
			err:        fmt.Errorf("%w: page_size must not be negative", apierr.ErrInvalidArgument),
			wantCode:   codes.InvalidArgument,
			wantMsg:    "apierr: invalid argument: page_size must not be negative",
			wantReason: "INVALID_ARGUMENT",
		},
		{
			name:       "invalid text sentinel",
			err:        fmt.Errorf("%w: a value contains a NUL character", apierr.ErrInvalidText),
			wantCode:   codes.InvalidArgument,
			wantMsg:    "invalid text: a value contains a NUL character",
			wantReason: "INVALID_TEXT",
		},
		{
			name:       "malformed request sentinel",
			err:        fmt.Errorf("%w: cannot parse", apierr.ErrMalformedRequest),
			wantCode:   codes.InvalidArgument,
			wantMsg:    "apierr: malformed request: cannot parse",
			wantReason: "MALFORMED_REQUEST",
		},
		{
			name: "field violations",
			err: fmt.Errorf("%w: %w", apierr.ErrInvalidArgument, errors.Join(
				fieldErr{"customer.email", "must be an email address"},
				fmt.Errorf("wrapped: %w", fieldErr{"customer.birth_date", "must be in the past"}),
			)),
			wantCode:   codes.InvalidArgument,
			wantMsg:    "apierr: invalid argument: customer.email: must be an email address\nwrapped: customer.birth_date: must be in the past",
			wantReason: "INVALID_ARGUMENT",
			wantFields: []violation{
				{"customer.email", "customer.email: must be an email address"},
				{"customer.birth_date", "customer.birth_date: must be in the past"},
			},
		},
		{
			name:       "field violation with a description",
			err:        fmt.Errorf("%w: %w", apierr.ErrInvalidArgument, describedErr{fieldErr{"customer.email", "must be an email address"}}),
			wantCode:   codes.InvalidArgument,
			wantMsg:    "apierr: invalid argument: customer.email: must be an email address",
			wantReason: "INVALID_ARGUMENT",
			wantFields: []violation{{"customer.email", "must be an email address"}},
		},
		{
			name:     "status passes through",
			err:      status.Error(codes.Unavailable, "segmentation unavailable"),
			wantCode: codes.Unavailable,
			wantMsg:  "segmentation unavailable",
		},
		{
			name:       "canceled",
			err:        fmt.Errorf("query: %w", context.Canceled),
			wantCode:   codes.Canceled,
			wantMsg:    "context canceled",
			wantReason: "CANCELED",
		},
		{
			name:       "deadline",
			err:        fmt.Errorf("query: %w", context.DeadlineExceeded),
			wantCode:   codes.DeadlineExceeded,
			wantMsg:    "context deadline exceeded",
			wantReason: "DEADLINE_EXCEEDED",
		},
		{
			name:       "unknown",
			err:        fmt.Errorf("load customer: %w", errDatabaseDown),
			wantCode:   codes.Internal,
			wantMsg:    "internal error",
			wantReason: "INTERNAL",
			wantLogged: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			tbl := newTable(slog.New(slog.NewJSONHandler(&logs, nil)))

			st := tbl.Status(context.Background(), tt.err)
			if st == nil {
				t.Fatal("Status = nil")
			}
			if st.Code() != tt.wantCode || st.Message() != tt.wantMsg {
				t.Errorf("got %v %q, want %v %q", st.Code(), st.Message(), tt.wantCode, tt.wantMsg)
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
			switch {
			case tt.wantReason == "" && info != nil:
				t.Errorf("unexpected ErrorInfo %v", info)
			case tt.wantReason != "" && info == nil:
				t.Errorf("no ErrorInfo, want reason %s", tt.wantReason)
			case info != nil:
				if info.GetReason() != tt.wantReason || info.GetDomain() != "profile.tenure.dev" {
					t.Errorf("ErrorInfo = %s/%s, want %s/profile.tenure.dev", info.GetReason(), info.GetDomain(), tt.wantReason)
				}
				if fmt.Sprint(info.GetMetadata()) != fmt.Sprint(tt.wantMeta) && len(tt.wantMeta)+len(info.GetMetadata()) > 0 {
					t.Errorf("metadata = %v, want %v", info.GetMetadata(), tt.wantMeta)
				}
			}
			if fmt.Sprint(fields) != fmt.Sprint(tt.wantFields) {
				t.Errorf("field violations = %v, want %v", fields, tt.wantFields)
			}

			logged := logs.String()
			if tt.wantLogged {
				if !strings.Contains(logged, errDatabaseDown.Error()) {
					t.Errorf("log %q does not hold the error detail", logged)
				}
				// The detail must reach the log only.
				for _, s := range []string{st.Message(), fmt.Sprint(st.Proto())} {
					if strings.Contains(s, "10.0.0.7") || strings.Contains(s, "sqlstore") {
						t.Errorf("status leaks the error detail: %s", s)
					}
				}
			} else if logged != "" {
				t.Errorf("unexpected log output %q", logged)
			}
		})
	}
}

func TestStatusNil(t *testing.T) {
	if st := newTable(nil).Status(context.Background(), nil); st != nil {
		t.Fatalf("Status(nil) = %v, want nil", st)
	}
}

// TestReasonOf reads the reason back from what a client receives: the
// status error of a mapped error, wrapped or not; nothing from other errors.
func TestReasonOf(t *testing.T) {
	tbl := newTable(nil)
	mapped := tbl.Status(context.Background(), fmt.Errorf("get: %w", errCustomerNotFound)).Err()
	for _, c := range []struct {
		err  error
		want string
	}{
		{mapped, "CUSTOMER_NOT_FOUND"},
		{fmt.Errorf("clients: %w", mapped), "CUSTOMER_NOT_FOUND"},
		{tbl.Status(context.Background(), errEventConflict).Err(), "ABORTED"},
		{status.Error(codes.Unavailable, "no replica"), ""},
		{errDatabaseDown, ""},
		{nil, ""},
	} {
		if got := apierr.ReasonOf(c.err); got != c.want {
			t.Errorf("ReasonOf(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

func TestFirstRuleWins(t *testing.T) {
	errSpecific := fmt.Errorf("profile: invalid email: %w", apierr.ErrInvalidArgument)
	tbl := &apierr.Table{Domain: "d", Rules: []apierr.Rule{{Err: errSpecific, Code: codes.InvalidArgument, Reason: "INVALID_EMAIL"}}}
	st := tbl.Status(context.Background(), errSpecific)
	info, ok := st.Details()[0].(*errdetails.ErrorInfo)
	if !ok || info.GetReason() != "INVALID_EMAIL" {
		t.Fatalf("details = %v, want reason INVALID_EMAIL before the generic rule", st.Details())
	}
}

func TestInternalLogCarriesTraceID(t *testing.T) {
	var logs bytes.Buffer
	tbl := newTable(telemetry.NewLogger(&logs, "profile", slog.LevelInfo))
	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("test").Start(context.Background(), "op")
	defer span.End()

	tbl.Status(ctx, errDatabaseDown)
	traceID := span.SpanContext().TraceID().String()
	if !strings.Contains(logs.String(), `"trace_id":"`+traceID+`"`) {
		t.Fatalf("log %q lacks trace_id %s", logs.String(), traceID)
	}
}
