package app_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestJourneyLifecycleRoutes updates, pauses, resumes and deletes a
// journey, and reads a customer's messages and inbox, over HTTP.
func TestJourneyLifecycleRoutes(t *testing.T) {
	s := startStack(t, stackOptions{})
	body := `{"trigger":{"kind":"TRIGGER_KIND_FIRST_ORDER"},"channels":["OUTREACH_CHANNEL_IN_APP"],
		"templates":[{"channel":"OUTREACH_CHANNEL_IN_APP","subject":"Welcome","text":"Thanks"}]}`
	if code, b := s.do(t, http.MethodPost, "/v1/journeys?journeyId=welcome", strings.NewReader(body), nil); code != http.StatusOK {
		t.Fatalf("create journey = %d %s", code, b)
	}
	type journey struct {
		DisplayName string `json:"displayName"`
		State       string `json:"state"`
		Etag        string `json:"etag"`
	}
	type response struct {
		Journey journey `json:"journey"`
	}
	code, b := s.do(t, http.MethodPatch, "/v1/journeys/welcome?updateMask=display_name", strings.NewReader(`{"displayName":"Hello"}`), nil)
	if j := decode[response](t, b).Journey; code != http.StatusOK || j.DisplayName != "Hello" || j.State != "JOURNEY_STATE_ACTIVE" || j.Etag == "" {
		t.Fatalf("PATCH journey = %d %s", code, b)
	}
	etag := decode[response](t, b).Journey.Etag
	code, b = s.do(t, http.MethodPatch, "/v1/journeys/welcome?updateMask=display_name", strings.NewReader(`{"displayName":"x","etag":"\"1\""}`), nil)
	if st := decode[rpcStatus](t, b); code != http.StatusConflict || len(st.Details) == 0 || st.Details[0].Reason != "ETAG_MISMATCH" {
		t.Errorf("PATCH with a stale etag = %d %s", code, b)
	}
	// Without updateMask the mask is the body's fields; the etag only guards.
	code, b = s.do(t, http.MethodPatch, "/v1/journeys/welcome", strings.NewReader(`{"displayName":"Hi","etag":`+strconv.Quote(etag)+`}`), nil)
	if j := decode[response](t, b).Journey; code != http.StatusOK || j.DisplayName != "Hi" {
		t.Errorf("PATCH without updateMask = %d %s", code, b)
	}
	for _, step := range []struct{ method, path, state string }{
		{http.MethodPost, "/v1/journeys/welcome:pause", "JOURNEY_STATE_PAUSED"},
		{http.MethodPost, "/v1/journeys/welcome:resume", "JOURNEY_STATE_ACTIVE"},
		{http.MethodDelete, "/v1/journeys/welcome", "JOURNEY_STATE_DELETED"},
	} {
		var in io.Reader
		if step.method == http.MethodPost {
			in = strings.NewReader(`{}`)
		}
		code, b := s.do(t, step.method, step.path, in, nil)
		if j := decode[response](t, b).Journey; code != http.StatusOK || j.State != step.state {
			t.Errorf("%s %s = %d %s", step.method, step.path, code, b)
		}
	}
	code, b = s.do(t, http.MethodGet, "/v1/customers/ada/messages?state=MESSAGE_STATE_SENT&journey=journeys/welcome", nil, nil)
	if code != http.StatusOK || strings.ReplaceAll(string(b), " ", "") != `{"messages":[],"nextPageToken":""}` {
		t.Errorf("GET messages = %d %s", code, b)
	}
	code, b = s.do(t, http.MethodGet, "/v1/customers/ada/inbox?pageSize=10", nil, nil)
	if code != http.StatusOK || !strings.Contains(string(b), `"unreadCount":0`) {
		t.Errorf("GET inbox = %d %s", code, b)
	}
	code, b = s.do(t, http.MethodPost, "/v1/customers/ada/inbox/m1:markRead", strings.NewReader(`{}`), nil)
	if st := decode[rpcStatus](t, b); code != http.StatusNotFound || len(st.Details) == 0 || st.Details[0].Reason != "MESSAGE_NOT_FOUND" {
		t.Errorf("markRead of an unknown message = %d %s", code, b)
	}
}
