package apierr

import (
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
)

// UnavailableMessage is the message of the status for an error that
// Unavailable recognises; the error itself goes to the log only (a driver's
// connection error names hosts, users and databases).
const UnavailableMessage = "the service cannot reach its database; retry later"

// Unavailable reports whether err says that the service's database (or
// another backend reached over the network) cannot be used right now, so
// that the same request can succeed later: the connection was refused,
// reset or closed, the server is shutting down or starting up (SQLSTATE
// 57P01, 57P02, 57P03) or reports a connection exception (class 08).
// Status answers such errors with UNAVAILABLE instead of INTERNAL, which
// clients and the gateway retry. The check looks for a SQLState() method
// (the PostgreSQL drivers' errors have one), net and syscall errors in the
// chain, so it needs no driver: reads that bypass sqlstore's transactions
// are recognised too.
func Unavailable(err error) bool {
	var state interface{ SQLState() string }
	if errors.As(err, &state) {
		switch code := state.SQLState(); {
		case strings.HasPrefix(code, "08"), code == "57P01", code == "57P02", code == "57P03":
			return true
		}
	}
	var op *net.OpError
	return errors.As(err, &op) ||
		errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE)
}
