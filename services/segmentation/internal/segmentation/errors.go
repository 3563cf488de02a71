package segmentation

import (
	"errors"
	"fmt"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

// Sentinel errors of the segmentation service. The gRPC layer maps each to
// a status code and an ErrorInfo reason. A bad request field is a
// *fielderr.Error, which may also wrap one of them (ErrInvalidSettings,
// ErrInvalidRule, ErrInvalidAudience).
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

// invalid is a bad request field: the platform's field error, whose
// problem should say what is allowed. This package words field errors as
// "page_size: must not be negative, got -1; …", without a prefix.
func invalid(path, format string, args ...any) error {
	return fielderr.New(path, format, args...)
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
