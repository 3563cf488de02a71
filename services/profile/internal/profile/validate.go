package profile

import (
	"errors"
	"fmt"
	"math"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

// Limits enforced by validation. Lengths are in bytes of UTF-8.
const (
	MaxCustomerIDLen = 128
	MaxEventIDLen    = 200
	MaxTagLen        = 64
	MaxTags          = 100
	MaxTextLen       = 200 // names, ids and labels inside payloads
	MaxTimeZoneLen   = 64  // the longest IANA name is about 30
	MaxOrderLines    = 1000
	// MaxFutureSkew is how far in the future occurred_at may be, for clock
	// skew between the shop and Tenure.
	MaxFutureSkew = 24 * time.Hour

	// MaxAmountMinor bounds every amount one event carries, in minor units:
	// a unit price, a discount, a total, a refund, a cart value, and also a
	// line's quantity × unit price and the total an order's lines add up
	// to. 10^15 minor units is ten trillion in a two-decimal currency, far
	// above any real order even in currencies with tiny units, and below
	// 2^53, so the amount survives clients that read JSON numbers as
	// float64. Accumulated totals are bounded separately (MaxTotal).
	MaxAmountMinor int64 = 1_000_000_000_000_000
	// MaxQuantity bounds one line's quantity: a million units, ten times
	// the largest wholesale line in real retail data.
	MaxQuantity int64 = 1_000_000
)

// ValidationError says which field of a customer or event is wrong and why.
// It wraps ErrInvalidCustomer or ErrInvalidEvent and implements the
// apierr.FieldViolation interface.
type ValidationError struct {
	// Index is the event's position in a batch; -1 outside a batch.
	Index int
	// EventID is the event's id, when validating an event.
	EventID string
	// Path is the field path in snake_case, e.g. "order_placed.lines[0].quantity".
	Path string
	// Message says what to fix.
	Message string
	// Err is the sentinel: ErrInvalidEvent or ErrInvalidCustomer.
	Err error
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString(e.Err.Error())
	if e.Index >= 0 {
		fmt.Fprintf(&b, ": events[%d]", e.Index)
	}
	if e.EventID != "" {
		b.WriteString(" (event_id " + fielderr.Quote(e.EventID) + ")")
	}
	if e.Path != "" {
		b.WriteString(": " + e.Path)
	}
	b.WriteString(": " + e.Message)
	return b.String()
}

// Description is the explanation alone, for a google.rpc.BadRequest field
// violation, which names the field itself.
func (e *ValidationError) Description() string { return e.Message }

// ErrorMetadata names the event, for google.rpc.ErrorInfo metadata: its
// index in a batch and its event id, unless the id itself is invalid (then
// the index or the message's short prefix identifies it).
func (e *ValidationError) ErrorMetadata() map[string]string {
	md := map[string]string{}
	if e.Index >= 0 {
		md["index"] = strconv.Itoa(e.Index)
	}
	if e.EventID != "" && eventIDProblem(e.EventID) == "" {
		md["event_id"] = e.EventID
	}
	if len(md) == 0 {
		return nil
	}
	return md
}

// Unwrap returns the sentinel.
func (e *ValidationError) Unwrap() error { return e.Err }

// Field returns the offending field path.
func (e *ValidationError) Field() string { return e.Path }

// WithPrefix returns a copy of e whose Path is prefixed, e.g. "event".
func (e *ValidationError) WithPrefix(prefix string) *ValidationError {
	c := *e
	if c.Path == "" {
		c.Path = prefix
	} else {
		c.Path = prefix + "." + c.Path
	}
	return &c
}

// Validator checks customers and events against the domain rules.
type Validator struct {
	codes codes
}

// NewValidator returns a Validator.
func NewValidator() *Validator { return &Validator{codes: newCodes()} }

// IsCurrency reports whether code is an accepted ISO 4217 code.
func (v *Validator) IsCurrency(code string) bool { return v.codes.currencies[code] }

// IsCountry reports whether code is an ISO 3166-1 alpha-2 code.
func (v *Validator) IsCountry(code string) bool { return v.codes.countries[code] }

func customerErr(path, format string, args ...any) *ValidationError {
	return &ValidationError{Index: -1, Path: path, Message: fmt.Sprintf(format, args...), Err: ErrInvalidCustomer}
}

// CheckCustomerID checks a customer id: 1 to 128 characters of letters,
// digits and "-_.:@". The error's path is "customer_id".
func CheckCustomerID(id string) error {
	if msg := customerIDProblem(id); msg != "" {
		return customerErr("customer_id", "%s", msg)
	}
	return nil
}

func customerIDProblem(id string) string {
	if id == "" {
		return "required"
	}
	if len(id) > MaxCustomerIDLen {
		return fmt.Sprintf("must be at most %d characters", MaxCustomerIDLen)
	}
	for _, r := range id {
		if !isIDRune(r) {
			return fmt.Sprintf("character %q not allowed; use letters, digits and -_.:@", r)
		}
	}
	return ""
}

func isIDRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("-_.:@", r)
}

// Customer checks the profile fields of c (not its id, state or features).
// Empty fields are allowed. Paths are relative to the customer ("email").
func (v *Validator) Customer(c Customer, now time.Time) error {
	if err := textProblem(c.FullName, MaxTextLen); err != "" {
		return customerErr("full_name", "%s", err)
	}
	if c.Email != "" {
		if msg := emailProblem(c.Email); msg != "" {
			return customerErr("email", "%s", msg)
		}
	}
	if c.Phone != "" && !isE164(c.Phone) {
		return customerErr("phone", "must be in E.164 form, e.g. +447700900123")
	}
	if c.Birthday != "" {
		d, err := time.Parse(time.DateOnly, c.Birthday)
		switch {
		case err != nil:
			return customerErr("birthday", "must be a date YYYY-MM-DD")
		case d.Year() < 1900:
			return customerErr("birthday", "must be in or after 1900")
		case d.After(now.UTC()):
			return customerErr("birthday", "must not be in the future")
		}
	}
	if c.TimeZone != "" {
		if c.TimeZone == "Local" {
			return customerErr("time_zone", "must be an IANA time zone name")
		}
		if len(c.TimeZone) > MaxTimeZoneLen {
			return customerErr("time_zone", "must be at most %d characters", MaxTimeZoneLen)
		}
		if _, err := time.LoadLocation(c.TimeZone); err != nil {
			return customerErr("time_zone", "unknown IANA time zone %s", fielderr.Quote(c.TimeZone))
		}
	}
	if c.Country != "" && !v.IsCountry(c.Country) {
		return customerErr("country", "must be an ISO 3166-1 alpha-2 code in upper case, e.g. GB")
	}
	if !c.RegistrationTime.IsZero() && c.RegistrationTime.After(now.Add(MaxFutureSkew)) {
		return customerErr("registration_time", "must not be in the future")
	}
	if err := textProblem(c.RegistrationChannel, MaxTextLen); err != "" {
		return customerErr("registration_channel", "%s", err)
	}
	for _, s := range []struct {
		path string
		v    ConsentState
	}{{"consent.email", c.Consent.Email}, {"consent.sms", c.Consent.SMS}, {"consent.push", c.Consent.Push}} {
		if s.v < ConsentUnspecified || s.v > ConsentDenied {
			return customerErr(s.path, "unknown consent state %d", s.v)
		}
	}
	return CheckTags(c.Tags)
}

// CheckTags checks tags: each 1 to 64 characters of letters, digits and
// "-_.:/", at most MaxTags.
func CheckTags(tags []string) error {
	if len(tags) > MaxTags {
		return customerErr("tags", "at most %d tags", MaxTags)
	}
	for i, t := range tags {
		if msg := tagProblem(t); msg != "" {
			return customerErr(fmt.Sprintf("tags[%d]", i), "%s", msg)
		}
	}
	return nil
}

func tagProblem(t string) string {
	if t == "" {
		return "must not be empty"
	}
	if len(t) > MaxTagLen {
		return fmt.Sprintf("must be at most %d characters", MaxTagLen)
	}
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:/", r)) {
			return fmt.Sprintf("character %q not allowed; use letters, digits and -_.:/", r)
		}
	}
	return ""
}

func emailProblem(s string) string {
	if len(s) > 254 {
		return "must be at most 254 characters"
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "must be a plain email address, e.g. ada@example.com"
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || !strings.Contains(s[at+1:], ".") || strings.HasSuffix(s, ".") {
		return "must have a domain, e.g. ada@example.com"
	}
	return ""
}

func isE164(s string) bool {
	if len(s) < 3 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// textProblem checks a free text field (a name, or a label such as a
// category or channel): at most max bytes of valid UTF-8 without control
// characters.
func textProblem(s string, max int) string {
	if len(s) > max {
		return fmt.Sprintf("must be at most %d characters", max)
	}
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "must not contain control characters"
		}
	}
	return ""
}

// idProblem checks an identifier the caller assigns (an event, order, SKU,
// content, location or message id): at most max bytes of printable
// characters (letters, marks, digits, punctuation, symbols and the ASCII
// space). Control, format and other invisible characters are refused: they
// make different ids look the same. Empty passes; required ids check that
// first.
func idProblem(s string, max int) string {
	if len(s) > max {
		return fmt.Sprintf("must be at most %d characters", max)
	}
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return fmt.Sprintf("character %U not allowed; use printable characters", r)
		}
	}
	return ""
}

func eventIDProblem(id string) string {
	if id == "" {
		return "required"
	}
	return idProblem(id, MaxEventIDLen)
}

// occurredAtRange says which occurred_at times are accepted.
const occurredAtRange = "must be from 1970-01-01T00:00:00Z to at most 24h after the current time"

// OccurredAtOutOfRange is the error for an event whose occurred_at is set
// but is not an accepted time. The gRPC layer returns it for timestamps that
// are not valid at all, and for 0001-01-01T00:00:00Z, the one set value a
// time.Time cannot tell from unset.
func OccurredAtOutOfRange(eventID string) *ValidationError {
	return &ValidationError{Index: -1, EventID: eventID, Path: "occurred_at", Message: occurredAtRange, Err: ErrInvalidEvent}
}

// eventCheck accumulates the first problem found in one event.
type eventCheck struct {
	v        *Validator
	err      *ValidationError
	currency string // the event's one currency, once seen
	curPath  string
}

func (c *eventCheck) fail(path, format string, args ...any) {
	if c.err == nil {
		c.err = &ValidationError{Index: -1, Path: path, Message: fmt.Sprintf(format, args...), Err: ErrInvalidEvent}
	}
}

func (c *eventCheck) text(path, s string) {
	if msg := textProblem(s, MaxTextLen); msg != "" {
		c.fail(path, "%s", msg)
	}
}

func (c *eventCheck) id(path, s string) {
	if msg := idProblem(s, MaxTextLen); msg != "" {
		c.fail(path, "%s", msg)
	}
}

// money checks an amount: absent (zero value) is fine unless required; a
// present amount needs a known currency, the event's one currency, a sign
// that fits and at most MaxAmountMinor.
func (c *eventCheck) money(path string, m Money, required, positive bool) {
	if m.IsZero() {
		if required {
			c.fail(path, "required")
		}
		return
	}
	switch {
	case m.Currency == "":
		c.fail(path+".currency_code", "required")
	case !c.v.IsCurrency(m.Currency):
		c.fail(path+".currency_code", "unknown ISO 4217 currency %s", fielderr.Quote(m.Currency))
	case c.currency != "" && m.Currency != c.currency:
		c.fail(path+".currency_code", "%s differs from %s at %s; one event uses one currency", m.Currency, c.currency, c.curPath)
	case positive && m.Minor <= 0:
		c.fail(path+".amount_minor", "must be positive")
	case m.Minor < 0:
		c.fail(path+".amount_minor", "must not be negative")
	case m.Minor > MaxAmountMinor:
		c.fail(path+".amount_minor", "must be at most %d minor units, got %d", MaxAmountMinor, m.Minor)
	}
	if c.currency == "" && c.err == nil {
		c.currency, c.curPath = m.Currency, path
	}
}

func (c *eventCheck) lines(path string, lines []OrderLine) {
	if len(lines) > MaxOrderLines {
		c.fail(path, "at most %d lines", MaxOrderLines)
		return
	}
	for i, l := range lines {
		p := fmt.Sprintf("%s[%d]", path, i)
		c.id(p+".sku", l.SKU)
		c.text(p+".category", l.Category)
		switch {
		case l.Quantity <= 0:
			c.fail(p+".quantity", "must be positive, got %d", l.Quantity)
		case l.Quantity > MaxQuantity:
			c.fail(p+".quantity", "must be at most %d, got %d", MaxQuantity, l.Quantity)
		}
		c.money(p+".unit_price", l.UnitPrice, false, false)
		c.money(p+".discount", l.Discount, false, false)
		if c.err != nil {
			return
		}
		gross, ok := mulOK(l.Quantity, l.UnitPrice.Minor)
		if !ok || gross > MaxAmountMinor {
			c.fail(p+".unit_price.amount_minor", "quantity × unit price must be at most %d minor units", MaxAmountMinor)
		} else if l.Discount.Minor > gross {
			c.fail(p+".discount.amount_minor", "must not exceed quantity × unit price (%d)", gross)
		}
	}
}

// Event checks e against the event rules: ids, occurred_at set and in range
// (occurredAtRange), exactly one payload that callers may send, and the
// payload's own rules. It returns nil or a *ValidationError whose path is
// relative to the event ("order_placed.lines[0].quantity").
func (v *Validator) Event(e Event, now time.Time) *ValidationError {
	c := &eventCheck{v: v}
	if msg := eventIDProblem(e.ID); msg != "" {
		c.fail("event_id", "%s", msg)
	}
	if msg := customerIDProblem(e.CustomerID); msg != "" {
		c.fail("customer_id", "%s", msg)
	}
	at := func() string { return e.OccurredAt.UTC().Format(time.RFC3339Nano) }
	switch {
	case e.OccurredAt.IsZero():
		c.fail("occurred_at", "required: when the event happened, from 1970-01-01T00:00:00Z to at most 24h after the current time")
	case e.OccurredAt.Year() < 1970:
		c.fail("occurred_at", "%s, got %s", occurredAtRange, at())
	case e.OccurredAt.After(now.Add(MaxFutureSkew)):
		c.fail("occurred_at", "must not be more than %s in the future, got %s", MaxFutureSkew, at())
	}
	if c.err == nil {
		v.payload(c, e.Payload)
	}
	if c.err != nil {
		c.err.EventID = e.ID
	}
	return c.err
}

func (v *Validator) payload(c *eventCheck, p Payload) {
	switch p := p.(type) {
	case nil:
		c.fail("payload", "exactly one payload is required")
	case OrderPlaced:
		c.orderPlaced(p)
	case OrderRefunded:
		c.id("order_refunded.order_id", p.OrderID)
		c.money("order_refunded.amount", p.Amount, true, true)
		c.lines("order_refunded.lines", p.Lines)
	case ProductViewed:
		c.id("product_viewed.sku", p.SKU)
		c.text("product_viewed.category", p.Category)
		c.text("product_viewed.channel", p.Channel)
	case CartUpdated:
		c.lines("cart_updated.lines", p.Lines)
		c.money("cart_updated.value", p.Value, false, false)
		c.text("cart_updated.channel", p.Channel)
	case ReviewPosted:
		c.id("review_posted.sku", p.SKU)
		if p.Rating < 1 || p.Rating > 5 {
			c.fail("review_posted.rating", "must be 1 to 5, got %d", p.Rating)
		}
		if p.Length < 0 {
			c.fail("review_posted.length", "must not be negative")
		}
	case ContentShared:
		c.id("content_shared.content_id", p.ContentID)
		c.text("content_shared.network", p.Network)
	case CheckedIn:
		c.id("checked_in.location_id", p.LocationID)
	case ServiceContacted:
		c.text("service_contacted.channel", p.Channel)
		c.text("service_contacted.topic", p.Topic)
	case MessageEngaged:
		c.id("message_engaged.message_id", p.MessageID)
		c.text("message_engaged.channel", p.Channel)
		c.text("message_engaged.action", p.Action)
	case OrderDelivered:
		if p.OrderID == "" {
			c.fail("order_delivered.order_id", "required: the delivered order's id")
		}
		c.id("order_delivered.order_id", p.OrderID)
		c.text("order_delivered.carrier", p.Carrier)
	case CustomerErased:
		c.fail("customer_erased", "written by EraseCustomer only; callers cannot record it")
	case CustomerUpdated:
		c.fail("customer_updated", "written by the profile service only; callers cannot record it")
	case CustomerDeleted:
		c.fail("customer_deleted", "written by DeleteCustomer only; callers cannot record it")
	default:
		c.fail("payload", "exactly one known payload is required")
	}
}

func (c *eventCheck) orderPlaced(p OrderPlaced) {
	c.id("order_placed.order_id", p.OrderID)
	c.text("order_placed.channel", p.Channel)
	c.lines("order_placed.lines", p.Lines)
	c.money("order_placed.total", p.Total, false, false)
	c.money("order_placed.order_discount", p.OrderDiscount, false, false)
	if c.err != nil {
		return
	}
	if len(p.Lines) == 0 && p.Total.IsZero() {
		c.fail("order_placed.lines", "an order needs lines or a total")
		return
	}
	total, err := OrderTotal(p)
	switch {
	case errors.Is(err, errOrderTooLarge):
		c.fail("order_placed.lines", "%v; send the order's total, or split the order", err)
	case err != nil:
		c.fail("order_placed.order_discount", "%v", err)
	case total.Currency == "" && total.Minor == 0 && c.currency == "":
		c.fail("order_placed.total.currency_code", "an order needs a currency")
	}
}

// errOrderTooLarge is OrderTotal's error for lines that add up to more
// than MaxAmountMinor.
var errOrderTooLarge = fmt.Errorf("the lines add up to more than %d minor units", MaxAmountMinor)

// OrderTotal is what the customer paid for an order: its total when given,
// otherwise the sum over lines of quantity × unit price − line discount,
// minus the order discount. It fails when that is negative, or above
// MaxAmountMinor (errOrderTooLarge).
func OrderTotal(p OrderPlaced) (Money, error) {
	if !p.Total.IsZero() {
		return p.Total, nil
	}
	cur := p.OrderDiscount.Currency
	var sum int64
	for _, l := range p.Lines {
		if cur == "" {
			cur = l.UnitPrice.Currency
		}
		if cur == "" {
			cur = l.Discount.Currency
		}
		g, ok := mulOK(l.Quantity, l.UnitPrice.Minor)
		if ok {
			g, ok = addOK(g, negOf(l.Discount.Minor))
		}
		if ok {
			sum, ok = addOK(sum, g)
		}
		if !ok {
			return Money{}, errOrderTooLarge
		}
	}
	lines := sum
	sum, ok := addOK(sum, negOf(p.OrderDiscount.Minor))
	switch {
	case !ok || sum > MaxAmountMinor:
		return Money{}, errOrderTooLarge
	case sum < 0:
		return Money{}, fmt.Errorf("must not exceed the sum of the lines (%d)", lines)
	}
	return Money{Currency: cur, Minor: sum}, nil
}

// negOf is -a, with the one int64 that has no negation made the largest.
func negOf(a int64) int64 {
	if a == math.MinInt64 {
		return math.MaxInt64
	}
	return -a
}

func mulOK(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	if a < 0 || b < 0 || a > math.MaxInt64/b {
		return 0, false
	}
	return a * b, true
}

func addOK(a, b int64) (int64, bool) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, false
	}
	return s, true
}
