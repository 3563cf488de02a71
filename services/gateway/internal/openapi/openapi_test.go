package openapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tenurehq/tenure/services/gateway/internal/openapi"
)

func TestHandler(t *testing.T) {
	rec := httptest.NewRecorder()
	openapi.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("got %d %q, want 200 application/json", rec.Code, rec.Header().Get("Content-Type"))
	}
	var doc struct {
		Swagger string          `json:"swagger"`
		Paths   json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("document is not JSON: %v", err)
	}
	if doc.Swagger != "2.0" || doc.Paths == nil {
		t.Errorf("swagger %q with paths %v, want a Swagger 2.0 document", doc.Swagger, doc.Paths != nil)
	}
}
