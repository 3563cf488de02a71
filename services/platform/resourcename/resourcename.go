// Package resourcename parses and formats resource names (AIP-122) such as
// "customers/{customer_id}" or "customers/{customer_id}/scores": a pattern
// of "/"-separated segments, each a literal or a {variable} that matches
// one non-empty segment without "/".
//
// A name that does not match is a *fielderr.Error naming the request field
// that carried it, so it maps to INVALID_ARGUMENT like any other bad
// field. Checking what an id may contain is the domain's job. The package
// uses only the standard library.
package resourcename

import (
	"fmt"
	"strings"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

// Pattern is a compiled resource name pattern.
type Pattern struct {
	text     string
	segments []segment
	vars     int
}

// segment is a literal, or a variable when variable is set.
type segment struct {
	literal  string
	variable string
}

// MustCompile compiles pattern, such as "segments/{segment_id}". Variable
// names are snake_case; they word the error message ("a segment id"). It
// panics on a malformed pattern: patterns are constants of the program.
func MustCompile(pattern string) Pattern {
	p := Pattern{text: pattern}
	for _, s := range strings.Split(pattern, "/") {
		if v, ok := strings.CutPrefix(s, "{"); ok {
			v, ok = strings.CutSuffix(v, "}")
			if !ok || v == "" || strings.ContainsAny(v, "{}") {
				panic(fmt.Sprintf("resourcename: bad variable %q in pattern %q", s, pattern))
			}
			p.segments = append(p.segments, segment{variable: v})
			p.vars++
			continue
		}
		if s == "" || strings.ContainsAny(s, "{}") {
			panic(fmt.Sprintf("resourcename: bad segment %q in pattern %q", s, pattern))
		}
		p.segments = append(p.segments, segment{literal: s})
	}
	if p.vars == 0 {
		panic(fmt.Sprintf("resourcename: pattern %q has no variable", pattern))
	}
	return p
}

// String returns the pattern as written.
func (p Pattern) String() string { return p.text }

// Parse returns the values of the pattern's variables in name, in order.
// A name that does not match is a *fielderr.Error about field, the
// request field's path ("name", "segment.name", "parent").
func (p Pattern) Parse(field, name string) ([]string, error) {
	parts := strings.Split(name, "/")
	if len(parts) != len(p.segments) {
		return nil, p.mismatch(field, name)
	}
	ids := make([]string, 0, p.vars)
	for i, s := range p.segments {
		switch {
		case s.variable == "" && parts[i] != s.literal, s.variable != "" && parts[i] == "":
			return nil, p.mismatch(field, name)
		case s.variable != "":
			ids = append(ids, parts[i])
		}
	}
	return ids, nil
}

// ParseID is Parse for a pattern with one variable: its value in name.
func (p Pattern) ParseID(field, name string) (string, error) {
	if p.vars != 1 {
		panic(fmt.Sprintf("resourcename: ParseID on pattern %q with %d variables", p.text, p.vars))
	}
	ids, err := p.Parse(field, name)
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// Format returns the name with the pattern's variables set to ids, in
// order. It panics when the count of ids does not match: a programming
// error.
func (p Pattern) Format(ids ...string) string {
	// Names are short: built on the stack, they cost one allocation, the
	// string's.
	var buf [128]byte
	return string(p.Append(buf[:0], ids...))
}

// Append appends the name of ids to dst, as Format words it, for a caller
// that gathers many names and texts in one buffer.
func (p Pattern) Append(dst []byte, ids ...string) []byte {
	if len(ids) != p.vars {
		panic(fmt.Sprintf("resourcename: name of %q with %d ids, want %d", p.text, len(ids), p.vars))
	}
	for i, s := range p.segments {
		if i > 0 {
			dst = append(dst, '/')
		}
		if s.variable == "" {
			dst = append(dst, s.literal...)
			continue
		}
		dst = append(dst, ids[0]...)
		ids = ids[1:]
	}
	return dst
}

// mismatch is the error for a name that does not match: `must be
// "customers/" followed by a customer id, got "users/1"` when the only
// variable ends the pattern, else `must be "customers/{customer_id}/scores",
// got …`.
func (p Pattern) mismatch(field, name string) error {
	last := p.segments[len(p.segments)-1]
	if p.vars == 1 && last.variable != "" {
		prefix := strings.TrimSuffix(p.text, "{"+last.variable+"}")
		return fielderr.New(field, "must be %q followed by %s, got %s", prefix, article(words(last.variable)), fielderr.Quote(name))
	}
	return fielderr.New(field, "must be %q, got %s", p.text, fielderr.Quote(name))
}

// words turns a snake_case variable name into words: "customer id".
func words(v string) string { return strings.ReplaceAll(v, "_", " ") }

// article puts "a" or "an" before w.
func article(w string) string {
	if strings.ContainsRune("aeiou", rune(w[0])) {
		return "an " + w
	}
	return "a " + w
}
