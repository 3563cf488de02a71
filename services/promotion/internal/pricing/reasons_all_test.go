package pricing

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strings"
	"testing"
)

// TestReasonsListsEveryReason checks Reasons against the constants
// declared in result.go, and that each is the upper-snake form of its name.
func TestReasonsListsEveryReason(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "result.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	ast.Inspect(f, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok {
			for _, name := range vs.Names {
				if strings.HasPrefix(name.Name, "Reason") {
					declared = append(declared, name.Name)
				}
			}
		}
		return true
	})
	all := Reasons()
	if len(all) != len(declared) {
		t.Fatalf("Reasons() has %d, result.go declares %d: %v", len(all), len(declared), declared)
	}
	for i, r := range all {
		if strings.ToUpper(string(r)) != string(r) || slices.Contains(all[:i], r) {
			t.Errorf("reason %q is not upper snake case or repeats", r)
		}
	}
}
