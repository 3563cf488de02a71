package profile

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

// FuzzParseUpdateMask checks ParseUpdateMask and applyFields on masks given
// as comma-separated paths. A parsed mask is unique and non-empty;
// every field in it was asked for (by name, "consent" or "*") and every
// updatable path asked for is in it; the order of the paths does not
// matter; the parsed mask parses to the same fields. Applying it changes exactly
// the fields it names. A rejected mask is an ErrInvalidArgument about
// update_mask.
func FuzzParseUpdateMask(f *testing.F) {
	for _, m := range []string{
		"full_name", "email,phone", "*", "consent", "consent,consent.sms", "tags,name,etag",
		"features.order_count", "name", "", "*,email", "full_name,unknown", "consent.email,,tags",
	} {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, mask string) {
		var paths []string
		if mask != "" {
			paths = strings.Split(mask, ",")
		}
		fields, err := ParseUpdateMask(paths)
		reversed := slices.Clone(paths)
		slices.Reverse(reversed)
		again, errAgain := ParseUpdateMask(reversed)
		if (err == nil) != (errAgain == nil) || !slices.Equal(fields, again) {
			t.Fatalf("ParseUpdateMask(%q) = %v, %v; reversed = %v, %v", paths, fields, err, again, errAgain)
		}
		if err != nil {
			if !errors.Is(err, fielderr.ErrInvalidArgument) || !strings.Contains(err.Error(), "update_mask") {
				t.Fatalf("ParseUpdateMask(%q): error %q is not an invalid argument about update_mask", paths, err)
			}
			return
		}
		checkParsedMask(t, paths, fields)
		checkApplyFields(t, fields)
	})
}

func checkParsedMask(t *testing.T, paths []string, fields []CustomerField) {
	t.Helper()
	sorted := slices.Sorted(slices.Values(fields))
	if len(fields) == 0 || len(slices.Compact(slices.Clone(sorted))) != len(fields) {
		t.Fatalf("ParseUpdateMask(%q) = %v: want a unique, non-empty list", paths, fields)
	}
	all := slices.Contains(paths, "*")
	for _, fl := range fields {
		asked := all || slices.Contains(paths, string(fl)) ||
			strings.HasPrefix(string(fl), "consent.") && slices.Contains(paths, "consent")
		if !slices.Contains(updatableFields, fl) || !asked {
			t.Fatalf("ParseUpdateMask(%q) has %q, which was not asked for", paths, fl)
		}
	}
	for _, p := range paths {
		if slices.Contains(updatableFields, CustomerField(p)) && !slices.Contains(fields, CustomerField(p)) {
			t.Fatalf("ParseUpdateMask(%q) = %v: %q is missing", paths, fields, p)
		}
	}
	canonical := make([]string, len(fields))
	for i, fl := range fields {
		canonical[i] = string(fl)
	}
	if again, err := ParseUpdateMask(canonical); err != nil || !slices.Equal(slices.Sorted(slices.Values(again)), sorted) {
		t.Fatalf("ParseUpdateMask(%q) = %v, %v; want %v", canonical, again, err, fields)
	}
}

// fieldValues reads each updatable field of a customer.
var fieldValues = map[CustomerField]func(Customer) any{
	FieldFullName:            func(c Customer) any { return c.FullName },
	FieldEmail:               func(c Customer) any { return c.Email },
	FieldPhone:               func(c Customer) any { return c.Phone },
	FieldBirthday:            func(c Customer) any { return c.Birthday },
	FieldTimeZone:            func(c Customer) any { return c.TimeZone },
	FieldCountry:             func(c Customer) any { return c.Country },
	FieldRegistrationTime:    func(c Customer) any { return c.RegistrationTime },
	FieldRegistrationChannel: func(c Customer) any { return c.RegistrationChannel },
	FieldConsentEmail:        func(c Customer) any { return c.Consent.Email },
	FieldConsentSMS:          func(c Customer) any { return c.Consent.SMS },
	FieldConsentPush:         func(c Customer) any { return c.Consent.Push },
	FieldTags:                func(c Customer) any { return c.Tags },
}

// checkApplyFields applies fields from a customer that differs in every
// field to another and checks that exactly those fields changed.
func checkApplyFields(t *testing.T, fields []CustomerField) {
	t.Helper()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cur := Customer{ID: "c-1", FullName: "Ada", Email: "ada@example.com", Phone: "+447700900123",
		Birthday: "1990-01-02", TimeZone: "Europe/London", Country: "GB", RegistrationTime: t0,
		RegistrationChannel: "web", Consent: Consent{Email: ConsentGranted, SMS: ConsentDenied, Push: ConsentUnspecified},
		Tags: []string{"a"}, State: StateActive, Revision: 3, CreateTime: t0, UpdateTime: t0}
	src := Customer{ID: "c-2", FullName: "Grace", Email: "grace@example.com", Phone: "+15550100",
		Birthday: "1980-05-06", TimeZone: "America/New_York", Country: "US", RegistrationTime: t0.Add(time.Hour),
		RegistrationChannel: "app", Consent: Consent{Email: ConsentDenied, SMS: ConsentGranted, Push: ConsentGranted},
		Tags: []string{"b", "c"}, Revision: 9}
	if len(fieldValues) != len(updatableFields) {
		t.Fatalf("fieldValues covers %d fields, want %d", len(fieldValues), len(updatableFields))
	}
	got := cur
	got.Tags = slices.Clone(cur.Tags)
	applyFields(&got, src, fields)
	for fl, value := range fieldValues {
		want := value(cur)
		if slices.Contains(fields, fl) {
			want = value(src)
		}
		if !reflect.DeepEqual(value(got), want) {
			t.Fatalf("applyFields(%v): %s is %v, want %v", fields, fl, value(got), want)
		}
	}
	if slices.Contains(fields, FieldTags) {
		src.Tags[0] = "changed"
		if got.Tags[0] == "changed" {
			t.Fatalf("applyFields(%v) shares the source's tags", fields)
		}
	}
	// Put back every updatable field: what remains must be cur's.
	got.FullName, got.Email, got.Phone, got.Birthday = cur.FullName, cur.Email, cur.Phone, cur.Birthday
	got.TimeZone, got.Country, got.RegistrationTime = cur.TimeZone, cur.Country, cur.RegistrationTime
	got.RegistrationChannel, got.Consent, got.Tags = cur.RegistrationChannel, cur.Consent, cur.Tags
	if !reflect.DeepEqual(got, cur) {
		t.Fatalf("applyFields(%v) changed a field outside the mask: got %+v, want %+v", fields, got, cur)
	}
}
