// Package store implements segmentation's storage interfaces over SQL, one
// implementation for SQLite and PostgreSQL, with its schema migrations
// embedded.
package store

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

//go:embed migrations
var migrations embed.FS

// Store is the SQL implementation of segmentation's storage interfaces,
// one per aggregate.
type Store struct {
	db              *sqlstore.DB
	beforeCommit    BeforeCommitFunc
	changeRetention time.Duration
}

var (
	_ segmentation.InputStore     = (*Store)(nil)
	_ segmentation.SettingsStore  = (*Store)(nil)
	_ segmentation.SegmentStore   = (*Store)(nil)
	_ segmentation.OperationStore = (*Store)(nil)
	_ segmentation.ResultStore    = (*Store)(nil)
)

// BeforeCommitFunc is called by ApplyPage inside its transaction, after the
// mutations and the cursor are written and before the commit, with the
// page's range of sequences (from, to]. An error rolls the page back.
type BeforeCommitFunc func(ctx context.Context, tx *sql.Tx, from, to int64) error

// Option configures a Store.
type Option func(*Store)

// WithBeforeCommit installs fn as the ApplyPage hook. Tests use it to keep
// an apply log in the page's transaction and to inject failures.
func WithBeforeCommit(fn BeforeCommitFunc) Option { return func(s *Store) { s.beforeCommit = fn } }

// New returns a Store over db. Call Migrate before use.
func New(db *sqlstore.DB, opts ...Option) *Store {
	s := &Store{db: db}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Migrations returns the embedded schema migrations.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the embedded directory always exists
	}
	return sub
}

// Migrate applies the segmentation schema migrations.
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.db.Migrate(ctx, "segmentation", Migrations()); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return s.migrateIdempotency(ctx)
}

// nanos and fromNanos store timestamps as Unix nanoseconds, 0 for none.
var nanos, fromNanos = sqlstore.Nanos, sqlstore.FromNanos

func encodeList(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l) // []string always marshals
	return string(b)
}

func decodeList(s string) ([]string, error) {
	if s == "" || s == "[]" {
		return nil, nil
	}
	if l, ok := decodeSimpleList(s, nil); ok {
		return l, nil
	}
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, fmt.Errorf("store: decode list %q: %w", s, err)
	}
	return l, nil
}

// decodeSimpleList decodes the JSON array of strings encodeList writes
// when no string needs an escape (["a","b"], no spaces), interning the
// strings through in when it is not nil. It reports false for anything
// else, which encoding/json then decodes.
func decodeSimpleList(s string, in *interner) ([]string, bool) {
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return nil, false
	}
	body := s[1 : len(s)-1]
	if body == "" {
		return nil, true
	}
	l := make([]string, 0, strings.Count(body, `","`)+1)
	for {
		if len(body) < 2 || body[0] != '"' {
			return nil, false
		}
		end := strings.IndexByte(body[1:], '"') + 1
		if end == 0 {
			return nil, false
		}
		v := body[1:end]
		for i := 0; i < len(v); i++ {
			if v[i] == '\\' || v[i] < 0x20 {
				return nil, false
			}
		}
		if !utf8.ValidString(v) { // encoding/json would replace the bad bytes
			return nil, false
		}
		if in != nil {
			v = in.str(v)
		}
		l = append(l, v)
		body = body[end+1:]
		if body == "" {
			return l, true
		}
		if body[0] != ',' {
			return nil, false
		}
		body = body[1:]
	}
}

// interner shares the strings and string lists that repeat across
// customers (currencies, channels, categories, tags come from small
// vocabularies), so a million loaded customers do not hold millions of
// copies of the same few words. It stops adding entries at internLimit,
// bounding its own size when values turn out not to repeat.
type interner struct {
	strs  map[string]string
	lists map[string][]string
}

const internLimit = 1 << 16

func newInterner() *interner {
	return &interner{strs: map[string]string{}, lists: map[string][]string{}}
}

func (in *interner) str(s string) string {
	if v, ok := in.strs[s]; ok {
		return v
	}
	if len(in.strs) < internLimit {
		s = strings.Clone(s) // s may point into a larger column value
		in.strs[s] = s
	}
	return s
}

// list decodes the encoded list s. Lists with equal encodings share one
// backing array (clipped, so an append copies); callers must not modify
// the elements.
func (in *interner) list(s string) ([]string, error) {
	if s == "" || s == "[]" {
		return nil, nil
	}
	if l, ok := in.lists[s]; ok {
		return l, nil
	}
	l, ok := decodeSimpleList(s, in)
	if !ok {
		var err error
		if l, err = decodeList(s); err != nil {
			return nil, err
		}
		for i := range l {
			l[i] = in.str(l[i])
		}
	}
	l = slices.Clip(l)
	if len(in.lists) < internLimit {
		in.lists[s] = l
	}
	return l, nil
}

func (s *Store) q(query string) string { return s.db.Rebind(query) }

func (s *Store) forUpdate() string {
	if s.db.Dialect == sqlstore.Postgres {
		return " FOR UPDATE"
	}
	return ""
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}
