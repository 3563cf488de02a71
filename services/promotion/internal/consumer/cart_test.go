package consumer_test

import (
	"testing"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/promotion/internal/consumer"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// TestToOrderCart: a cart update goes to the store, marked as a cart (for
// cart-abandonment journeys); a product view does not.
func TestToOrderCart(t *testing.T) {
	at := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name     string
		payload  func(*profilev1.Event)
		ok, cart bool
	}{
		{"cart", func(e *profilev1.Event) {
			e.Payload = &profilev1.Event_CartUpdated{CartUpdated: &profilev1.CartUpdated{}}
		}, true, true},
		{"order", func(e *profilev1.Event) {
			e.Payload = &profilev1.Event_OrderPlaced{OrderPlaced: &profilev1.OrderPlaced{OrderId: "o1"}}
		}, true, false},
		{"view", func(e *profilev1.Event) {
			e.Payload = &profilev1.Event_ProductViewed{ProductViewed: &profilev1.ProductViewed{}}
		}, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ev := &profilev1.Event{Sequence: 7, EventId: "e7", CustomerId: "ada", OccurredAt: timestamppb.New(at)}
			tt.payload(ev)
			o, ok := consumer.ToOrder(ev)
			if ok != tt.ok || o.Cart != tt.cart || (ok && (o.Sequence != 7 || o.EventID != "e7" || o.CustomerID != "ada" || !o.Time.Equal(at))) {
				t.Errorf("ToOrder: got %+v, %v; want ok %v, cart %v", o, ok, tt.ok, tt.cart)
			}
		})
	}
}
