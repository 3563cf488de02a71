package store

import (
	"reflect"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/profile/internal/profile"
)

// The stored JSON is what databases already hold: these strings were
// written by earlier releases and must keep decoding to the same values,
// and encoding must keep producing them byte for byte.
func TestFeaturesEncoding(t *testing.T) {
	at := time.Date(2025, 5, 1, 12, 30, 0, 5, time.UTC)
	tests := []struct {
		name   string
		f      profile.Features
		stored string
	}{
		{"empty", profile.Features{}, `{}`},
		{"full", profile.Features{
			FirstOrderTime: at, LastOrderTime: at.Add(time.Hour), OrderCount: 3, DiscountedOrderCount: 1, RefundCount: 2,
			LastActivityTime: at.Add(2 * time.Hour), EventCount: 9,
			Currencies: map[string]profile.CurrencyTotals{"GBP": {OrderCount: 2, GrossMinor: 500, NetMinor: 400}, "EUR": {OrderCount: 1, GrossMinor: 10}},
			Categories: map[string]profile.CategoryTotals{"shoes": {Quantity: 3, OrderCount: 2}},
			Channels:   map[string]int64{"web": 2, "app": 1},
		}, `{"first_order_time":"2025-05-01T12:30:00.000000005Z","last_order_time":"2025-05-01T13:30:00.000000005Z","order_count":3,"discounted_order_count":1,"refund_count":2,"last_activity_time":"2025-05-01T14:30:00.000000005Z","event_count":9,"currencies":{"EUR":{"order_count":1,"gross_minor":10},"GBP":{"order_count":2,"gross_minor":500,"net_minor":400}},"categories":{"shoes":{"quantity":3,"order_count":2}},"channels":{"app":1,"web":2}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := encodeFeatures(tt.f)
			if err != nil || got != tt.stored {
				t.Fatalf("encodeFeatures = %s, %v; want %s", got, err, tt.stored)
			}
			back, err := parseFeatures(tt.stored)
			if err != nil || !reflect.DeepEqual(back, tt.f) {
				t.Fatalf("parseFeatures = %+v, %v; want %+v", back, err, tt.f)
			}
		})
	}
}

func TestPayloadEncoding(t *testing.T) {
	gbp := func(minor int64) profile.Money { return profile.Money{Currency: "GBP", Minor: minor} }
	l := profile.OrderLine{SKU: "s", Category: "c", Quantity: 2, UnitPrice: gbp(100), Discount: gbp(10)}
	const storedLine = `{"sku":"s","category":"c","quantity":2,"unit_price":{"currency":"GBP","minor":100},"discount":{"currency":"GBP","minor":10}}`
	tests := []struct {
		p      profile.Payload
		stored string
	}{
		{profile.OrderPlaced{OrderID: "o", Lines: []profile.OrderLine{l, {Quantity: 1}}, Total: gbp(190), OrderDiscount: gbp(1), Channel: "web"},
			`{"order_id":"o","lines":[` + storedLine + `,{"quantity":1}],"total":{"currency":"GBP","minor":190},"order_discount":{"currency":"GBP","minor":1},"channel":"web"}`},
		{profile.OrderPlaced{}, `{}`},
		{profile.OrderRefunded{OrderID: "o", Amount: gbp(5), Lines: []profile.OrderLine{l}},
			`{"order_id":"o","amount":{"currency":"GBP","minor":5},"lines":[` + storedLine + `]}`},
		{profile.ProductViewed{SKU: "s", Category: "c", Channel: "app"}, `{"sku":"s","category":"c","channel":"app"}`},
		{profile.CartUpdated{Lines: []profile.OrderLine{l}, Value: gbp(3), Channel: "web"},
			`{"lines":[` + storedLine + `],"value":{"currency":"GBP","minor":3},"channel":"web"}`},
		{profile.ReviewPosted{SKU: "s", Rating: 5, Length: 10, HasPhoto: true}, `{"sku":"s","rating":5,"length":10,"has_photo":true}`},
		{profile.ContentShared{ContentID: "x", Network: "n"}, `{"content_id":"x","network":"n"}`},
		{profile.CheckedIn{LocationID: "l"}, `{"location_id":"l"}`},
		{profile.ServiceContacted{Channel: "c", Topic: "t"}, `{"channel":"c","topic":"t"}`},
		{profile.MessageEngaged{MessageID: "m", Channel: "email", Action: "opened"}, `{"message_id":"m","channel":"email","action":"opened"}`},
		{profile.OrderDelivered{OrderID: "o", Carrier: "dhl"}, `{"order_id":"o","carrier":"dhl"}`},
		{profile.CustomerErased{AnonymousID: "anon-1"}, `{"anonymous_id":"anon-1"}`},
		{profile.CustomerUpdated{Tags: []string{"a", "b"}}, `{"tags":["a","b"]}`},
		{profile.CustomerUpdated{Tags: []string{"a"}, Birthday: "1992-02-29", TimeZone: "Europe/London"},
			`{"tags":["a"],"birthday":"1992-02-29","time_zone":"Europe/London"}`},
		{profile.CustomerUpdated{}, `{}`},
		{profile.CustomerDeleted{}, `{}`},
	}
	for _, tt := range tests {
		t.Run(string(tt.p.Kind())+tt.stored, func(t *testing.T) {
			kind, got, err := encodePayload(tt.p)
			if err != nil || kind != string(tt.p.Kind()) || got != tt.stored {
				t.Fatalf("encodePayload = %s, %s, %v; want %s, %s", kind, got, err, tt.p.Kind(), tt.stored)
			}
			back, err := decodePayload(kind, tt.stored)
			if err != nil || !reflect.DeepEqual(back, tt.p) {
				t.Fatalf("decodePayload = %#v, %v; want %#v", back, err, tt.p)
			}
		})
	}
	if _, err := decodePayload("teleported", `{}`); err == nil {
		t.Error("decodePayload of an unknown kind: got nil error")
	}
	if _, _, err := encodePayload(nil); err == nil {
		t.Error("encodePayload(nil): got nil error")
	}
}
