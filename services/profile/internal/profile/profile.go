// Package profile is the domain of the profile service: customers, their
// consent and tags, the customer event log and the features derived from it.
//
// It holds plain types, validation, the feature folding rules, the use cases
// (Service, including the follow loop of the event log that StreamEvents
// serves), the Store interface that storage implements and the sentinel
// errors ("profile: …"). It knows nothing about protobuf or SQL.
package profile

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

// Sentinel errors. Callers match them with errors.Is; the gRPC layer maps
// them to status codes in one table. Each message says what is wrong and,
// where it is not obvious, what to do about it; wrapping adds the detail
// (the field, the customer id).
var (
	ErrCustomerNotFound      = errors.New("profile: customer not found")
	ErrCustomerAlreadyExists = errors.New("profile: customer already exists; update it, or create the new one under another customer_id")
	ErrInvalidCustomer       = errors.New("profile: invalid customer")
	ErrInvalidEvent          = errors.New("profile: invalid event")
	ErrETagMismatch          = errors.New("profile: etag mismatch: the customer changed since the etag was read; read it again and retry")
	ErrCustomerHasEvents     = errors.New("profile: customer has events, so it cannot be deleted; erase it instead")
	ErrCustomerErased        = errors.New("profile: customer erased: it holds only anonymous history, which cannot be changed, deleted or erased again")
	ErrBatchTooLarge         = errors.New("profile: batch too large")
	ErrEmptyBatch            = errors.New("profile: empty batch")
	ErrInvalidPageToken      = errors.New("profile: invalid page token")
)

// InvalidArgument is a bad request field outside customer and event
// validation (page size, update mask, resource name): a *fielderr.Error,
// worded as this package words it, "profile: invalid argument:
// update_mask: unknown path "nickname"". The problem should say what is
// allowed.
func InvalidArgument(path, format string, args ...any) error {
	return AsInvalidArgument(fielderr.New(path, format, args...))
}

// AsInvalidArgument puts this package's prefix on a *fielderr.Error, such
// as one from a resource name that does not parse, so that it reads like
// InvalidArgument's.
func AsInvalidArgument(err *fielderr.Error) error {
	return fmt.Errorf("profile: invalid argument: %w", err)
}

// Money is an amount in minor units of an ISO 4217 currency.
type Money struct {
	Currency string
	Minor    int64
}

// IsZero reports whether m is the zero value (no amount, no currency).
func (m Money) IsZero() bool { return m == Money{} }

// ConsentState is a customer's marketing consent answer for one channel.
type ConsentState int

// Consent states. Unspecified means never asked and counts as not granted.
const (
	ConsentUnspecified ConsentState = iota
	ConsentGranted
	ConsentDenied
)

// Consent is the marketing consent per channel.
type Consent struct {
	Email ConsentState
	SMS   ConsentState
	Push  ConsentState
}

// CustomerState is the lifecycle of a customer record.
type CustomerState int

// Customer states.
const (
	StateUnspecified CustomerState = iota
	// StateActive: created through CreateCustomer.
	StateActive
	// StateProvisional: created because events arrived for an unknown id.
	StateProvisional
	// StateErased: personal data removed; the record lives on under an
	// anonymous id with its features.
	StateErased
)

// Customer is a shop's customer.
type Customer struct {
	ID                  string
	FullName            string
	Email               string
	Phone               string
	Birthday            string // YYYY-MM-DD
	TimeZone            string // IANA
	Country             string // ISO 3166-1 alpha-2
	RegistrationTime    time.Time
	RegistrationChannel string
	Consent             Consent
	Tags                []string // sorted, unique
	State               CustomerState
	Features            Features
	CreateTime          time.Time
	UpdateTime          time.Time
	// Revision is incremented by the store on every write of the customer,
	// including feature updates from events. The etag is derived from it.
	Revision int64
}

// ETag is the opaque version string of the customer.
func (c Customer) ETag() string {
	return `W/"` + strconv.FormatInt(c.Revision, 10) + `"`
}

// CustomerFilter selects customers for ListCustomers.
type CustomerFilter struct {
	// Tag, when set, keeps customers carrying it.
	Tag string
	// UpdatedAfter, when set, keeps customers with UpdateTime >= it.
	UpdatedAfter time.Time
	// AfterID, when set, keeps customers with ID > AfterID (paging).
	AfterID string
	// Limit is the maximum number of customers to return (> 0).
	Limit int
}
