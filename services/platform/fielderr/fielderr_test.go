package fielderr_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

var errSpecific = errors.New("test: invalid page token")

type positioned struct{}

func (positioned) Error() string                    { return "test: invalid rule" }
func (positioned) ErrorMetadata() map[string]string { return map[string]string{"line": "2"} }

func TestError(t *testing.T) {
	tests := []struct {
		name      string
		err       *fielderr.Error
		wantMsg   string
		wantDesc  string
		wantIsErr error
		wantMeta  map[string]string
	}{
		{
			name:     "problem only",
			err:      fielderr.New("customer.email", "must be an email address such as %q", "ada@example.com"),
			wantMsg:  `customer.email: must be an email address such as "ada@example.com"`,
			wantDesc: `must be an email address such as "ada@example.com"`,
		},
		{
			name:     "problem and fix",
			err:      &fielderr.Error{Path: "customer_ids[3]", Problem: "is empty", Fix: "send 1 to 128 bytes of UTF-8"},
			wantMsg:  "customer_ids[3]: is empty; send 1 to 128 bytes of UTF-8",
			wantDesc: "is empty; send 1 to 128 bytes of UTF-8",
		},
		{
			name: "predicate with a specific sentinel",
			err: &fielderr.Error{Path: "page_token", Problem: "was issued by another List method",
				Fix: "omit it for the first page", Err: errSpecific, Predicate: true},
			wantMsg:   "page_token was issued by another List method; omit it for the first page",
			wantDesc:  "was issued by another List method; omit it for the first page",
			wantIsErr: errSpecific,
		},
		{
			name:      "metadata of Err",
			err:       &fielderr.Error{Path: "segment.rule", Problem: "line 2: syntax error", Err: fmt.Errorf("wrapped: %w", positioned{})},
			wantMsg:   "segment.rule: line 2: syntax error",
			wantDesc:  "line 2: syntax error",
			wantIsErr: positioned{},
			wantMeta:  map[string]string{"line": "2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error = fmt.Errorf("context: %w", tt.err)
			if got := tt.err.Error(); got != tt.wantMsg {
				t.Errorf("Error() = %q, want %q", got, tt.wantMsg)
			}
			if got := tt.err.Description(); got != tt.wantDesc {
				t.Errorf("Description() = %q, want %q", got, tt.wantDesc)
			}
			if got := tt.err.Field(); got != tt.err.Path {
				t.Errorf("Field() = %q, want %q", got, tt.err.Path)
			}
			if !errors.Is(err, fielderr.ErrInvalidArgument) {
				t.Errorf("errors.Is(%v, ErrInvalidArgument) = false, want true", err)
			}
			if tt.wantIsErr != nil && !errors.Is(err, tt.wantIsErr) {
				t.Errorf("errors.Is(%v, %v) = false, want true", err, tt.wantIsErr)
			}
			var fe *fielderr.Error
			if !errors.As(err, &fe) || fe != tt.err {
				t.Errorf("errors.As(%v) = %v, want the *Error", err, fe)
			}
			if got := tt.err.ErrorMetadata(); fmt.Sprint(got) != fmt.Sprint(tt.wantMeta) {
				t.Errorf("ErrorMetadata() = %v, want %v", got, tt.wantMeta)
			}
		})
	}
}

// An error that is not an *Error does not match ErrInvalidArgument.
func TestOtherErrorsDoNotMatch(t *testing.T) {
	if err := errors.New("page_size: must not be negative"); errors.Is(err, fielderr.ErrInvalidArgument) {
		t.Errorf("errors.Is(%v, ErrInvalidArgument) = true, want false", err)
	}
}

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `""`},
		{"abc", `"abc"`},
		{strings.Repeat("é", fielderr.MaxQuote), `"` + strings.Repeat("é", fielderr.MaxQuote) + `"`},
		{strings.Repeat("é", fielderr.MaxQuote+1), `"` + strings.Repeat("é", fielderr.MaxQuote) + `"…`},
		{"a\x00\xff", `"a\x00\xff"`},
	}
	for _, tt := range tests {
		if got := fielderr.Quote(tt.in); got != tt.want {
			t.Errorf("Quote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
