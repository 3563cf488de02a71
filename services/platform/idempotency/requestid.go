package idempotency

import (
	"context"
	"errors"
	"fmt"

	"github.com/tenurehq/tenure/services/platform/apierr"
	"github.com/tenurehq/tenure/services/platform/fielderr"
	"google.golang.org/grpc/codes"
)

// MaxRequestIDLength is the most characters a request_id may have.
const MaxRequestIDLength = 128

// ErrInvalidRequestID is the Err of every error CheckRequestID returns; the
// interceptor maps it to reason INVALID_REQUEST_ID.
var ErrInvalidRequestID = errors.New("idempotency: invalid request_id")

// CheckRequestID reports whether id may be used as a request_id: at most
// MaxRequestIDLength characters, each a printable ASCII character other
// than space ('!' to '~'). The empty id (no deduplication) is valid. The
// error is a *fielderr.Error naming request_id, with Err
// ErrInvalidRequestID; it never repeats the id itself.
func CheckRequestID(id string) error {
	if len(id) > MaxRequestIDLength {
		return requestIDError(fmt.Sprintf("must be at most %d characters, got %d", MaxRequestIDLength, len(id)),
			"use an opaque id such as a UUID")
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < '!' || c > '~' {
			return requestIDError("must contain only printable ASCII characters other than space "+
				fmt.Sprintf("(letters, digits and punctuation); byte %d is 0x%02x", i, c), "")
		}
	}
	return nil
}

func requestIDError(problem, fix string) *fielderr.Error {
	return &fielderr.Error{Path: string(requestIDField), Problem: problem, Fix: fix, Err: ErrInvalidRequestID, Predicate: true}
}

// errInvalidRequestID turns an error of CheckRequestID into
// INVALID_ARGUMENT with an ErrorInfo (reason INVALID_REQUEST_ID) and a
// BadRequest naming request_id, through the platform's one error mapping.
func (s *Store) errInvalidRequestID(ctx context.Context, err error) error {
	t := apierr.Table{Domain: s.domain, Rules: []apierr.Rule{
		{Err: ErrInvalidRequestID, Code: codes.InvalidArgument, Reason: ReasonInvalidRequestID},
	}}
	return t.Status(ctx, err).Err()
}
