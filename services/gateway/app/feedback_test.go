package app_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestDetractorClosedLoop, end to end through the gateway over HTTP: a
// detractor's survey answer opens a follow-up ticket that a classification
// rule routes, and the ticket is a service_contacted event in the
// customer's profile.
func TestDetractorClosedLoop(t *testing.T) {
	s := startStack(t, stackOptions{})
	waitReady(t, s, http.StatusOK)
	post := func(path, body string) []byte {
		t.Helper()
		code, b := s.do(t, http.MethodPost, path, strings.NewReader(body), nil)
		if code != http.StatusOK {
			t.Fatalf("POST %s = %d %s", path, code, b)
		}
		return b
	}
	post("/v1/classificationRules?ruleId=late-delivery", `{"keywords":["迟到","ＬＡＴＥ"],"setQueue":"logistics","setPriority":"PRIORITY_HIGH","addTags":["delivery"]}`)
	post("/v1/surveys?surveyId=after-delivery", `{"kind":"SURVEY_KIND_NPS","trigger":"SURVEY_TRIGGER_ORDER_DELIVERED","journey":"journeys/delivery-survey"}`)
	resp := decode[struct {
		Name           string
		FollowUpTicket string
		Score          int
	}](t, post("/v1/surveys/after-delivery/responses", `{"customerId":"c-77","score":2,"comment":"包裹迟到了三天 — late again"}`))
	if resp.Score != 2 || !strings.HasPrefix(resp.FollowUpTicket, "tickets/") {
		t.Fatalf("response %+v, want score 2 with a follow-up ticket", resp)
	}

	code, b := s.do(t, http.MethodGet, "/v1/"+resp.FollowUpTicket, nil, nil)
	tk := decode[struct {
		Queue, Priority, Type, SurveyResponse, TicketID string
		Tags, MatchedRules                              []string
	}](t, b)
	if code != http.StatusOK || tk.Queue != "logistics" || tk.Priority != "PRIORITY_HIGH" || tk.Type != "TICKET_TYPE_COMPLAINT" ||
		tk.SurveyResponse != resp.Name || len(tk.MatchedRules) != 1 || tk.MatchedRules[0] != "late-delivery" {
		t.Fatalf("GET ticket = %d %s; want a high-priority complaint in logistics, routed by late-delivery", code, b)
	}

	code, b = s.do(t, http.MethodGet, "/v1/customers/c-77/events", nil, nil)
	events := decode[struct {
		Events []struct {
			EventID          string
			ServiceContacted *struct{ Channel, Topic string }
		}
	}](t, b)
	if code != http.StatusOK || len(events.Events) != 1 || events.Events[0].EventID != "feedback-ticket-"+tk.TicketID ||
		events.Events[0].ServiceContacted == nil || events.Events[0].ServiceContacted.Topic != "complaint" {
		t.Fatalf("GET events = %d %s; want the ticket's service_contacted event", code, b)
	}

	code, b = s.do(t, http.MethodGet, "/v1/surveys/after-delivery/report", nil, nil)
	rep := decode[struct {
		Overall struct {
			Responses, Detractors string
			Score                 float64
		}
	}](t, b)
	if code != http.StatusOK || rep.Overall.Responses != "1" || rep.Overall.Detractors != "1" || rep.Overall.Score != -100 {
		t.Fatalf("GET report = %d %s; want one detractor, NPS -100", code, b)
	}
}
