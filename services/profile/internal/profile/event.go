package profile

import (
	"encoding/json"
	"fmt"
	"time"
)

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
	SKU       string `json:"sku,omitempty"`
	Category  string `json:"category,omitempty"`
	Quantity  int64  `json:"quantity,omitempty"`
	UnitPrice Money  `json:"unit_price,omitzero"`
	Discount  Money  `json:"discount,omitzero"`
}

// OrderPlaced is an order the customer placed.
type OrderPlaced struct {
	OrderID string      `json:"order_id,omitempty"`
	Lines   []OrderLine `json:"lines,omitempty"`
	// Total is what the customer paid; zero value means absent (then it is
	// derived from the lines, see OrderTotal).
	Total         Money  `json:"total,omitzero"`
	OrderDiscount Money  `json:"order_discount,omitzero"`
	Channel       string `json:"channel,omitempty"`
}

// OrderRefunded is money returned to the customer.
type OrderRefunded struct {
	OrderID string      `json:"order_id,omitempty"`
	Amount  Money       `json:"amount,omitzero"`
	Lines   []OrderLine `json:"lines,omitempty"`
}

// ProductViewed is a product page view.
type ProductViewed struct {
	SKU      string `json:"sku,omitempty"`
	Category string `json:"category,omitempty"`
	Channel  string `json:"channel,omitempty"`
}

// CartUpdated is a change of the customer's cart.
type CartUpdated struct {
	Lines   []OrderLine `json:"lines,omitempty"`
	Value   Money       `json:"value,omitzero"`
	Channel string      `json:"channel,omitempty"`
}

// ReviewPosted is a product review; the text is not stored.
type ReviewPosted struct {
	SKU      string `json:"sku,omitempty"`
	Rating   int32  `json:"rating,omitempty"`
	Length   int32  `json:"length,omitempty"`
	HasPhoto bool   `json:"has_photo,omitempty"`
}

// ContentShared is content shared on a social network.
type ContentShared struct {
	ContentID string `json:"content_id,omitempty"`
	Network   string `json:"network,omitempty"`
}

// CheckedIn is a check-in at a store or location.
type CheckedIn struct {
	LocationID string `json:"location_id,omitempty"`
}

// ServiceContacted is a contact with customer service.
type ServiceContacted struct {
	Channel string `json:"channel,omitempty"`
	Topic   string `json:"topic,omitempty"`
}

// MessageEngaged is an interaction with an outreach message.
type MessageEngaged struct {
	MessageID string `json:"message_id,omitempty"`
	Channel   string `json:"channel,omitempty"`
	Action    string `json:"action,omitempty"`
}

// CustomerErased marks that a customer was erased; its events now carry
// AnonymousID. Only EraseCustomer writes it.
type CustomerErased struct {
	AnonymousID string `json:"anonymous_id,omitempty"`
}

// CustomerUpdated marks that a customer was created or its profile
// changed, with the attributes other services segment on. Only the Service
// writes it, in the transaction that changes the customer.
type CustomerUpdated struct {
	// Tags after the change, sorted.
	Tags []string `json:"tags,omitempty"`
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
func (CustomerErased) Kind() EventKind { return KindCustomerErased }

// Kind implements Payload.
func (CustomerUpdated) Kind() EventKind { return KindCustomerUpdated }

// Kind implements Payload.
func (CustomerDeleted) Kind() EventKind { return KindCustomerDeleted }

// EncodePayload returns the kind and a JSON encoding of p, the form storage
// keeps. DecodePayload reverses it.
func EncodePayload(p Payload) (EventKind, []byte, error) {
	if p == nil {
		return "", nil, fmt.Errorf("profile: encode payload: no payload")
	}
	b, err := json.Marshal(p)
	if err != nil {
		return "", nil, fmt.Errorf("profile: encode %s payload: %w", p.Kind(), err)
	}
	return p.Kind(), b, nil
}

// DecodePayload decodes a payload written by EncodePayload.
func DecodePayload(kind EventKind, data []byte) (Payload, error) {
	var p Payload
	var err error
	switch kind {
	case KindOrderPlaced:
		p, err = decodeAs[OrderPlaced](data)
	case KindOrderRefunded:
		p, err = decodeAs[OrderRefunded](data)
	case KindProductViewed:
		p, err = decodeAs[ProductViewed](data)
	case KindCartUpdated:
		p, err = decodeAs[CartUpdated](data)
	case KindReviewPosted:
		p, err = decodeAs[ReviewPosted](data)
	case KindContentShared:
		p, err = decodeAs[ContentShared](data)
	case KindCheckedIn:
		p, err = decodeAs[CheckedIn](data)
	case KindServiceContacted:
		p, err = decodeAs[ServiceContacted](data)
	case KindMessageEngaged:
		p, err = decodeAs[MessageEngaged](data)
	case KindCustomerErased:
		p, err = decodeAs[CustomerErased](data)
	case KindCustomerUpdated:
		p, err = decodeAs[CustomerUpdated](data)
	case KindCustomerDeleted:
		p, err = decodeAs[CustomerDeleted](data)
	default:
		return nil, fmt.Errorf("profile: decode payload: unknown kind %q", kind)
	}
	if err != nil {
		return nil, fmt.Errorf("profile: decode %s payload: %w", kind, err)
	}
	return p, nil
}

func decodeAs[T Payload](data []byte) (Payload, error) {
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	return v, nil
}
