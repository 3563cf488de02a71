package profile

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

var (
	e164Pattern    = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	countryPattern = regexp.MustCompile(`^[A-Z]{2}$`)
)

// FuzzValidateCustomer checks Validator.Customer on any profile fields.
// An accepted customer has only what can be stored and used as is: text
// that is valid UTF-8 without control characters (no NUL, which
// PostgreSQL refuses) and within its length; an email address with a
// dotted domain; an E.164 phone number; a birthday that prints back the
// same; a loadable time zone; an upper-case country code; tags of the
// allowed characters. A rejection is an ErrInvalidCustomer naming one of
// the fields.
func FuzzValidateCustomer(f *testing.F) {
	f.Add("Ada Lovelace", "ada@example.com", "+447700900123", "1815-12-10", "Europe/London", "GB", "web", "vip_gold")
	f.Add("", "", "", "", "", "", "", "a")
	f.Add("Zoë\x00", "\"ada\"@example.com", "+0123", "1990-02-30", "Local", "gb", "web\n", "")
	f.Add("Ada", "Ada <ada@example.com>", "+4477009001234567", "1990-1-2", "../../etc/passwd", "UK", "\xff", "a b")
	f.Add("Ada", "ada@example", "+1", "2999-01-01", "UTC", "ZZ", "", "x/y:z")
	f.Add("Ada", "ada@exa mple.com", "+44 7700", "1900-01-01", "America/Argentina/Buenos_Aires", "US", "", "é")
	v := NewValidator()
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, name, email, phone, birthday, zone, country, channel, tag string) {
		c := Customer{FullName: name, Email: email, Phone: phone, Birthday: birthday, TimeZone: zone,
			Country: country, RegistrationChannel: channel}
		if tag != "" {
			c.Tags = []string{tag}
		}
		err := v.Customer(c, now)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, ErrInvalidCustomer) || ve.Path == "" {
				t.Fatalf("Customer(%+v): got %#v, want a *ValidationError about a field", c, err)
			}
			return
		}
		for _, s := range []string{name, email, phone, birthday, zone, country, channel, tag} {
			if !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) {
				t.Fatalf("Customer(%+v) accepted %q, which is not printable UTF-8", c, s)
			}
		}
		if len(name) > MaxTextLen || len(channel) > MaxTextLen || len(email) > 254 || len(tag) > MaxTagLen {
			t.Fatalf("Customer(%+v) accepted a field over its length limit", c)
		}
		if local, domain, ok := strings.Cut(email, "@"); email != "" && (!ok || local == "" || !strings.Contains(domain, ".") ||
			strings.ContainsAny(email, " <>\"") || strings.HasSuffix(domain, ".")) {
			t.Fatalf("Customer(%+v) accepted the email address %q", c, email)
		}
		if phone != "" && !e164Pattern.MatchString(phone) {
			t.Fatalf("Customer(%+v) accepted the phone number %q", c, phone)
		}
		if birthday != "" {
			if d, err := time.Parse(time.DateOnly, birthday); err != nil || d.Format(time.DateOnly) != birthday || d.After(now) {
				t.Fatalf("Customer(%+v) accepted the birthday %q", c, birthday)
			}
		}
		if _, err := time.LoadLocation(zone); err != nil || zone == "Local" {
			t.Fatalf("Customer(%+v) accepted the time zone %q", c, zone)
		}
		if country != "" && !countryPattern.MatchString(country) {
			t.Fatalf("Customer(%+v) accepted the country %q", c, country)
		}
		if tag != "" && strings.ContainsFunc(tag, func(r rune) bool { return r > unicode.MaxASCII || r == ' ' }) {
			t.Fatalf("Customer(%+v) accepted the tag %q", c, tag)
		}
	})
}
