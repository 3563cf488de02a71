package profile

import "time"

// EventKind names the payload type of an event. The string is stable and is
// what storage records.
type EventKind string

// Event kinds, one per payload type.
const (
	KindOrderPlaced      EventKind = "order_placed"
	KindOrderRefunded    EventKind = "order_refunded"
	KindProductViewed    EventKind = "product_viewed"
	KindCartUpdated      EventKind = "cart_updated"
	KindReviewPosted     EventKind = "review_posted"
	KindContentShared    EventKind = "content_shared"
	KindCheckedIn        EventKind = "checked_in"
	KindServiceContacted EventKind = "service_contacted"
	KindMessageEngaged   EventKind = "message_engaged"
	KindOrderDelivered   EventKind = "order_delivered"
	KindCustomerErased   EventKind = "customer_erased"
	KindCustomerUpdated  EventKind = "customer_updated"
	KindCustomerDeleted  EventKind = "customer_deleted"
)

// SystemKinds are the kinds the profile service writes itself to tell
// consumers of the log about customer records. Callers cannot record them,
// and they are not folded into features.
var SystemKinds = []EventKind{KindCustomerErased, KindCustomerUpdated, KindCustomerDeleted}

// IsSystem reports whether k is one of SystemKinds.
func (k EventKind) IsSystem() bool {
	return k == KindCustomerErased || k == KindCustomerUpdated || k == KindCustomerDeleted
}

// Event is one thing a customer did.
type Event struct {
	ID         string
	CustomerID string
	OccurredAt time.Time
	// Sequence is the position in the log; set by the store.
	Sequence int64
	// RecordTime is when Tenure recorded the event; set by the domain
	// before appending.
	RecordTime time.Time
	// Payload is exactly one of the payload types below.
	Payload Payload
}

// Kind returns the kind of e's payload, or "" when it has none.
func (e Event) Kind() EventKind {
	if e.Payload == nil {
		return ""
	}
	return e.Payload.Kind()
}

// Payload is implemented by the payload types of Event.
type Payload interface {
	Kind() EventKind
}

// OrderLine is one line of an order, refund or cart.
type OrderLine struct {
	SKU       string
	Category  string
	Quantity  int64
	UnitPrice Money
	Discount  Money
}

// OrderPlaced is an order the customer placed.
type OrderPlaced struct {
	OrderID string
	Lines   []OrderLine
	// Total is what the customer paid; zero value means absent (then it is
	// derived from the lines, see OrderTotal).
	Total         Money
	OrderDiscount Money
	Channel       string
}

// OrderRefunded is money returned to the customer.
type OrderRefunded struct {
	OrderID string
	Amount  Money
	Lines   []OrderLine
}

// ProductViewed is a product page view.
type ProductViewed struct {
	SKU      string
	Category string
	Channel  string
}

// CartUpdated is a change of the customer's cart.
type CartUpdated struct {
	Lines   []OrderLine
	Value   Money
	Channel string
}

// ReviewPosted is a product review; the text is not stored.
type ReviewPosted struct {
	SKU      string
	Rating   int32
	Length   int32
	HasPhoto bool
}

// ContentShared is content shared on a social network.
type ContentShared struct {
	ContentID string
	Network   string
}

// CheckedIn is a check-in at a store or location.
type CheckedIn struct {
	LocationID string
}

// ServiceContacted is a contact with customer service.
type ServiceContacted struct {
	Channel string
	Topic   string
}

// MessageEngaged is an interaction with an outreach message.
type MessageEngaged struct {
	MessageID string
	Channel   string
	Action    string
}

// OrderDelivered is an order that reached the customer. It changes no
// feature; feedback sends delivery surveys on it.
type OrderDelivered struct {
	OrderID string
	Carrier string
}

// CustomerErased marks that a customer was erased; its events now carry
// AnonymousID. Only EraseCustomer writes it.
type CustomerErased struct {
	AnonymousID string
}

// CustomerUpdated marks that a customer was created or its profile
// changed, with the attributes other services segment on. Only the Service
// writes it, in the transaction that changes the customer.
type CustomerUpdated struct {
	// Tags after the change, sorted.
	Tags []string
	// Birthday (YYYY-MM-DD) and IANA time zone after the change; empty
	// when unknown.
	Birthday string
	TimeZone string
}

// CustomerDeleted marks that a customer without activity was deleted.
// Only DeleteCustomer writes it.
type CustomerDeleted struct{}

// Kind implements Payload.
func (OrderPlaced) Kind() EventKind { return KindOrderPlaced }

// Kind implements Payload.
func (OrderRefunded) Kind() EventKind { return KindOrderRefunded }

// Kind implements Payload.
func (ProductViewed) Kind() EventKind { return KindProductViewed }

// Kind implements Payload.
func (CartUpdated) Kind() EventKind { return KindCartUpdated }

// Kind implements Payload.
func (ReviewPosted) Kind() EventKind { return KindReviewPosted }

// Kind implements Payload.
func (ContentShared) Kind() EventKind { return KindContentShared }

// Kind implements Payload.
func (CheckedIn) Kind() EventKind { return KindCheckedIn }

// Kind implements Payload.
func (ServiceContacted) Kind() EventKind { return KindServiceContacted }

// Kind implements Payload.
func (MessageEngaged) Kind() EventKind { return KindMessageEngaged }

// Kind implements Payload.
func (OrderDelivered) Kind() EventKind { return KindOrderDelivered }

// Kind implements Payload.
func (CustomerErased) Kind() EventKind { return KindCustomerErased }

// Kind implements Payload.
func (CustomerUpdated) Kind() EventKind { return KindCustomerUpdated }

// Kind implements Payload.
func (CustomerDeleted) Kind() EventKind { return KindCustomerDeleted }
