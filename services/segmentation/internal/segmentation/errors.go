package segmentation

import (
	"errors"
	"fmt"
)

// Sentinel errors of the segmentation service. The gRPC layer maps each to
// a status code and an ErrorInfo reason.
var (
	ErrSegmentNotFound      = errors.New("segmentation: segment not found")
	ErrSegmentAlreadyExists = errors.New("segmentation: segment already exists")
	ErrNotStaticSegment     = errors.New("segmentation: not a static segment")
	ErrOperationNotFound    = errors.New("segmentation: operation not found")
	ErrCustomerNotFound     = errors.New("segmentation: customer not found")
	ErrSettingsNotFound     = errors.New("segmentation: settings version not found")
	ErrRecomputeInProgress  = errors.New("segmentation: a recompute is in progress")
	ErrNoRecompute          = errors.New("segmentation: no recompute has succeeded yet")
	ErrETagMismatch         = errors.New("segmentation: etag mismatch")
	ErrTooManyPairs         = errors.New("segmentation: too many membership pairs")
	ErrInvalidAudience      = errors.New("segmentation: invalid audience")
	ErrInvalidPageToken     = errors.New("segmentation: invalid page token")
	ErrInvalidArgument      = errors.New("segmentation: invalid argument")
	// ErrSegmentNotComputed: the rule segment exists but no recompute
	// has evaluated it yet.
	ErrSegmentNotComputed = errors.New("segmentation: segment not computed")
)

// InProgressError says which operation holds the recompute slot. It wraps
// ErrRecomputeInProgress and carries the operation as error metadata.
type InProgressError struct {
	Operation string // "operations/{id}", empty if unknown
}

func (e *InProgressError) Error() string {
	if e.Operation == "" {
		return ErrRecomputeInProgress.Error()
	}
	return fmt.Sprintf("%s: %s", ErrRecomputeInProgress, e.Operation)
}

// Unwrap returns ErrRecomputeInProgress.
func (e *InProgressError) Unwrap() error { return ErrRecomputeInProgress }

// ErrorMetadata names the running operation for the gRPC ErrorInfo.
func (e *InProgressError) ErrorMetadata() map[string]string {
	if e.Operation == "" {
		return nil
	}
	return map[string]string{"operation": e.Operation}
}

// FieldError is an error about one request field; it wraps a sentinel.
type FieldError struct {
	Path string
	Msg  string
	Err  error
}

func (e *FieldError) Error() string { return fmt.Sprintf("%s: %s", e.Path, e.Msg) }

// Field names the request field, for a BadRequest field violation.
func (e *FieldError) Field() string { return e.Path }

// Description is the explanation alone, for a BadRequest field violation
// (which already names the field).
func (e *FieldError) Description() string { return e.Msg }

// Unwrap returns the sentinel.
func (e *FieldError) Unwrap() error { return e.Err }

// ErrorMetadata passes on the metadata of the wrapped error, if any (a
// RuleError's position).
func (e *FieldError) ErrorMetadata() map[string]string {
	var md interface{ ErrorMetadata() map[string]string }
	if errors.As(e.Err, &md) {
		return md.ErrorMetadata()
	}
	return nil
}

func invalid(path, format string, args ...any) error {
	return &FieldError{Path: path, Msg: fmt.Sprintf(format, args...), Err: ErrInvalidArgument}
}

// RuleError is a rule that does not compile, with the 1-based position of
// the problem. It wraps ErrInvalidRule and carries the position as error
// metadata ("line", "column").
type RuleError struct {
	Line, Column int
	Message      string
}

func (e *RuleError) Error() string {
	return fmt.Sprintf("%s: %s", ErrInvalidRule, e.Detail())
}

// Detail is the position and message without the sentinel text:
// "line 2, column 5: undeclared reference to 'x'".
func (e *RuleError) Detail() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Message)
}

// Unwrap returns ErrInvalidRule.
func (e *RuleError) Unwrap() error { return ErrInvalidRule }

// ErrorMetadata gives the position for the gRPC ErrorInfo.
func (e *RuleError) ErrorMetadata() map[string]string {
	return map[string]string{"line": fmt.Sprint(e.Line), "column": fmt.Sprint(e.Column)}
}
