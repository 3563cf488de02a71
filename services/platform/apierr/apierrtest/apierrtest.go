// Package apierrtest checks a service's error table against its domain
// package and its ErrorReason enum, so that a new sentinel error without a
// rule, or a reason nobody gives, fails the service's tests.
package apierrtest

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tenurehq/tenure/services/platform/apierr"
	"github.com/tenurehq/tenure/services/platform/fielderr"
)

// Case is what one sentinel error maps to.
type Case struct {
	Err    error
	Code   codes.Code
	Reason string
}

// sentinels returns the names of the exported package-level variables named
// Err… that the Go package in dir declares (test files aside), sorted.
func sentinels(t testing.TB, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in %s (%v)", dir, err)
	}
	fset := token.NewFileSet()
	var names []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		names = append(names, errVars(f)...)
	}
	slices.Sort(names)
	return names
}

func errVars(f *ast.File) []string {
	var names []string
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.VAR {
			continue
		}
		for _, spec := range gd.Specs {
			for _, n := range spec.(*ast.ValueSpec).Names {
				if n.IsExported() && strings.HasPrefix(n.Name, "Err") {
					names = append(names, n.Name)
				}
			}
		}
	}
	return names
}

// CheckTable checks a service's error table:
//   - want has a Case for every sentinel of the domain package in dir
//     (exported package-level variables named Err…, test files aside),
//     and for nothing else;
//   - each Case's Err, wrapped, maps to its Code and an ErrorInfo with its
//     Reason in the table's Domain;
//   - every reason a rule gives is a value of the ErrorReason enum
//     (reasons is its generated name-to-number map), and every value but
//     the zero one is given by a rule or by the platform's mapping of a bad
//     argument (INVALID_ARGUMENT).
func CheckTable(t *testing.T, table *apierr.Table, dir string, want map[string]Case, reasons map[string]int32) {
	t.Helper()
	names := sentinels(t, dir)
	for _, n := range names {
		if _, ok := want[n]; !ok {
			t.Errorf("sentinel %s has no case: give it a rule in the error table and a case in this test", n)
		}
	}
	for n := range want {
		if !slices.Contains(names, n) {
			t.Errorf("case %s names no sentinel of %s", n, dir)
		}
	}
	for n, c := range want {
		t.Run(n, func(t *testing.T) { checkCase(t, table, c) })
	}
	checkReasons(t, table, reasons)
}

func checkCase(t *testing.T, table *apierr.Table, c Case) {
	st := table.Status(context.Background(), fmt.Errorf("wrapped: %w", c.Err))
	if st.Code() != c.Code {
		t.Errorf("code = %v, want %v", st.Code(), c.Code)
	}
	if r, d := info(st); r != c.Reason || d != table.Domain {
		t.Errorf("ErrorInfo = %s/%s, want %s/%s", r, d, c.Reason, table.Domain)
	}
}

func checkReasons(t *testing.T, table *apierr.Table, reasons map[string]int32) {
	used := map[string]bool{}
	for _, r := range table.Rules {
		if _, ok := reasons[r.Reason]; !ok {
			t.Errorf("rule for %v gives reason %q, which is not a value of the ErrorReason enum", r.Err, r.Reason)
		}
		used[r.Reason] = true
	}
	generic, _ := info(table.Status(context.Background(), fielderr.New("field", "is bad")))
	used[generic] = true
	for name, n := range reasons {
		if n != 0 && !used[name] {
			t.Errorf("ErrorReason %s is given by no rule: map a sentinel to it, or deprecate it", name)
		}
	}
}

func info(st *status.Status) (reason, domain string) {
	for _, d := range st.Details() {
		if i, ok := d.(*errdetails.ErrorInfo); ok {
			return i.GetReason(), i.GetDomain()
		}
	}
	return "", ""
}
