package couponcode

import (
	"errors"
	"strings"
	"testing"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

func TestAlphabetHasNoLookAlikes(t *testing.T) {
	if len(Alphabet) != 31 {
		t.Fatalf("alphabet has %d symbols, want 31", len(Alphabet))
	}
	for _, c := range "0O1IL" {
		if strings.ContainsRune(Alphabet, c) {
			t.Errorf("alphabet has look-alike %q", c)
		}
	}
	seen := map[rune]bool{}
	for _, c := range Alphabet {
		if seen[c] {
			t.Errorf("alphabet repeats %q", c)
		}
		seen[c] = true
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"save10", "SAVE10"},
		{"  Save-10_x \t", "SAVE-10_X"},
		{"ABC", "ABC"},
		{"", ""},
		{"été", "ÉTÉ"}, // non-ASCII is upper-cased too, and then rejected by Check
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		code string
		ok   bool
	}{
		{"SAVE10", true},
		{"A-B_C", true},
		{strings.Repeat("A", MaxCodeLength), true},
		{"", false},
		{strings.Repeat("A", MaxCodeLength+1), false},
		{"SAVE 10", false},
		{"ÉTÉ", false},
		{"A\x00", false},
	}
	for _, tt := range tests {
		err := Check("codes[0]", tt.code)
		var fe *fielderr.Error
		if tt.ok != (err == nil) || !tt.ok && (!errors.As(err, &fe) || fe.Path != "codes[0]") {
			t.Errorf("Check(%q) = %v, want ok %v", tt.code, err, tt.ok)
		}
	}
}

func TestSpecValidate(t *testing.T) {
	tests := []struct {
		name     string
		spec     Spec
		wantPath string
		space    bool
	}{
		{"valid", Spec{Count: 1000, Length: 8, Prefix: "xmas-"}, "", false},
		{"a million of 8", Spec{Count: MaxCount, Length: 8}, "", false},
		{"count zero", Spec{Count: 0, Length: 8}, "count", false},
		{"count over", Spec{Count: MaxCount + 1, Length: 8}, "count", false},
		{"length short", Spec{Count: 1, Length: MinLength - 1}, "length", false},
		{"length long", Spec{Count: 1, Length: MaxLength + 1}, "length", false},
		{"prefix long", Spec{Count: 1, Length: 8, Prefix: strings.Repeat("P", MaxPrefixLength+1)}, "prefix", false},
		{"prefix bad", Spec{Count: 1, Length: 8, Prefix: "A B"}, "prefix", false},
		// 31^6 ≈ 887 million < 1000 × 1,000,000
		{"space too small", Spec{Count: MaxCount, Length: 6}, "length", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.Validate()
			if tt.wantPath == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var fe *fielderr.Error
			if !errors.As(err, &fe) || fe.Path != tt.wantPath || errors.Is(err, ErrSpaceTooSmall) != tt.space {
				t.Fatalf("got %v, want a field error at %s (space %v)", err, tt.wantPath, tt.space)
			}
			if tt.space && !strings.Contains(fe.Fix, "at least 7") {
				t.Fatalf("fix %q, want it to name length 7", fe.Fix)
			}
		})
	}
}

func TestGenerator(t *testing.T) {
	g, err := NewGenerator(Spec{Count: 25000, Length: 6, Prefix: "xmas-"})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	check := func(codes []string) {
		for _, c := range codes {
			if !strings.HasPrefix(c, "XMAS-") || len(c) != 11 {
				t.Fatalf("code %q, want XMAS- and 6 symbols", c)
			}
			for _, r := range c[5:] {
				if !strings.ContainsRune(Alphabet, r) {
					t.Fatalf("code %q has %q outside the alphabet", c, r)
				}
			}
			if seen[c] {
				t.Fatalf("code %q twice", c)
			}
			seen[c] = true
			if Normalize(c) != c || Check("c", c) != nil {
				t.Fatalf("code %q is not in normal form or fails Check", c)
			}
		}
	}
	total := 0
	for g.Remaining() > 0 {
		codes, err := g.Next(10000)
		if err != nil {
			t.Fatal(err)
		}
		check(codes)
		total += len(codes)
	}
	if total != 25000 {
		t.Fatalf("generated %d, want 25000", total)
	}
	if codes, err := g.Next(10); err != nil || len(codes) != 0 {
		t.Fatalf("Next after the count: %v %v, want none", codes, err)
	}
	extra, err := g.Replace(100)
	if err != nil || len(extra) != 100 {
		t.Fatalf("Replace: %d codes, %v", len(extra), err)
	}
	check(extra)
}

// TestGeneratorUniform checks every symbol appears at every position about
// equally often: a chi-square statistic past its one-in-a-million critical
// value (30 degrees of freedom: 82.6) means a biased draw, not bad luck.
func TestGeneratorUniform(t *testing.T) {
	g, err := NewGenerator(Spec{Count: 31000, Length: 8})
	if err != nil {
		t.Fatal(err)
	}
	codes, err := g.Next(31000)
	if err != nil {
		t.Fatal(err)
	}
	for pos := range 8 {
		counts := map[byte]int{}
		for _, c := range codes {
			counts[c[pos]]++
		}
		var chi float64
		for i := range len(Alphabet) {
			d := float64(counts[Alphabet[i]] - 1000)
			chi += d * d / 1000
		}
		if chi > 82.6 {
			t.Errorf("position %d: χ² = %.1f over 82.6", pos, chi)
		}
	}
}

func BenchmarkGenerateMillion(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		g, err := NewGenerator(Spec{Count: MaxCount, Length: 10, Prefix: "P-"})
		if err != nil {
			b.Fatal(err)
		}
		for g.Remaining() > 0 {
			if _, err := g.Next(10000); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func TestKeySet(t *testing.T) {
	s := newKeySet(1)
	for k := range uint64(10000) {
		if !s.add(k * 7) {
			t.Fatalf("key %d reported as seen", k*7)
		}
	}
	for k := range uint64(10000) {
		if s.add(k * 7) {
			t.Fatalf("key %d added twice", k*7)
		}
		if k%7 != 0 && !s.add(k*7+1) {
			t.Fatalf("key %d reported as seen", k*7+1)
		}
	}
	if s.n != 10000+8571 || 2*s.n > len(s.slots) {
		t.Fatalf("%d keys in %d slots", s.n, len(s.slots))
	}
}
