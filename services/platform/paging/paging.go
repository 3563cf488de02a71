// Package paging is the one way Tenure's List methods page: a page size
// with a default and a maximum, and opaque page tokens bound to the request
// that asked for them.
//
// A List method describes its paging with Sizes and a Filter (the method's
// name and the request fields that select the items), then calls Parse with
// the request's page_size and page_token. The Page it gets back says how
// many items to return and after which position to start; Cut (or
// Page.Next) makes the next_page_token from the last item returned.
//
// A token carries the position, a hash of the method and filter values it
// was issued for, and a checksum. A token that does not decode, fails its
// checksum or was issued for other filters is rejected with an *Error (a
// *fielderr.Error) that wraps ErrInvalidPageToken and names page_token. Tokens are not secret
// (anyone can decode one) and not signed: the checksum catches edited and
// truncated tokens, not deliberate forgeries, which can only choose where a
// page starts within the caller's own request. Callers still validate the
// position they get back as untrusted input.
//
// The package uses only the standard library and the platform's fielderr,
// so domain packages may use it.
package paging

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
	"unicode/utf8"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

// Sentinel errors; every error this package returns is an *Error wrapping
// one of them.
var (
	ErrInvalidPageToken = errors.New("paging: invalid page token")
	ErrInvalidPageSize  = errors.New("paging: invalid page size")
)

// Error is a bad page_size or page_token: the platform's one field-error
// type, so every service maps it the same way. Its text names the field,
// says what is wrong and what to send instead ("page_size must not be
// negative, got -1; omit it or send 0 for the default of 50, or a number up
// to 1000"), and its Err is ErrInvalidPageSize or ErrInvalidPageToken.
type Error = fielderr.Error

// DefaultSizes is the page size policy of a List method that documents no
// other: 50 items unless the caller asks for another number, at most 1,000.
var DefaultSizes = Sizes{Default: 50, Max: 1000}

// Sizes is a List method's page size policy. Its zero value means
// DefaultSizes.
type Sizes struct {
	Default int // used when the request's size is 0 (unset)
	Max     int // larger requests are lowered to this, as AIP-158 asks
}

// Size returns the number of items to return for a request's page_size:
// the default for 0, the maximum for anything above it. A negative size is
// an *Error wrapping ErrInvalidPageSize.
func (s Sizes) Size(pageSize int) (int, error) {
	return s.Field("page_size", pageSize)
}

// Field is Size for a size field with another name, such as limit.
func (s Sizes) Field(name string, n int) (int, error) {
	if s == (Sizes{}) {
		s = DefaultSizes
	}
	switch {
	case n < 0:
		return 0, &Error{Path: name, Err: ErrInvalidPageSize, Predicate: true,
			Problem: fmt.Sprintf("must not be negative, got %d", n),
			Fix:     fmt.Sprintf("omit it or send 0 for the default of %d, or a number up to %d", s.Default, s.Max)}
	case n == 0:
		return s.Default, nil
	case n > s.Max:
		return s.Max, nil
	}
	return n, nil
}

// Filter names what a page token is bound to: the List method and the
// request fields that select its items (not page_size, which may change
// from page to page). Build one with For and With.
type Filter struct {
	method string
	names  []string
	values []string
}

// For starts the Filter of a List method; method is a stable name such as
// "ListCustomers", so that one method's token is rejected by another.
func For(method string) Filter {
	return Filter{method: method}
}

// With returns f bound to one more request field, by its API name and its
// value in a canonical spelling (normalize times to UTC, say, so equal
// requests bind equal tokens).
func (f Filter) With(name, value string) Filter {
	f.names = append(f.names[:len(f.names):len(f.names)], name)
	f.values = append(f.values[:len(f.values):len(f.values)], value)
	return f
}

// sum is the 8-byte hash a token carries for f.
func (f Filter) sum() [8]byte {
	h := sha256.New()
	field := func(s string) {
		h.Write(binary.AppendUvarint(nil, uint64(len(s))))
		h.Write([]byte(s))
	}
	field(f.method)
	for i := range f.names {
		field(f.names[i])
		field(f.values[i])
	}
	var out [8]byte
	copy(out[:], h.Sum(nil))
	return out
}

// mismatch is the problem of a token issued for another request.
func (f Filter) mismatch() string {
	if len(f.names) == 0 {
		return "was issued by another List method; pass the next_page_token this method returned, or omit it for the first page"
	}
	return "does not match the request's filters; send the " + joinNames(f.names) + " of the request that returned it"
}

// joinNames lists names as "a", "a and b", "a, b and c".
func joinNames(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// Page is what a List request asks for, once parsed.
type Page struct {
	// Size is how many items to return.
	Size int
	// After is the position the page starts after, as given to Next for
	// the previous page; empty for the first page. It is caller input:
	// validate it like any other.
	After  string
	filter Filter
}

// Parse reads a request's page_size and page_token for a List method with
// the given sizes and filter. The token must be empty or one that Next
// made for the same filter.
func Parse(sizes Sizes, pageSize int, pageToken string, f Filter) (Page, error) {
	n, err := sizes.Size(pageSize)
	if err != nil {
		return Page{}, err
	}
	p := Page{Size: n, filter: f}
	if pageToken == "" {
		return p, nil
	}
	t, err := decode(pageToken)
	if err != nil {
		return Page{}, InvalidToken()
	}
	if t.filter != f.sum() {
		return Page{}, tokenError(f.mismatch())
	}
	p.After = t.position
	return p, nil
}

// InvalidToken is the error for a page_token that is not one the service
// issued. Parse returns it for tokens that do not decode; a List method
// returns it for a token whose position it could not have issued.
func InvalidToken() error {
	return tokenError("is not one this service issued; pass next_page_token unchanged, or omit it for the first page")
}

func tokenError(problem string) *Error {
	return &Error{Path: "page_token", Err: ErrInvalidPageToken, Predicate: true, Problem: problem}
}

// Limit is how many items to read from storage: one more than Size, so
// that Cut knows whether there is a next page.
func (p Page) Limit() int { return p.Size + 1 }

// Next returns the token of the page that starts after position, the key
// of the last item of this page. The position must not be empty.
func (p Page) Next(position string) string {
	return encode(token{filter: p.filter.sum(), position: position})
}

// Cut trims items, read with p.Limit(), to p.Size and returns them with the
// next page token: empty when items held no more than p.Size, else the
// token after the key of the last item kept.
func Cut[T any](p Page, items []T, key func(T) string) ([]T, string) {
	if len(items) <= p.Size {
		return items, ""
	}
	items = items[:p.Size]
	return items, p.Next(key(items[len(items)-1]))
}

// Token layout, version 1, before base64url encoding without padding:
//
//	version (1 byte, 1) | filter hash (8 bytes) | position (UTF-8, 1+ bytes) | CRC-32 of the preceding bytes (4 bytes)
const (
	version1 = 1
	// maxTokenLen bounds the work spent on a token; positions are ids of
	// at most a few hundred bytes.
	maxTokenLen = 2048
	overhead    = 1 + 8 + 4
)

var encoding = base64.RawURLEncoding.Strict()

type token struct {
	filter   [8]byte
	position string
}

func encode(t token) string {
	b := make([]byte, 0, overhead+len(t.position))
	b = append(b, version1)
	b = append(b, t.filter[:]...)
	b = append(b, t.position...)
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	return encoding.EncodeToString(b)
}

var errMalformed = errors.New("malformed page token")

// decode accepts exactly the strings encode returns: base64url without
// padding or line breaks, version 1, a non-empty UTF-8 position and a
// matching checksum.
func decode(s string) (token, error) {
	if len(s) > maxTokenLen {
		return token{}, errMalformed
	}
	b, err := encoding.DecodeString(s)
	// The decoder skips \r and \n; re-encoding catches them.
	if err != nil || len(b) <= overhead || encoding.EncodeToString(b) != s {
		return token{}, errMalformed
	}
	body, sum := b[:len(b)-4], b[len(b)-4:]
	if !bytes.Equal(sum, binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(body))) || body[0] != version1 {
		return token{}, errMalformed
	}
	var t token
	copy(t.filter[:], body[1:9])
	t.position = string(body[9:])
	if !utf8.ValidString(t.position) {
		return token{}, errMalformed
	}
	return t, nil
}
