package sqlstore

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

// ErrUnstorableText is returned (wrapped) when PostgreSQL refuses a text
// value it cannot store: a NUL character or bytes that are not UTF-8
// (SQLSTATE 22021, character_not_in_repertoire) or a \u0000 escape in JSON
// (22P05, untranslatable_character). The gRPC servers refuse such text in
// requests before a handler runs; this is the last line of defence for
// text that reaches the database another way. It also matches
// fielderr.ErrInvalidText, so every service's error table answers it with
// INVALID_ARGUMENT and reason INVALID_TEXT instead of INTERNAL. SQLite
// stores such text, so it never returns it.
var ErrUnstorableText = errors.New("sqlstore: a text value contains a character the database cannot store (NUL or invalid UTF-8)")

// unstorableText is ErrUnstorableText with the driver's error.
type unstorableText struct{ err error }

func (e *unstorableText) Error() string { return ErrUnstorableText.Error() }

func (e *unstorableText) Unwrap() []error {
	return []error{ErrUnstorableText, fielderr.ErrInvalidText, e.err}
}

// classify wraps a driver error that has a meaning for callers in the
// sentinel that says so; other errors pass through.
func classify(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "22021", "22P05":
			return &unstorableText{err: err}
		}
	}
	return err
}
