package paging

import (
	"errors"
	"testing"
)

// FuzzParseToken feeds arbitrary page tokens to Parse. It must never panic;
// it must reject with an *Error naming page_token whatever it does not
// accept; and it accepts only the exact token Next makes for the position it
// returns, so no two spellings of a token are valid.
// Run: go test -run '^$' -fuzz FuzzParseToken ./services/platform/paging
func FuzzParseToken(f *testing.F) {
	filter := For("ListCustomers").With("tag", "vip")
	first, _ := Parse(Sizes{}, 0, "", filter)
	f.Add(first.Next("cust-1"))
	f.Add(first.Next("ü"))
	f.Add(For("ListSegments").sumToken("seg-1"))
	f.Add("")
	f.Add("garbage!")
	f.Fuzz(func(t *testing.T, tok string) {
		p, err := Parse(Sizes{}, 0, tok, filter)
		if err != nil {
			var pe *Error
			if !errors.Is(err, ErrInvalidPageToken) || !errors.As(err, &pe) || pe.Field() != "page_token" {
				t.Fatalf("Parse(%q) error = %v, want an *Error naming page_token", tok, err)
			}
			return
		}
		if tok == "" {
			if p.After != "" {
				t.Fatalf("empty token gave position %q", p.After)
			}
			return
		}
		if again := p.Next(p.After); again != tok {
			t.Fatalf("Parse accepted %q as position %q, which encodes as %q", tok, p.After, again)
		}
	})
}

// sumToken is the token f's method would issue after position, for seeds.
func (f Filter) sumToken(position string) string {
	return encode(token{filter: f.sum(), position: position})
}
