// Package openapi serves the merged OpenAPI (Swagger 2.0) document generated
// from the protos into spec/ by `make generate`, and a browsable API
// reference (Swagger UI) that loads it.
package openapi

import (
	_ "embed"
	"net/http"

	"github.com/swaggest/swgui"
	"github.com/swaggest/swgui/v5emb"
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

// Reference serves Swagger UI reading the document at documentURL: the page
// at basePath and its assets (embedded in the swgui module) under
// basePath + "/". Both paths are absolute, e.g. "/openapi.json" and "/docs".
func Reference(documentURL, basePath string) http.Handler {
	return v5emb.NewHandlerWithConfig(swgui.Config{
		Title:       "Tenure API",
		SwaggerJSON: documentURL,
		BasePath:    basePath,
		// Show the request and response schemas (definitions), which swgui
		// hides by default.
		SettingsUI: map[string]string{"defaultModelsExpandDepth": "1"},
	})
}
