package app_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestJourneyRoutes creates a journey and previews its message over HTTP.
func TestJourneyRoutes(t *testing.T) {
	s := startStack(t, stackOptions{})
	body := `{"displayName":"Welcome","trigger":{"kind":"TRIGGER_KIND_FIRST_ORDER"},"channels":["OUTREACH_CHANNEL_EMAIL"],
		"templates":[{"channel":"OUTREACH_CHANNEL_EMAIL","subject":"Welcome, {{.Customer.FirstName}}","text":"Thanks"}]}`
	code, b := s.do(t, http.MethodPost, "/v1/journeys?journeyId=welcome", strings.NewReader(body), nil)
	if code != http.StatusOK || !strings.Contains(string(b), `"name":"journeys/welcome"`) {
		t.Fatalf("create journey = %d %s", code, b)
	}
	code, b = s.do(t, http.MethodPost, "/v1/journeys/welcome:preview", strings.NewReader(`{"channel":"OUTREACH_CHANNEL_EMAIL"}`), nil)
	if code != http.StatusOK || decode[map[string]string](t, b)["subject"] != "Welcome, Ada" {
		t.Fatalf("preview = %d %s", code, b)
	}
	code, b = s.do(t, http.MethodGet, "/v1/journeys/nope", nil, nil)
	if st := decode[rpcStatus](t, b); code != http.StatusNotFound || len(st.Details) == 0 || st.Details[0].Reason != "JOURNEY_NOT_FOUND" {
		t.Errorf("GET unknown journey = %d %s", code, b)
	}
}
