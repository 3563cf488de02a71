package store

import (
	"slices"
	"testing"
)

func TestListRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		list []string
	}{
		{"empty", nil},
		{"one", []string{"vip"}},
		{"several", []string{"books", "home_garden", "toys"}},
		{"comma and space", []string{"a,b", " c "}},
		{"empty string", []string{""}},
		{"quote and backslash", []string{`say "hi"`, `a\b`}},
		{"html escaped by json", []string{"<b>&"}},
		{"unicode", []string{"café", "日本", "\u2028"}},
		{"control", []string{"tab\there"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc := encodeList(tt.list)
			got, err := decodeList(enc)
			if err != nil || !slices.Equal(got, tt.list) {
				t.Errorf("decodeList(%s): got %q, %v, want %q", enc, got, err, tt.list)
			}
			in := newInterner()
			for range 2 { // the second call is served from the cache
				got, err := in.list(enc)
				if err != nil || !slices.Equal(got, tt.list) {
					t.Errorf("interner.list(%s): got %q, %v, want %q", enc, got, err, tt.list)
				}
			}
		})
	}
}

func TestDecodeListWhitespace(t *testing.T) {
	got, err := decodeList(` [ "a" , "b" ] `)
	if err != nil || !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("got %q, %v, want [a b]", got, err)
	}
}

func TestDecodeListRejects(t *testing.T) {
	for _, s := range []string{`["a"`, `["a",]`, `[1]`, `{"a":1}`, `["a"]x`} {
		if l, err := decodeList(s); err == nil {
			t.Errorf("decodeList(%s): got %q, want an error", s, l)
		}
	}
}

func TestInternerShares(t *testing.T) {
	in := newInterner()
	a, _ := in.list(`["x","y"]`)
	b, _ := in.list(`["x","y"]`)
	if &a[0] != &b[0] {
		t.Error("equal lists do not share a backing array")
	}
	if cap(a) != len(a) {
		t.Errorf("shared list has spare capacity %d, want %d: an append would write into it", cap(a), len(a))
	}
	c, _ := in.list(`["y"]`)
	if c[0] != a[1] || in.str("y") != a[1] {
		t.Error("strings are not interned")
	}
}

// TestDecodeListInvalidUTF8 checks that the fast path gives what
// encoding/json gives for bytes that are not UTF-8: the replacement
// character, not the raw bytes.
func TestDecodeListInvalidUTF8(t *testing.T) {
	got, err := decodeList("[\"a\xb9\"]")
	if err != nil || !slices.Equal(got, []string{"a\uFFFD"}) {
		t.Errorf("got %q, %v, want [\"a\\uFFFD\"]", got, err)
	}
}
