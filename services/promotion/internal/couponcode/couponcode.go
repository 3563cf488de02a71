// Package couponcode generates, normalises and checks coupon codes.
//
// Generated codes are a prefix followed by random symbols from Alphabet,
// which leaves out the characters people confuse when they read or type a
// code: 0 and O, 1 and I and L. Codes are matched case-insensitively:
// Normalize is applied to every code before it is stored or looked up.
package couponcode

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

// Alphabet is the symbols of a generated code: the digits 2–9 and the
// capital letters without I, L and O (31 symbols, about 4.95 bits each).
const Alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// Limits of a generation request and of an imported code.
const (
	// MaxCount is the most codes one request generates.
	MaxCount = 1_000_000
	// MinLength and MaxLength bound the random part of a generated code.
	MinLength = 6
	MaxLength = 32
	// MaxPrefixLength is the longest prefix.
	MaxPrefixLength = 16
	// MaxCodeLength is the longest code, generated or imported.
	MaxCodeLength = 64
)

// ErrSpaceTooSmall marks a request whose length leaves too few distinct
// codes for its count.
var ErrSpaceTooSmall = errors.New("couponcode: too few distinct codes for the count")

// Spec is a bulk generation request.
type Spec struct {
	// Count is the number of codes, 1 to MaxCount.
	Count int
	// Length is the number of random symbols, MinLength to MaxLength.
	Length int
	// Prefix is put before the random part as given after Normalize
	// (letters, digits, '-' and '_'); it may be empty.
	Prefix string
}

// Normalize returns the form a code is stored and matched in: surrounding
// white space trimmed and ASCII letters upper-cased. Nothing else changes,
// so an imported code keeps its own characters.
func Normalize(code string) string {
	code = strings.TrimSpace(code)
	for i := 0; i < len(code); i++ {
		if c := code[i]; c >= 'a' && c <= 'z' {
			return strings.ToUpper(code)
		}
	}
	return code
}

// Check validates a code to import (after Normalize) and returns a
// *fielderr.Error for path, or nil: 1 to MaxCodeLength characters, each an
// ASCII letter, digit, '-' or '_'.
func Check(path, code string) error {
	if code == "" || len(code) > MaxCodeLength {
		return &fielderr.Error{Path: path, Problem: fmt.Sprintf("is %d characters long", len(code)), Fix: fmt.Sprintf("send 1 to %d characters", MaxCodeLength)}
	}
	for i := 0; i < len(code); i++ {
		if !isCodeByte(code[i]) {
			return &fielderr.Error{Path: path, Problem: fmt.Sprintf("has %s at %d", fielderr.Quote(code[i:i+1]), i+1), Fix: "use only letters, digits, '-' and '_'"}
		}
	}
	return nil
}

func isCodeByte(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// Validate checks a generation request; every problem is a
// *fielderr.Error with paths count, length and prefix.
func (s Spec) Validate() error {
	switch {
	case s.Count < 1 || s.Count > MaxCount:
		return &fielderr.Error{Path: "count", Problem: fmt.Sprintf("must be 1 to %d, got %d", MaxCount, s.Count)}
	case s.Length < MinLength || s.Length > MaxLength:
		return &fielderr.Error{Path: "length", Problem: fmt.Sprintf("must be %d to %d, got %d", MinLength, MaxLength, s.Length)}
	case len(s.Prefix) > MaxPrefixLength:
		return &fielderr.Error{Path: "prefix", Problem: fmt.Sprintf("is %d characters long", len(s.Prefix)), Fix: fmt.Sprintf("send at most %d", MaxPrefixLength)}
	}
	if s.Prefix != "" {
		if err := Check("prefix", Normalize(s.Prefix)); err != nil {
			return err
		}
	}
	// Ask for a space at least 1000 times the count, so that drawing the
	// count (and replacing codes the store already has) stays cheap and
	// codes stay hard to guess.
	if space(s.Length) < float64(s.Count)*1000 {
		need := s.Length
		for space(need) < float64(s.Count)*1000 {
			need++
		}
		return &fielderr.Error{Path: "length", Problem: fmt.Sprintf("%d leaves too few distinct codes for %d", s.Length, s.Count), Fix: fmt.Sprintf("send at least %d", need), Err: ErrSpaceTooSmall}
	}
	return nil
}

// space is the number of distinct random parts of length n.
func space(n int) float64 { return math.Pow(float64(len(Alphabet)), float64(n)) }

// Generator draws unique codes for one Spec with crypto/rand.
type Generator struct {
	spec   Spec
	prefix string
	left   int
	// seen holds a key per code handed out: the value of its first
	// keySymbols random symbols in base 31. Equal codes have equal keys,
	// so a new key means a new code; a longer code whose key is taken is
	// drawn again even if it differs further on, which only costs a draw.
	seen keySet
	rnd  []byte
	pos  int
}

// keySymbols is how many symbols fit a uint64 key: 31^12 < 2^63.
const keySymbols = 12

// NewGenerator validates spec and returns its generator.
func NewGenerator(spec Spec) (*Generator, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	return &Generator{spec: spec, prefix: Normalize(spec.Prefix), left: spec.Count, seen: newKeySet(spec.Count)}, nil
}

// Remaining is the number of codes of the count not handed out yet.
func (g *Generator) Remaining() int { return g.left }

// Next returns up to n more codes of the count (none once Count have been
// returned); every code differs from all the generator returned before.
func (g *Generator) Next(n int) ([]string, error) {
	n = min(n, g.left)
	codes, err := g.draw(n)
	g.left -= len(codes)
	return codes, err
}

// Replace returns n more unique codes outside the count: for codes the
// store already held, so the batch still adds up to Count.
func (g *Generator) Replace(n int) ([]string, error) { return g.draw(n) }

// draw returns n new unique codes. They share one backing string, so a
// batch costs a few allocations.
func (g *Generator) draw(n int) ([]string, error) {
	if n <= 0 {
		return nil, nil
	}
	size := len(g.prefix) + g.spec.Length
	buf := make([]byte, n*size)
	for i := range n {
		code := buf[i*size : (i+1)*size]
		copy(code, g.prefix)
		for {
			key, err := g.fill(code[len(g.prefix):])
			if err != nil {
				return nil, err
			}
			if g.seen.add(key) {
				break
			}
		}
	}
	all := string(buf)
	codes := make([]string, n)
	for i := range codes {
		codes[i] = all[i*size : (i+1)*size]
	}
	return codes, nil
}

// fill writes uniformly random symbols of Alphabet into dst and returns
// the key of the code: a random byte below 248 (8 × 31) is taken modulo
// 31; the other bytes are drawn again.
func (g *Generator) fill(dst []byte) (uint64, error) {
	const limit = 256 - 256%len(Alphabet)
	var key uint64
	for j := 0; j < len(dst); {
		if g.pos == len(g.rnd) {
			if g.rnd == nil {
				g.rnd = make([]byte, 64<<10)
			}
			if _, err := rand.Read(g.rnd); err != nil {
				return 0, fmt.Errorf("couponcode: reading random bytes: %w", err)
			}
			g.pos = 0
		}
		c := g.rnd[g.pos]
		g.pos++
		if int(c) >= limit {
			continue
		}
		v := int(c) % len(Alphabet)
		dst[j] = Alphabet[v]
		if j < keySymbols {
			key = key*uint64(len(Alphabet)) + uint64(v)
		}
		j++
	}
	return key, nil
}

// keySet is a set of code keys: an open-addressing table with linear
// probing, which adds a key with one probe into memory where a map takes
// a lookup and an insert (a million codes would spend most of their time
// waiting on the map's memory). It stores key+1, so 0 marks a free slot.
type keySet struct {
	slots []uint64
	n     int
	shift uint
}

func newKeySet(hint int) keySet {
	size, shift := 16, uint(60)
	for size < 2*hint {
		size, shift = size*2, shift-1
	}
	return keySet{slots: make([]uint64, size), shift: shift}
}

// add inserts key and reports whether it was new.
func (s *keySet) add(key uint64) bool {
	if 2*(s.n+1) > len(s.slots) {
		s.grow()
	}
	v := key + 1
	mask := uint64(len(s.slots) - 1)
	for i := (v * 0x9E3779B97F4A7C15) >> s.shift; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case 0:
			s.slots[i] = v
			s.n++
			return true
		case v:
			return false
		}
	}
}

// grow doubles the table.
func (s *keySet) grow() {
	old := s.slots
	s.slots, s.shift, s.n = make([]uint64, 2*len(old)), s.shift-1, 0
	for _, v := range old {
		if v != 0 {
			s.add(v - 1)
		}
	}
}
