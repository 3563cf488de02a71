// Package loyalty is the loyalty service's domain: the programme's
// settings, members and their tiers, the points ledger with its expiry
// buckets, and the rewards catalogue. The rules are pure functions and
// methods on Account, table-tested; the use cases run them over small
// storage interfaces.
package loyalty

import (
	"errors"
	"fmt"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

// Sentinel errors of the loyalty service. The gRPC layer maps each to a
// status code and an ErrorInfo reason. A bad request field is a
// *fielderr.Error, which may also wrap ErrInvalidProgramme.
var (
	ErrMemberNotFound      = errors.New("loyalty: member not found")
	ErrMemberAlreadyExists = errors.New("loyalty: member already exists")
	ErrInsufficientPoints  = errors.New("loyalty: insufficient points")
	ErrInvalidProgramme    = errors.New("loyalty: invalid programme")
	ErrProgrammeNotFound   = errors.New("loyalty: programme version not found")
	ErrVersionMismatch     = errors.New("loyalty: programme version mismatch")
	ErrRewardNotFound      = errors.New("loyalty: reward not found")
	ErrRewardAlreadyExists = errors.New("loyalty: reward already exists")
	ErrOutOfStock          = errors.New("loyalty: reward out of stock")
	ErrRewardLimitReached  = errors.New("loyalty: reward limit reached")
	ErrRewardNotAvailable  = errors.New("loyalty: reward not available")
	ErrTierTooLow          = errors.New("loyalty: tier too low for reward")
	ErrRedemptionNotFound  = errors.New("loyalty: redemption not found")
	ErrRedemptionClosed    = errors.New("loyalty: redemption closed")
	ErrOperationNotFound   = errors.New("loyalty: operation not found")
)

// InsufficientError says how many points a member has available when a
// debit asks for more. It wraps ErrInsufficientPoints.
type InsufficientError struct {
	Available, Requested int64
}

func (e *InsufficientError) Error() string {
	return fmt.Sprintf("%s: %d available, %d requested", ErrInsufficientPoints, e.Available, e.Requested)
}

// Unwrap returns ErrInsufficientPoints.
func (e *InsufficientError) Unwrap() error { return ErrInsufficientPoints }

// ErrorMetadata gives the available balance for the gRPC ErrorInfo.
func (e *InsufficientError) ErrorMetadata() map[string]string {
	return map[string]string{"available_points": fmt.Sprint(e.Available)}
}

// invalid is a bad request field.
func invalid(path, format string, args ...any) error {
	return fielderr.New(path, format, args...)
}

// programmeProblem is a bad programme field; it wraps ErrInvalidProgramme.
func programmeProblem(path, format string, args ...any) error {
	return &fielderr.Error{Path: path, Problem: fmt.Sprintf(format, args...), Err: ErrInvalidProgramme}
}
