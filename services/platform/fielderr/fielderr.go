// Package fielderr is the one error type for a bad value in one request
// field: which field (its API path), what is wrong and how to fix it.
//
// Every service returns an *Error for a bad argument, from its domain
// package, its gRPC layer or a platform package (paging, idempotency). The
// platform's apierr maps every one of them the same way, once: to
// INVALID_ARGUMENT with a google.rpc.ErrorInfo and a google.rpc.BadRequest
// entry naming the field, unless the service's error table maps the more
// specific sentinel in Err first (INVALID_PAGE_TOKEN, INVALID_SETTINGS…).
//
// The package uses only the standard library, so domain packages may use
// it; apierr, which imports gRPC, may not be imported by them.
package fielderr

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrInvalidArgument matches (errors.Is) every *Error.
var ErrInvalidArgument = errors.New("invalid argument")

// ErrInvalidText marks text that cannot be stored: a string with a NUL
// character or bytes that are not UTF-8. The gRPC server's request checks
// and the storage layer wrap it; apierr maps it to INVALID_ARGUMENT with
// reason INVALID_TEXT. It lives here, with no gRPC dependency, so that
// storage can use it.
var ErrInvalidText = errors.New("invalid text")

// Error is a bad value in one request field.
type Error struct {
	// Path is the field as the API names it: proto field names in
	// snake_case joined by dots, with [i] for a list element, such as
	// "customer.email", "customer_ids[3]" or "page_size".
	Path string
	// Problem says what is wrong, without the field name: "must not be
	// negative, got -1", or "must be 1 to 63 characters" when that also
	// says what is allowed.
	Problem string
	// Fix says how to fix it when Problem does not: "omit it or send 0
	// for the default of 50". Empty when Problem says it all.
	Fix string
	// Err is a more specific sentinel the error also matches, which a
	// service's error table may map to its own reason (a paging token, a
	// settings problem); nil for a plain bad argument.
	Err error
	// Predicate says Problem reads on from the field name as one
	// sentence, so the message is "page_size must not be negative"
	// rather than "page_size: must not be negative".
	Predicate bool
}

// New returns an *Error for path whose Problem is formatted from format and
// args; it should say what is allowed, so no separate Fix is needed.
func New(path, format string, args ...any) *Error {
	return &Error{Path: path, Problem: fmt.Sprintf(format, args...)}
}

// Error is "path: problem; fix", or "path problem; fix" for a Predicate.
func (e *Error) Error() string {
	if e.Predicate {
		return e.Path + " " + e.Description()
	}
	return e.Path + ": " + e.Description()
}

// Field returns Path: the field a google.rpc.BadRequest entry names.
func (e *Error) Field() string { return e.Path }

// Description is the message without the field name, "problem; fix", for
// a google.rpc.BadRequest entry (which names the field itself).
func (e *Error) Description() string {
	if e.Fix == "" {
		return e.Problem
	}
	return e.Problem + "; " + e.Fix
}

// Unwrap returns Err, if any, and ErrInvalidArgument.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrInvalidArgument}
	}
	return []error{e.Err, ErrInvalidArgument}
}

// ErrorMetadata passes on the metadata of Err (an ErrorMetadata()
// map[string]string method in its chain), such as a rule error's position,
// for the google.rpc.ErrorInfo.
func (e *Error) ErrorMetadata() map[string]string {
	var md interface{ ErrorMetadata() map[string]string }
	if e.Err != nil && errors.As(e.Err, &md) {
		return md.ErrorMetadata()
	}
	return nil
}

// MaxQuote is how many characters of a bad value Quote keeps.
const MaxQuote = 32

// Quote quotes s for a Problem like %q, cut to its first MaxQuote
// characters followed by "…", so that a huge bad value is never echoed
// back whole.
func Quote(s string) string {
	n := 0
	for i := range s {
		if n == MaxQuote {
			return strconv.Quote(s[:i]) + "…"
		}
		n++
	}
	return strconv.Quote(s)
}
