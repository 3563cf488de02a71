package sqlstore_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
)

// FuzzRebind checks Rebind against a separate reading of PostgreSQL's
// lexical rules: the output is the input with exactly the '?' outside
// quoted literals, quoted identifiers and comments replaced by $1, $2, …
// in order, and every other byte unchanged. SQLite queries pass unchanged.
func FuzzRebind(f *testing.F) {
	for _, q := range []string{
		"SELECT * FROM t WHERE a = ? AND b IN (?, ?)",
		"SELECT '?', ? FROM t WHERE c = 'it''s?'",
		`SELECT "a?b", "x""?" FROM t WHERE x = ?`,
		"SELECT ? -- why?\nFROM t WHERE y = ?",
		"SELECT ? /* why? */ FROM t WHERE y = ?",
		"SELECT /* outer /* inner ? */ still ? */ ?",
		"SELECT 'unterminated ?",
		"SELECT ? -- no newline ?",
		"SELECT $1, ?",
	} {
		f.Add(q)
	}
	pg := &sqlstore.DB{Dialect: sqlstore.Postgres}
	lite := &sqlstore.DB{Dialect: sqlstore.SQLite}
	f.Fuzz(func(t *testing.T, query string) {
		if got := lite.Rebind(query); got != query {
			t.Fatalf("sqlite: Rebind(%q) = %q, want it unchanged", query, got)
		}
		want := numbered(query, placeholders(query))
		if got := pg.Rebind(query); got != want {
			t.Fatalf("postgres: Rebind(%q)\n got %q\nwant %q", query, got, want)
		}
	})
}

// placeholders returns the offsets of the '?' in query that PostgreSQL
// would see as code: not inside '…' or "…" (a doubled quote escapes
// itself), nor a "--" comment (to the end of the line), nor a /* */
// comment (which nests).
func placeholders(query string) []int {
	const (
		code = iota
		literal
		identifier
		lineComment
		blockComment
	)
	state, depth := code, 0
	var out []int
	for i := 0; i < len(query); i++ {
		c, next := query[i], byte(0)
		if i+1 < len(query) {
			next = query[i+1]
		}
		switch state {
		case code:
			switch {
			case c == '\'':
				state = literal
			case c == '"':
				state = identifier
			case c == '-' && next == '-':
				state = lineComment
				i++
			case c == '/' && next == '*':
				state, depth = blockComment, 1
				i++
			case c == '?':
				out = append(out, i)
			}
		case literal, identifier:
			quote := byte('\'')
			if state == identifier {
				quote = '"'
			}
			if c == quote && next == quote {
				i++
			} else if c == quote {
				state = code
			}
		case lineComment:
			if c == '\n' {
				state = code
			}
		case blockComment:
			switch {
			case c == '/' && next == '*':
				depth++
				i++
			case c == '*' && next == '/':
				depth--
				i++
				if depth == 0 {
					state = code
				}
			}
		}
	}
	return out
}

// numbered replaces the bytes of query at offsets (each a '?') with $1,
// $2, … in order.
func numbered(query string, offsets []int) string {
	var b strings.Builder
	last := 0
	for n, at := range offsets {
		b.WriteString(query[last:at])
		b.WriteString("$" + strconv.Itoa(n+1))
		last = at + 1
	}
	b.WriteString(query[last:])
	return b.String()
}
