package feedback_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// platformStdlibOnly are the platform packages a domain package may import:
// they import only the standard library themselves.
var platformStdlibOnly = map[string]bool{
	"github.com/tenurehq/tenure/services/platform/fielderr":     true,
	"github.com/tenurehq/tenure/services/platform/paging":       true,
	"github.com/tenurehq/tenure/services/platform/resourcename": true,
}

// TestImportsOnlyStdlib: the domain's code imports only the standard
// library and the platform's standard-library-only packages; telemetry,
// protobuf and storage stay in app, grpcapi and store.
func TestImportsOnlyStdlib(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(path, "/")
			if strings.Contains(first, ".") && !platformStdlibOnly[path] {
				t.Errorf("%s imports %s; the domain imports only the standard library, fielderr, paging and resourcename", name, path)
			}
		}
	}
}
