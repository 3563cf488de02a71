package resourcename_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tenurehq/tenure/services/platform/fielderr"
	"github.com/tenurehq/tenure/services/platform/resourcename"
)

var (
	customer = resourcename.MustCompile("customers/{customer_id}")
	scores   = resourcename.MustCompile("customers/{customer_id}/scores")
	op       = resourcename.MustCompile("operations/{operation_id}")
	tier     = resourcename.MustCompile("programmes/{programme_id}/tiers/{tier_id}")
)

func TestParse(t *testing.T) {
	tests := []struct {
		pattern resourcename.Pattern
		name    string
		want    []string
		wantMsg string
	}{
		{pattern: customer, name: "customers/c-1", want: []string{"c-1"}},
		{pattern: scores, name: "customers/c-1/scores", want: []string{"c-1"}},
		{pattern: tier, name: "programmes/p/tiers/gold", want: []string{"p", "gold"}},
		{pattern: customer, name: "users/c-1", wantMsg: `name: must be "customers/" followed by a customer id, got "users/c-1"`},
		{pattern: customer, name: "customers/", wantMsg: `name: must be "customers/" followed by a customer id, got "customers/"`},
		{pattern: customer, name: "customers/a/b", wantMsg: `name: must be "customers/" followed by a customer id, got "customers/a/b"`},
		{pattern: op, name: "operations", wantMsg: `name: must be "operations/" followed by an operation id, got "operations"`},
		{pattern: scores, name: "customers//scores", wantMsg: `name: must be "customers/{customer_id}/scores", got "customers//scores"`},
		{pattern: scores, name: "customers/c-1", wantMsg: `name: must be "customers/{customer_id}/scores", got "customers/c-1"`},
		{pattern: tier, name: "programmes/p/tier/gold", wantMsg: `name: must be "programmes/{programme_id}/tiers/{tier_id}", got "programmes/p/tier/gold"`},
		{pattern: customer, name: strings.Repeat("n", 100), wantMsg: `name: must be "customers/" followed by a customer id, got "` + strings.Repeat("n", fielderr.MaxQuote) + `"…`},
	}
	for _, tt := range tests {
		t.Run(tt.pattern.String()+" "+tt.name, func(t *testing.T) {
			got, err := tt.pattern.Parse("name", tt.name)
			if tt.wantMsg == "" {
				if err != nil || !slices.Equal(got, tt.want) {
					t.Fatalf("got %q, %v; want %q", got, err, tt.want)
				}
				if back := tt.pattern.Format(got...); back != tt.name {
					t.Errorf("Format(%q) = %q, want %q", got, back, tt.name)
				}
				return
			}
			var fe *fielderr.Error
			if !errors.As(err, &fe) || fe.Field() != "name" || !errors.Is(err, fielderr.ErrInvalidArgument) {
				t.Fatalf("got %q, %#v; want an invalid argument about name", got, err)
			}
			if err.Error() != tt.wantMsg {
				t.Errorf("message:\n got %s\nwant %s", err, tt.wantMsg)
			}
		})
	}
}

func TestParseID(t *testing.T) {
	id, err := scores.ParseID("name", "customers/ann/scores")
	if err != nil || id != "ann" {
		t.Fatalf("got %q, %v; want ann", id, err)
	}
	if _, err := customer.ParseID("customer.name", "ann"); err == nil || !strings.HasPrefix(err.Error(), "customer.name: ") {
		t.Errorf("got %v, want an error about customer.name", err)
	}
}

// TestFormatLongAndAppend checks a name longer than Format's stack buffer
// and that Append adds to what dst holds.
func TestFormatLongAndAppend(t *testing.T) {
	long := strings.Repeat("x", 300)
	if got := tier.Format(long, "gold"); got != "programmes/"+long+"/tiers/gold" {
		t.Errorf("Format = %q", got)
	}
	if got := string(tier.Append([]byte("name: "), "p1", "gold")); got != "name: programmes/p1/tiers/gold" {
		t.Errorf("Append = %q", got)
	}
}

func TestMustCompilePanics(t *testing.T) {
	for _, p := range []string{"customers", "customers/{}", "customers/{id", "customers//{id}", "a{b}/{id}"} {
		t.Run(p, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("MustCompile(%q) did not panic", p)
				}
			}()
			resourcename.MustCompile(p)
		})
	}
}

// FuzzParse checks that a name is accepted exactly when Format rebuilds it
// from the ids Parse returned, each non-empty and without "/".
func FuzzParse(f *testing.F) {
	for _, n := range []string{"customers/c1/scores", "customers//scores", "customers/a/b/scores", "customers/\xff/scores", "x"} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, name string) {
		ids, err := scores.Parse("name", name)
		if err != nil {
			if rest, ok := strings.CutPrefix(name, "customers/"); ok {
				if id, ok := strings.CutSuffix(rest, "/scores"); ok && id != "" && !strings.Contains(id, "/") {
					t.Fatalf("%q rejected: %v", name, err)
				}
			}
			return
		}
		if len(ids) != 1 || ids[0] == "" || strings.Contains(ids[0], "/") || scores.Format(ids...) != name {
			t.Fatalf("%q parsed to %q", name, ids)
		}
	})
}
