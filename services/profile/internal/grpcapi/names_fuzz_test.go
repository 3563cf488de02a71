package grpcapi

import (
	"errors"
	"strings"
	"testing"

	"github.com/tenurehq/tenure/services/platform/fielderr"
	"github.com/tenurehq/tenure/services/profile/internal/profile"
)

// FuzzParseName checks that parseName accepts exactly the names
// "customers/{customer_id}" with a valid customer id, that an accepted name
// is rebuilt by customerName, and that a rejected one is an invalid
// argument naming the request field.
func FuzzParseName(f *testing.F) {
	for _, n := range []string{
		"customers/c-1001", "customers/12347", "customers/a.b:c@d_e", "customers/", "customers",
		"customers/a/b", "segments/x", "customers/c%FF", "customers/\xff", "Customers/c1", "customers/ c1",
	} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, name string) {
		id, err := parseName("customer.name", name)
		rest, prefixed := strings.CutPrefix(name, "customers/")
		valid := prefixed && profile.CheckCustomerID(rest) == nil
		if err == nil {
			if !valid || id != rest || customerName(id) != name {
				t.Fatalf("parseName(%q) = %q; want it rejected or %q", name, id, rest)
			}
			return
		}
		if valid {
			t.Fatalf("parseName(%q): %v; want %q", name, err, rest)
		}
		var fe *fielderr.Error
		if !errors.As(err, &fe) || fe.Field() != "customer.name" || !errors.Is(err, fielderr.ErrInvalidArgument) ||
			!strings.Contains(err.Error(), "customer.name") {
			t.Fatalf("parseName(%q): got %#v, want an invalid argument about customer.name", name, err)
		}
	})
}
