package edge

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"google.golang.org/grpc/codes"
)

// ReasonBodyTooLarge is the ErrorInfo reason of a request refused because
// its body exceeds the limit.
const ReasonBodyTooLarge = "BODY_TOO_LARGE"

// limitedBody remembers that the limit was hit, because grpc-gateway turns
// the read error into a plain INVALID_ARGUMENT message.
type limitedBody struct {
	r        io.ReadCloser // an http.MaxBytesReader
	exceeded bool
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	var mbe *http.MaxBytesError
	if err != nil && errors.As(err, &mbe) {
		b.exceeded = true
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.r.Close() }

// bodyTooLarge is the error answered with HTTP 413.
func bodyTooLarge(limit int64) error {
	return gatewayError(http.StatusRequestEntityTooLarge, codes.ResourceExhausted, ReasonBodyTooLarge,
		fmt.Sprintf("request body larger than %d bytes", limit),
		map[string]string{"limitBytes": strconv.FormatInt(limit, 10)})
}
