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

// TestSendJourneyMessageRoute sends an API-triggered journey's message
// over HTTP: once per occurrence id, refused without its variables or for
// a journey with another trigger.
func TestSendJourneyMessageRoute(t *testing.T) {
	s := startStack(t, stackOptions{})
	journeys := map[string]string{
		"survey": `{"trigger":{"kind":"TRIGGER_KIND_API"},"channels":["OUTREACH_CHANNEL_WEBHOOK"],"variables":["survey_url"],
			"templates":[{"channel":"OUTREACH_CHANNEL_WEBHOOK","text":"Tell us: {{.Vars.survey_url}}"}]}`,
		"welcome": `{"trigger":{"kind":"TRIGGER_KIND_FIRST_ORDER"},"channels":["OUTREACH_CHANNEL_EMAIL"],
			"templates":[{"channel":"OUTREACH_CHANNEL_EMAIL","subject":"Welcome"}]}`,
	}
	for id, body := range journeys {
		if code, b := s.do(t, http.MethodPost, "/v1/journeys?journeyId="+id, strings.NewReader(body), nil); code != http.StatusOK {
			t.Fatalf("create journey %s = %d %s", id, code, b)
		}
	}
	send := `{"customerId":"c-1","occurrenceId":"order:o-1","variables":{"survey_url":"https://s.example/1"}}`
	var first string
	for i, created := range []bool{true, false} {
		code, b := s.do(t, http.MethodPost, "/v1/journeys/survey:send", strings.NewReader(send), nil)
		got := decode[struct {
			Message struct{ Name string }
			Created bool
		}](t, b)
		if code != http.StatusOK || got.Created != created || (i == 1 && got.Message.Name != first) {
			t.Fatalf("send %d = %d %s; want created %v", i+1, code, b, created)
		}
		first = got.Message.Name
	}
	for _, c := range []struct {
		path, body string
		code       int
		reason     string
	}{
		{"/v1/journeys/survey:send", `{"customerId":"c-1","occurrenceId":"x"}`, http.StatusBadRequest, "MISSING_VARIABLES"},
		{"/v1/journeys/welcome:send", `{"customerId":"c-1","occurrenceId":"x"}`, http.StatusBadRequest, "JOURNEY_NOT_API_TRIGGERED"},
		{"/v1/journeys/nope:send", `{"customerId":"c-1","occurrenceId":"x"}`, http.StatusNotFound, "JOURNEY_NOT_FOUND"},
	} {
		code, b := s.do(t, http.MethodPost, c.path, strings.NewReader(c.body), nil)
		if st := decode[rpcStatus](t, b); code != c.code || len(st.Details) == 0 || st.Details[0].Reason != c.reason {
			t.Errorf("POST %s %s = %d %s; want %d %s", c.path, c.body, code, b, c.code, c.reason)
		}
	}
}
