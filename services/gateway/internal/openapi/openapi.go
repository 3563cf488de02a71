// Package openapi serves the merged OpenAPI (Swagger 2.0) document generated
// from the protos into spec/ by `make generate`.
package openapi

import (
	_ "embed"
	"net/http"
)

//go:embed spec/tenure.swagger.json
var document []byte

// Document returns a copy of the embedded OpenAPI document.
func Document() []byte {
	return append([]byte(nil), document...)
}

// Handler serves the document as application/json.
func Handler() http.Handler {
	doc := Document()
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
	})
}
