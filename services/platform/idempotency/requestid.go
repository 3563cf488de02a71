package idempotency

import (
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// MaxRequestIDLength is the most characters a request_id may have.
const MaxRequestIDLength = 128

// RequestIDError says why a request_id is not valid. It names the field
// (an apierr.FieldViolation) and never repeats the id itself.
type RequestIDError struct {
	problem string
}

func (e *RequestIDError) Error() string { return "request_id " + e.problem }

// Field returns "request_id".
func (e *RequestIDError) Field() string { return string(requestIDField) }

// CheckRequestID reports whether id may be used as a request_id: at most
// MaxRequestIDLength characters, each a printable ASCII character other
// than space ('!' to '~'). The empty id (no deduplication) is valid. The
// error is a *RequestIDError.
func CheckRequestID(id string) error {
	if len(id) > MaxRequestIDLength {
		return &RequestIDError{fmt.Sprintf("must be at most %d characters, got %d; use an opaque id such as a UUID",
			MaxRequestIDLength, len(id))}
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < '!' || c > '~' {
			return &RequestIDError{fmt.Sprintf("must contain only printable ASCII characters other than space "+
				"(letters, digits and punctuation); byte %d is 0x%02x", i, c)}
		}
	}
	return nil
}

// errInvalidRequestID turns an error of CheckRequestID into
// INVALID_ARGUMENT with an ErrorInfo and a BadRequest naming request_id.
func (s *Store) errInvalidRequestID(err error) error {
	msg := err.Error()
	st := status.New(codes.InvalidArgument, msg)
	ds, derr := st.WithDetails(
		&errdetails.ErrorInfo{Reason: ReasonInvalidRequestID, Domain: s.domain},
		&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
			{Field: string(requestIDField), Description: msg},
		}},
	)
	if derr != nil {
		return st.Err()
	}
	return ds.Err()
}
