package paging

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"strings"
	"testing"
)

func TestSizes(t *testing.T) {
	tests := []struct {
		name    string
		sizes   Sizes
		n       int
		want    int
		wantErr string
	}{
		{"unset is the default", Sizes{Default: 20, Max: 200}, 0, 20, ""},
		{"within range", Sizes{Default: 20, Max: 200}, 7, 7, ""},
		{"at the maximum", Sizes{Default: 20, Max: 200}, 200, 200, ""},
		{"above the maximum is lowered", Sizes{Default: 20, Max: 200}, 201, 200, ""},
		{"zero Sizes means DefaultSizes", Sizes{}, 0, 50, ""},
		{"zero Sizes caps at 1000", Sizes{}, 5000, 1000, ""},
		{"negative", Sizes{Default: 20, Max: 200}, -1, 0,
			"page_size must not be negative, got -1; omit it or send 0 for the default of 20, or a number up to 200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.sizes.Size(tt.n)
			if tt.wantErr != "" {
				var pe *Error
				if !errors.Is(err, ErrInvalidPageSize) || !errors.As(err, &pe) || pe.Field() != "page_size" || err.Error() != tt.wantErr {
					t.Fatalf("Size(%d) error = %v, want %q naming page_size", tt.n, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Size(%d) = %d, %v; want %d", tt.n, got, err, tt.want)
			}
		})
	}
}

func TestFieldNamesTheField(t *testing.T) {
	_, err := Sizes{Default: 50, Max: 500}.Field("limit", -3)
	var pe *Error
	if !errors.As(err, &pe) || pe.Field() != "limit" || !strings.HasPrefix(err.Error(), "limit must not be negative, got -3;") {
		t.Fatalf("got %v, want an error naming limit", err)
	}
	if pe.Description() != strings.TrimPrefix(err.Error(), "limit ") {
		t.Errorf("Description() = %q, want the message without the field name", pe.Description())
	}
}

const (
	malformed = "page_token is not one this service issued; pass next_page_token unchanged, or omit it for the first page"
	otherTag  = "page_token does not match the request's filters; send the tag and updated_after of the request that returned it"
	otherList = "page_token was issued by another List method; pass the next_page_token this method returned, or omit it for the first page"
)

func customers(tag, after string) Filter {
	return For("ListCustomers").With("tag", tag).With("updated_after", after)
}

// rawToken builds a version-1 token by hand, so the tests pin the layout.
func rawToken(version byte, f Filter, position string) []byte {
	sum := f.sum()
	b := append([]byte{version}, sum[:]...)
	return append(b, position...)
}

// seal appends the checksum to a hand-built token body and encodes it.
func seal(b []byte) string {
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestParseTokens(t *testing.T) {
	f := customers("vip", "")
	first, err := Parse(Sizes{Default: 2, Max: 10}, 1, "", f)
	if err != nil || first.Size != 1 || first.After != "" || first.Limit() != 2 {
		t.Fatalf("first page = %+v, %v; want size 1, no position, limit 2", first, err)
	}
	next := first.Next("cust-1")
	body := mustDecodeB64(t, next)
	flipped := append([]byte(nil), body...)
	flipped[10] ^= 0x01 // one bit of the position
	tests := []struct {
		name    string
		f       Filter
		token   string
		want    string // the position, when wantErr is ""
		wantErr string
	}{
		{"issued", f, next, "cust-1", ""},
		{"same filter values, new Filter", customers("vip", ""), next, "cust-1", ""},
		{"other tag", customers("new", ""), next, "", otherTag},
		{"filter added", customers("vip", "2026-01-02T03:04:05Z"), next, "", otherTag},
		{"other method", For("ListSegments"), next, "", otherList},
		{"values moved between fields", For("ListCustomers").With("tag", "").With("updated_after", "vip"), next, "",
			otherTag},
		{"not base64", f, "garbage!", "", malformed},
		{"padded", f, next + "=", "", malformed},
		{"standard alphabet", f, strings.NewReplacer("-", "+", "_", "/").Replace(next) + "+", "", malformed},
		{"line break inside", f, next[:4] + "\n" + next[4:], "", malformed},
		{"truncated", f, next[:len(next)-2], "", malformed},
		{"trailing data", f, next + "AA", "", malformed},
		{"one bit edited", f, base64.RawURLEncoding.EncodeToString(flipped), "", malformed},
		{"too short", f, base64.RawURLEncoding.EncodeToString(body[:overhead]), "", malformed},
		{"no position", f, seal(rawToken(1, f, "")), "", malformed},
		{"unknown version", f, seal(rawToken(2, f, "cust-1")), "", malformed},
		{"position not UTF-8", f, seal(rawToken(1, f, "\xff")), "", malformed},
		{"too long", f, seal(rawToken(1, f, strings.Repeat("x", maxTokenLen))), "", malformed},
		{"hand-made version 1", f, seal(rawToken(1, f, "cust-9")), "cust-9", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(Sizes{}, 0, tt.token, tt.f)
			if tt.wantErr == "" {
				if err != nil || p.After != tt.want || p.Size != DefaultSizes.Default {
					t.Fatalf("Parse = %+v, %v; want the page after %q", p, err, tt.want)
				}
				return
			}
			var pe *Error
			if !errors.Is(err, ErrInvalidPageToken) || !errors.As(err, &pe) || pe.Field() != "page_token" || err.Error() != tt.wantErr {
				t.Fatalf("Parse error = %v, want %q naming page_token", err, tt.wantErr)
			}
		})
	}
}

func mustDecodeB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A negative size fails even with a bad token: the size is checked first,
// so the caller learns about both one at a time in a stable order.
func TestParseChecksSizeFirst(t *testing.T) {
	_, err := Parse(Sizes{}, -1, "garbage!", For("ListX"))
	if !errors.Is(err, ErrInvalidPageSize) {
		t.Fatalf("got %v, want ErrInvalidPageSize", err)
	}
}

func TestCut(t *testing.T) {
	f := For("ListThings").With("parent", "p")
	key := func(s string) string { return s }
	tests := []struct {
		name     string
		size     int
		items    []string
		want     []string
		wantNext string // position of the next page, "" for none
	}{
		{"empty", 2, nil, nil, ""},
		{"fewer than a page", 2, []string{"a"}, []string{"a"}, ""},
		{"exactly a page", 2, []string{"a", "b"}, []string{"a", "b"}, ""},
		{"one more than a page", 2, []string{"a", "b", "c"}, []string{"a", "b"}, "b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(Sizes{Default: 2, Max: 2}, tt.size, "", f)
			if err != nil {
				t.Fatal(err)
			}
			got, next := Cut(p, tt.items, key)
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("items = %v, want %v", got, tt.want)
			}
			if tt.wantNext == "" {
				if next != "" {
					t.Errorf("next = %q, want none", next)
				}
				return
			}
			again, err := Parse(Sizes{}, 0, next, f)
			if err != nil || again.After != tt.wantNext {
				t.Errorf("next page starts after %q (%v), want %q", again.After, err, tt.wantNext)
			}
		})
	}
}

// Paging through a list with Cut visits every item once, in order, for any
// page size.
func TestCutVisitsEveryItemOnce(t *testing.T) {
	all := []string{"a", "b", "c", "d", "e", "f", "g"}
	list := func(after string, limit int) []string {
		var out []string
		for _, s := range all {
			if s > after && len(out) < limit {
				out = append(out, s)
			}
		}
		return out
	}
	f := For("ListLetters")
	for size := 1; size <= len(all)+1; size++ {
		var seen []string
		token := ""
		for range len(all) + 1 {
			p, err := Parse(Sizes{Default: 3, Max: 100}, size, token, f)
			if err != nil {
				t.Fatal(err)
			}
			var items []string
			items, token = Cut(p, list(p.After, p.Limit()), func(s string) string { return s })
			seen = append(seen, items...)
			if token == "" {
				break
			}
		}
		if strings.Join(seen, "") != strings.Join(all, "") {
			t.Errorf("page size %d saw %v, want %v", size, seen, all)
		}
	}
}
