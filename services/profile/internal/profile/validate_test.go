package profile

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/fielderr"
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
		{"time zone too long", Customer{TimeZone: strings.Repeat("Europe/", 10)}, "time_zone"},
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

// TestValidateEvent checks which field each bad event is rejected on. It
// is longer than a function should be because it is one table, a case a
// line, read down rather than through; the loop at its end is short.
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
		{"overflow", ev(order(line("a", MaxQuantity, 1<<40))), "order_placed.lines[0].unit_price.amount_minor"},
		{"quantity × price overflows int64", ev(order(line("a", MaxQuantity, MaxAmountMinor))), "order_placed.lines[0].unit_price.amount_minor"},
		{"quantity far above limit", ev(order(line("a", 1<<40, 1<<40))), "order_placed.lines[0].quantity"},
		{"quantity at limit", ev(order(line("a", MaxQuantity, 1))), ""},
		{"quantity above limit", ev(order(line("a", MaxQuantity+1, 1))), "order_placed.lines[0].quantity"},
		{"quantity × price at limit", ev(order(line("a", MaxQuantity, MaxAmountMinor/MaxQuantity))), ""},
		{"unit price at limit", ev(order(line("a", 1, MaxAmountMinor))), ""},
		{"unit price above limit", ev(order(line("a", 1, MaxAmountMinor+1))), "order_placed.lines[0].unit_price.amount_minor"},
		{"largest int64 total", ev(OrderPlaced{Total: gbp(math.MaxInt64)}), "order_placed.total.amount_minor"},
		{"total at limit", ev(OrderPlaced{Total: gbp(MaxAmountMinor)}), ""},
		{"line discount above limit", ev(order(OrderLine{Quantity: 2, UnitPrice: gbp(MaxAmountMinor), Discount: gbp(MaxAmountMinor + 1)})), "order_placed.lines[0].discount.amount_minor"},
		{"order discount above limit", ev(OrderPlaced{Total: gbp(1), OrderDiscount: gbp(MaxAmountMinor + 1)}), "order_placed.order_discount.amount_minor"},
		{"lines add up above limit", ev(order(line("a", 1, MaxAmountMinor), line("b", 1, 1))), "order_placed.lines"},
		{"lines above limit, order discount within", ev(OrderPlaced{Lines: []OrderLine{line("a", 1, MaxAmountMinor), line("b", 1, 1)}, OrderDiscount: gbp(1)}), ""},
		{"lines above limit, total given", ev(OrderPlaced{Lines: []OrderLine{line("a", 1, MaxAmountMinor), line("b", 1, MaxAmountMinor)}, Total: gbp(5)}), ""},
		{"refund at limit", ev(OrderRefunded{Amount: gbp(MaxAmountMinor)}), ""},
		{"refund above limit", ev(OrderRefunded{Amount: gbp(MaxAmountMinor + 1)}), "order_refunded.amount.amount_minor"},
		{"refund line quantity above limit", ev(OrderRefunded{Amount: gbp(1), Lines: []OrderLine{line("a", MaxQuantity+1, 1)}}), "order_refunded.lines[0].quantity"},
		{"cart value above limit", ev(CartUpdated{Value: gbp(MaxAmountMinor + 1)}), "cart_updated.value.amount_minor"},
		{"cart quantity above limit", ev(CartUpdated{Lines: []OrderLine{line("a", MaxQuantity+1, 1)}}), "cart_updated.lines[0].quantity"},
		{"event id with NUL", Event{ID: "e\x00", CustomerID: "c1", OccurredAt: testNow, Payload: CheckedIn{}}, "event_id"},
		{"event id with zero-width space", Event{ID: "e\u200b1", CustomerID: "c1", OccurredAt: testNow, Payload: CheckedIn{}}, "event_id"},
		{"event id with invalid UTF-8", Event{ID: "e\xff", CustomerID: "c1", OccurredAt: testNow, Payload: CheckedIn{}}, "event_id"},
		{"event id with space and symbols", Event{ID: "shop #1/ordre n°7", CustomerID: "c1", OccurredAt: testNow, Payload: CheckedIn{}}, ""},
		{"occurred in year 1", Event{ID: "e", CustomerID: "c1", OccurredAt: time.Date(1, 6, 1, 0, 0, 0, 0, time.UTC), Payload: CheckedIn{}}, "occurred_at"},
		{"occurred before 1970", Event{ID: "e", CustomerID: "c1", OccurredAt: time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC), Payload: CheckedIn{}}, "occurred_at"},
		{"occurred at 1970", Event{ID: "e", CustomerID: "c1", OccurredAt: time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), Payload: CheckedIn{}}, ""},
		{"order id with NUL", ev(OrderPlaced{OrderID: "o\x00", Total: gbp(1)}), "order_placed.order_id"},
		{"order id too long", ev(OrderPlaced{OrderID: strings.Repeat("o", MaxTextLen+1), Total: gbp(1)}), "order_placed.order_id"},
		{"order channel with NUL", ev(OrderPlaced{Channel: "w\x00", Total: gbp(1)}), "order_placed.channel"},
		{"line sku with newline", ev(order(OrderLine{SKU: "a\nb", Quantity: 1, UnitPrice: gbp(1)})), "order_placed.lines[0].sku"},
		{"line category too long", ev(order(OrderLine{Category: strings.Repeat("c", MaxTextLen+1), Quantity: 1, UnitPrice: gbp(1)})), "order_placed.lines[0].category"},
		{"refund order id with control", ev(OrderRefunded{OrderID: "o\x1b", Amount: gbp(1)}), "order_refunded.order_id"},
		{"viewed sku with bidi control", ev(ProductViewed{SKU: "s\u2066"}), "product_viewed.sku"},
		{"viewed category with NUL", ev(ProductViewed{Category: "\x00"}), "product_viewed.category"},
		{"viewed channel too long", ev(ProductViewed{Channel: strings.Repeat("c", MaxTextLen+1)}), "product_viewed.channel"},
		{"cart channel with NUL", ev(CartUpdated{Channel: "\x00"}), "cart_updated.channel"},
		{"review sku with NUL", ev(ReviewPosted{SKU: "\x00", Rating: 3}), "review_posted.sku"},
		{"content id with NUL", ev(ContentShared{ContentID: "\x00"}), "content_shared.content_id"},
		{"network too long", ev(ContentShared{Network: strings.Repeat("n", MaxTextLen+1)}), "content_shared.network"},
		{"location id with tab", ev(CheckedIn{LocationID: "a\tb"}), "checked_in.location_id"},
		{"service channel with NUL", ev(ServiceContacted{Channel: "\x00"}), "service_contacted.channel"},
		{"service topic too long", ev(ServiceContacted{Topic: strings.Repeat("t", MaxTextLen+1)}), "service_contacted.topic"},
		{"message id with NUL", ev(MessageEngaged{MessageID: "\x00"}), "message_engaged.message_id"},
		{"message channel with NUL", ev(MessageEngaged{Channel: "\x00"}), "message_engaged.channel"},
		{"message action too long", ev(MessageEngaged{Action: strings.Repeat("a", MaxTextLen+1)}), "message_engaged.action"},
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
		{"delivered ok", ev(OrderDelivered{OrderID: "o-1", Carrier: "dhl"}), ""},
		{"delivered without order", ev(OrderDelivered{Carrier: "dhl"}), "order_delivered.order_id"},
		{"delivered order id with NUL", ev(OrderDelivered{OrderID: "o\x00"}), "order_delivered.order_id"},
		{"carrier too long", ev(OrderDelivered{OrderID: "o", Carrier: strings.Repeat("c", MaxTextLen+1)}), "order_delivered.carrier"},
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
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, fielderr.ErrInvalidArgument) {
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

// A huge bad value is quoted by a short prefix at most once in the message
// and once in the field violation's description, never whole, and never in
// the ErrorInfo metadata.
func TestValidationMessagesDoNotEchoHugeValues(t *testing.T) {
	v := NewValidator()
	huge := strings.Repeat("x", 100_000)
	prefix := strings.Repeat("x", fielderr.MaxQuote)
	events := map[string]Event{
		"event id":      {ID: huge, CustomerID: "c1", OccurredAt: testNow, Payload: CheckedIn{}},
		"currency":      {ID: "e1", CustomerID: "c1", OccurredAt: testNow, Payload: OrderPlaced{Total: Money{Currency: huge, Minor: 1}}},
		"order id":      {ID: "e1", CustomerID: "c1", OccurredAt: testNow, Payload: OrderPlaced{OrderID: huge, Total: gbp(1)}},
		"customer id":   {ID: "e1", CustomerID: huge, OccurredAt: testNow, Payload: CheckedIn{}},
		"sku with NUL":  {ID: "e1", CustomerID: "c1", OccurredAt: testNow, Payload: ProductViewed{SKU: huge[:100] + "\x00"}},
		"location id":   {ID: "e1", CustomerID: "c1", OccurredAt: testNow, Payload: CheckedIn{LocationID: huge}},
		"payload label": {ID: "e1", CustomerID: "c1", OccurredAt: testNow, Payload: ServiceContacted{Topic: huge}},
	}
	for name, e := range events {
		t.Run(name, func(t *testing.T) {
			verr := v.Event(e, testNow)
			if verr == nil {
				t.Fatal("got nil, want an error")
			}
			msg := verr.Error()
			if len(msg) > 300 || strings.Count(msg, prefix) > 1 {
				t.Fatalf("message of %d bytes quotes the value %d times: %.400s", len(msg), strings.Count(msg, prefix), msg)
			}
			if d := verr.Description(); len(d) > 200 || strings.Count(d, prefix) > 1 {
				t.Fatalf("description of %d bytes quotes the value %d times: %.400s", len(d), strings.Count(d, prefix), d)
			}
			if id, ok := verr.ErrorMetadata()["event_id"]; ok && len(id) > MaxEventIDLen {
				t.Fatalf("metadata event_id has %d bytes", len(id))
			}
		})
	}
	if err := v.Customer(Customer{TimeZone: huge}, testNow); err == nil || len(err.Error()) > 300 {
		t.Fatalf("time zone: got %.400v, want a short error", err)
	}
	if err := v.Customer(Customer{TimeZone: "Mars/" + strings.Repeat("y", 50)}, testNow); err == nil || strings.Count(err.Error(), "y") > fielderr.MaxQuote {
		t.Fatalf("unknown time zone: got %v, want the name cut short", err)
	}
	if _, err := ParseUpdateMask([]string{huge}); err == nil || len(err.Error()) > 300 {
		t.Fatalf("update mask: got %.400v, want a short error", err)
	}
}

func TestValidationErrorMetadata(t *testing.T) {
	v := NewValidator()
	verr := v.Event(Event{ID: "e-1", CustomerID: "c1", Payload: CheckedIn{}}, testNow)
	if got := verr.ErrorMetadata()["event_id"]; got != "e-1" {
		t.Fatalf("valid id: metadata event_id = %q, want e-1", got)
	}
	if got := verr.Description(); got != verr.Message || strings.Contains(got, "e-1") {
		t.Fatalf("description = %q, want the message alone", got)
	}
	verr = v.Event(Event{ID: "e\x00", CustomerID: "c1", OccurredAt: testNow, Payload: CheckedIn{}}, testNow)
	if _, ok := verr.ErrorMetadata()["event_id"]; ok {
		t.Fatalf("invalid id: metadata = %v, want no event_id", verr.ErrorMetadata())
	}
	if !strings.Contains(verr.Message, "U+0000") {
		t.Fatalf("message = %q, want the character named", verr.Message)
	}
}

// An unset occurred_at is "required"; a set one out of range says the range.
func TestOccurredAtMessages(t *testing.T) {
	v := NewValidator()
	ev := func(at time.Time) Event {
		return Event{ID: "e1", CustomerID: "c1", OccurredAt: at, Payload: CheckedIn{}}
	}
	tests := []struct {
		name      string
		verr      *ValidationError
		want, not string
	}{
		{"unset", v.Event(ev(time.Time{}), testNow), "required", ""},
		{"year 1", v.Event(ev(time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC)), testNow), "from 1970-01-01T00:00:00Z", "required"},
		{"1969", v.Event(ev(time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC)), testNow), "got 1969-07-20T20:17:00Z", "required"},
		{"future", v.Event(ev(testNow.Add(48*time.Hour)), testNow), "in the future", "required"},
		{"set but unrepresentable", OccurredAtOutOfRange("e1"), "from 1970-01-01T00:00:00Z", "required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.verr == nil || tt.verr.Field() != "occurred_at" || !errors.Is(tt.verr, ErrInvalidEvent) {
				t.Fatalf("got %v, want an invalid event error on occurred_at", tt.verr)
			}
			if !strings.Contains(tt.verr.Message, tt.want) || (tt.not != "" && strings.Contains(tt.verr.Message, tt.not)) {
				t.Fatalf("message = %q, want it to contain %q and not %q", tt.verr.Message, tt.want, tt.not)
			}
		})
	}
}
