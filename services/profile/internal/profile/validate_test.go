package profile

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func TestCheckCustomerID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"c1", true},
		{"A-b_c.d:e@f", true},
		{strings.Repeat("x", 128), true},
		{"", false},
		{strings.Repeat("x", 129), false},
		{"has space", false},
		{"slash/no", false},
		{"ünï", false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			err := CheckCustomerID(tt.id)
			if (err == nil) != tt.ok {
				t.Fatalf("CheckCustomerID(%q) = %v, want ok %v", tt.id, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidCustomer) {
				t.Fatalf("error %v does not wrap ErrInvalidCustomer", err)
			}
		})
	}
}

func TestValidateCustomer(t *testing.T) {
	v := NewValidator()
	tests := []struct {
		name  string
		c     Customer
		field string // "" means valid
	}{
		{"empty ok", Customer{}, ""},
		{"full ok", Customer{FullName: "Ada Lovelace", Email: "ada@example.com", Phone: "+447700900123",
			Birthday: "1990-12-10", TimeZone: "Europe/London", Country: "GB", Tags: []string{"vip", "news:letter"}}, ""},
		{"bad email", Customer{Email: "not-an-email"}, "email"},
		{"email with name", Customer{Email: "Ada <ada@example.com>"}, "email"},
		{"email without domain dot", Customer{Email: "ada@localhost"}, "email"},
		{"phone without plus", Customer{Phone: "447700900123"}, "phone"},
		{"phone leading zero", Customer{Phone: "+047700900123"}, "phone"},
		{"phone too long", Customer{Phone: "+1234567890123456"}, "phone"},
		{"birthday format", Customer{Birthday: "10/12/1990"}, "birthday"},
		{"birthday invalid date", Customer{Birthday: "1990-02-30"}, "birthday"},
		{"birthday future", Customer{Birthday: "2026-03-11"}, "birthday"},
		{"birthday today", Customer{Birthday: "2026-03-10"}, ""},
		{"time zone unknown", Customer{TimeZone: "Mars/Olympus"}, "time_zone"},
		{"time zone Local", Customer{TimeZone: "Local"}, "time_zone"},
		{"time zone UTC", Customer{TimeZone: "UTC"}, ""},
		{"country lower case", Customer{Country: "gb"}, "country"},
		{"country unknown", Customer{Country: "UK"}, "country"},
		{"registration in future", Customer{RegistrationTime: testNow.Add(48 * time.Hour)}, "registration_time"},
		{"empty tag", Customer{Tags: []string{"ok", ""}}, "tags[1]"},
		{"tag with space", Customer{Tags: []string{"a b"}}, "tags[0]"},
		{"consent out of range", Customer{Consent: Consent{SMS: 7}}, "consent.sms"},
		{"name with control char", Customer{FullName: "a\x00b"}, "full_name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := v.Customer(tt.c, testNow)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want *ValidationError", err)
			}
			if ve.Field() != tt.field {
				t.Fatalf("field = %q, want %q (%v)", ve.Field(), tt.field, err)
			}
			if !errors.Is(err, ErrInvalidCustomer) {
				t.Fatalf("error %v does not wrap ErrInvalidCustomer", err)
			}
		})
	}
}

func gbp(minor int64) Money { return Money{Currency: "GBP", Minor: minor} }

func order(lines ...OrderLine) OrderPlaced {
	return OrderPlaced{OrderID: "o1", Lines: lines, Channel: "web"}
}

func line(cat string, qty, price int64) OrderLine {
	return OrderLine{SKU: "sku-" + cat, Category: cat, Quantity: qty, UnitPrice: gbp(price)}
}

func TestValidateEvent(t *testing.T) {
	v := NewValidator()
	ev := func(p Payload) Event {
		return Event{ID: "e1", CustomerID: "c1", OccurredAt: testNow.Add(-time.Hour), Payload: p}
	}
	tests := []struct {
		name  string
		e     Event
		field string
	}{
		{"order ok", ev(order(line("books", 2, 500))), ""},
		{"order with total only", ev(OrderPlaced{Total: gbp(100)}), ""},
		{"missing event id", Event{CustomerID: "c1", OccurredAt: testNow, Payload: CheckedIn{}}, "event_id"},
		{"event id too long", Event{ID: strings.Repeat("e", 201), CustomerID: "c1", OccurredAt: testNow, Payload: CheckedIn{}}, "event_id"},
		{"bad customer id", Event{ID: "e", CustomerID: "a b", OccurredAt: testNow, Payload: CheckedIn{}}, "customer_id"},
		{"missing occurred_at", Event{ID: "e", CustomerID: "c1", Payload: CheckedIn{}}, "occurred_at"},
		{"occurred far in future", Event{ID: "e", CustomerID: "c1", OccurredAt: testNow.Add(25 * time.Hour), Payload: CheckedIn{}}, "occurred_at"},
		{"occurred slightly in future", Event{ID: "e", CustomerID: "c1", OccurredAt: testNow.Add(time.Hour), Payload: CheckedIn{}}, ""},
		{"no payload", Event{ID: "e", CustomerID: "c1", OccurredAt: testNow}, "payload"},
		{"customer_erased reserved", ev(CustomerErased{AnonymousID: "x"}), "customer_erased"},
		{"customer_updated reserved", ev(CustomerUpdated{Tags: []string{"vip"}}), "customer_updated"},
		{"customer_deleted reserved", ev(CustomerDeleted{}), "customer_deleted"},
		{"negative quantity", ev(order(line("a", -1, 100))), "order_placed.lines[0].quantity"},
		{"zero quantity", ev(order(line("a", 1, 100), line("b", 0, 100))), "order_placed.lines[1].quantity"},
		{"negative price", ev(order(OrderLine{Quantity: 1, UnitPrice: gbp(-5)})), "order_placed.lines[0].unit_price.amount_minor"},
		{"negative discount", ev(order(OrderLine{Quantity: 1, UnitPrice: gbp(5), Discount: gbp(-1)})), "order_placed.lines[0].discount.amount_minor"},
		{"discount above line", ev(order(OrderLine{Quantity: 1, UnitPrice: gbp(5), Discount: gbp(6)})), "order_placed.lines[0].discount.amount_minor"},
		{"unknown currency", ev(order(OrderLine{Quantity: 1, UnitPrice: Money{Currency: "XXX", Minor: 1}})), "order_placed.lines[0].unit_price.currency_code"},
		{"amount without currency", ev(order(OrderLine{Quantity: 1, UnitPrice: Money{Minor: 1}})), "order_placed.lines[0].unit_price.currency_code"},
		{"two currencies", ev(OrderPlaced{Lines: []OrderLine{line("a", 1, 100)}, Total: Money{Currency: "EUR", Minor: 100}}), "order_placed.total.currency_code"},
		{"order without lines or total", ev(OrderPlaced{OrderID: "o"}), "order_placed.lines"},
		{"order without currency", ev(OrderPlaced{Lines: []OrderLine{{Quantity: 1}}}), "order_placed.total.currency_code"},
		{"order discount above lines", ev(OrderPlaced{Lines: []OrderLine{line("a", 1, 100)}, OrderDiscount: gbp(101)}), "order_placed.order_discount"},
		{"overflow", ev(order(line("a", 1<<40, 1<<40))), "order_placed.lines[0].unit_price.amount_minor"},
		{"refund ok", ev(OrderRefunded{Amount: gbp(100)}), ""},
		{"refund zero", ev(OrderRefunded{Amount: Money{Currency: "GBP"}}), "order_refunded.amount.amount_minor"},
		{"refund negative", ev(OrderRefunded{Amount: gbp(-3)}), "order_refunded.amount.amount_minor"},
		{"refund missing amount", ev(OrderRefunded{OrderID: "o"}), "order_refunded.amount"},
		{"refund line currency differs", ev(OrderRefunded{Amount: gbp(1), Lines: []OrderLine{{Quantity: 1, UnitPrice: Money{Currency: "EUR", Minor: 1}}}}), "order_refunded.lines[0].unit_price.currency_code"},
		{"rating zero", ev(ReviewPosted{Rating: 0}), "review_posted.rating"},
		{"rating six", ev(ReviewPosted{Rating: 6}), "review_posted.rating"},
		{"rating five", ev(ReviewPosted{Rating: 5}), ""},
		{"cart ok", ev(CartUpdated{Lines: []OrderLine{line("a", 1, 1)}, Value: gbp(1)}), ""},
		{"cart bad quantity", ev(CartUpdated{Lines: []OrderLine{line("a", 0, 1)}}), "cart_updated.lines[0].quantity"},
		{"viewed ok", ev(ProductViewed{SKU: "s"}), ""},
		{"shared ok", ev(ContentShared{ContentID: "c", Network: "instagram"}), ""},
		{"service ok", ev(ServiceContacted{Channel: "chat"}), ""},
		{"message ok", ev(MessageEngaged{MessageID: "m", Channel: "sms", Action: "opened"}), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			verr := v.Event(tt.e, testNow)
			if tt.field == "" {
				if verr != nil {
					t.Fatalf("got %v, want nil", verr)
				}
				return
			}
			if verr == nil {
				t.Fatalf("got nil, want error on %s", tt.field)
			}
			if verr.Field() != tt.field {
				t.Fatalf("field = %q, want %q (%v)", verr.Field(), tt.field, verr)
			}
			if !errors.Is(verr, ErrInvalidEvent) {
				t.Fatalf("error %v does not wrap ErrInvalidEvent", verr)
			}
			if verr.EventID != tt.e.ID {
				t.Fatalf("event id = %q, want %q", verr.EventID, tt.e.ID)
			}
		})
	}
}

func TestParseUpdateMask(t *testing.T) {
	tests := []struct {
		paths   []string
		want    int
		wantErr string
	}{
		{[]string{"email"}, 1, ""},
		{[]string{"consent"}, 3, ""},
		{[]string{"consent.sms", "email", "email"}, 2, ""},
		{[]string{"*"}, len(updatableFields), ""},
		{[]string{"*", "email"}, 0, "only path"},
		{[]string{"nickname"}, 0, `unknown path "nickname"`},
		{[]string{"features.order_count"}, 0, "updatable"},
		{[]string{"etag", "name", "email"}, 1, ""},
		{[]string{"etag"}, 0, "updatable"},
		{[]string{"state"}, 0, "updatable"},
		// A whole customer read and PATCHed back: output-only paths are
		// ignored (AIP-203), the rest applied.
		{[]string{"name", "customer_id", "full_name", "email", "consent", "features", "features.net_spend",
			"state", "create_time", "update_time", "etag"}, 5, ""},
		{[]string{"create_time", "nickname"}, 0, `unknown path "nickname"`},
		{[]string{"consent.fax"}, 0, `unknown path "consent.fax"`},
		{nil, 0, "at least one"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.paths, ","), func(t *testing.T) {
			got, err := ParseUpdateMask(tt.paths)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalidArgument) {
					t.Fatalf("got %v, want error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(got) != tt.want {
				t.Fatalf("got %v, %v; want %d fields", got, err, tt.want)
			}
		})
	}
}
