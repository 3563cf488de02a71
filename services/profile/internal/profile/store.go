package profile

import (
	"context"
	"time"
)

// Store persists customers and the event log. One SQL implementation exists
// (internal/store) for SQLite and PostgreSQL; its conformance suite runs on
// both.
//
// Errors: ErrCustomerNotFound when a named customer does not exist,
// ErrCustomerAlreadyExists from CreateCustomer, and whatever a callback
// returns, unchanged (the transaction is rolled back).
type Store interface {
	// CreateCustomer inserts c (Revision set to 1 by the store). If a customer
	// with c.ID exists in StateProvisional, its profile fields (everything
	// but Features, CreateTime and Revision) are replaced by c's, it becomes
	// StateActive and its Revision is incremented; the provisional features
	// are kept. Any other existing customer → ErrCustomerAlreadyExists.
	// Returns the stored customer. If event is not nil, see CustomerEventFunc;
	// before is the provisional customer, or the zero Customer.
	CreateCustomer(ctx context.Context, c Customer, event CustomerEventFunc) (Customer, error)

	// GetCustomer returns one customer with its features.
	GetCustomer(ctx context.Context, id string) (Customer, error)

	// CustomerFeatures returns the features of the customers among ids that
	// exist, by id, in one query (ids holds at most MaxEventPageSize ids).
	CustomerFeatures(ctx context.Context, ids []string) (map[string]Features, error)

	// ListCustomers returns up to f.Limit customers matching f, ordered by
	// ID ascending.
	ListCustomers(ctx context.Context, f CustomerFilter) ([]Customer, error)

	// UpdateCustomer loads customer id inside a transaction, calls fn with it
	// and, if fn returns nil, writes back the profile fields fn may change
	// (FullName, Email, Phone, Birthday, TimeZone, Country, RegistrationTime,
	// RegistrationChannel, Consent, Tags, State, UpdateTime), incrementing
	// Revision. fn does the etag check and validation; its error is returned
	// unchanged and nothing is written. Returns the stored customer. If
	// event is not nil, see CustomerEventFunc.
	UpdateCustomer(ctx context.Context, id string, fn func(c *Customer) error, event CustomerEventFunc) (Customer, error)

	// DeleteCustomer loads customer id inside a transaction, calls check with
	// it and, if check returns nil, deletes it. A customer with events in the
	// log other than system events (SystemKinds) is never deleted:
	// ErrCustomerHasEvents. If event is not nil, see CustomerEventFunc; after
	// is the zero Customer. The API responses stored about the customer for
	// request_id retries are forgotten in the same transaction.
	DeleteCustomer(ctx context.Context, id string, check func(c Customer) error, event CustomerEventFunc) error

	// AppendEvents appends validated events to the log in one transaction.
	// The batch holds no duplicate event ids (the domain removes them), and
	// every event has RecordTime set. For each event, in order:
	//   - an event id already in the log → AppendResult{Duplicate: true},
	//     nothing changes;
	//   - otherwise the event gets the next log sequence, and its customer's
	//     Features are loaded (a missing customer is created in
	//     StateProvisional with CreateTime = UpdateTime = RecordTime),
	//     fold(&features, event) is called, and the features are saved with
	//     Revision incremented and UpdateTime = RecordTime.
	// Results are in input order. Sequences are strictly increasing and must
	// become visible in order: a reader of ListEvents that has seen sequence
	// n never later sees a new event with a sequence below n (serialise
	// appends, or let ListEvents stop below sequences still in flight).
	AppendEvents(ctx context.Context, events []Event, fold FoldFunc) ([]AppendResult, error)

	// ListEvents returns up to limit events of the whole log with
	// Sequence > afterSequence, in sequence order.
	ListEvents(ctx context.Context, afterSequence int64, limit int) ([]Event, error)

	// HeadSequence returns the highest sequence in the log, 0 when empty.
	HeadSequence(ctx context.Context) (int64, error)

	// ListCustomerEvents returns up to limit events of one customer with
	// Sequence > afterSequence, in sequence order. It does not check that the
	// customer exists.
	ListCustomerEvents(ctx context.Context, customerID string, afterSequence int64, limit int) ([]Event, error)

	// EraseCustomer erases customer id in one transaction: ErrCustomerNotFound
	// if it does not exist, ErrCustomerErased if it is already StateErased.
	// Otherwise, with anon := erased.Payload.(CustomerErased).AnonymousID:
	//   - every event of id is re-keyed to CustomerID anon (sequences and
	//     event ids kept), and the tags of its customer_updated events are
	//     removed;
	//   - a customer anon is written in StateErased with no personal fields
	//     and no tags, the original Features, CreateTime, and UpdateTime =
	//     erased.RecordTime;
	//   - customer id is deleted;
	//   - erased (CustomerID = id, not folded into any features) is appended
	//     to the log with the next sequence;
	//   - the API responses stored about id for request_id retries are
	//     forgotten.
	// Returns the number of events re-keyed.
	EraseCustomer(ctx context.Context, id string, erased Event) (int64, error)
}

// CustomerEventFunc returns the system event that records a write of a
// customer, given the customer before and after it (after as it will be
// stored, with its new Revision), or false when there is nothing to record.
// The store calls it inside the transaction of the write and appends the
// event to the log there, with the next sequence, under the same ordering
// guarantee as AppendEvents; the event is not folded into any features. The
// returned event has every field but Sequence set.
type CustomerEventFunc func(before, after Customer) (Event, bool)

// FoldFunc folds one accepted event into its customer's features. The store
// calls it inside its transaction; the domain passes (*Features).Apply.
type FoldFunc func(f *Features, e Event)

// AppendResult is the store's outcome for one appended event.
type AppendResult struct {
	// Sequence of the accepted event; 0 for a duplicate.
	Sequence int64
	// Duplicate is true when the event id was already in the log.
	Duplicate bool
}

// Clock returns the current time; injected so tests control "now".
type Clock func() time.Time
