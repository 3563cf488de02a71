package feedback

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

func fieldOf(err error) string {
	var fe *fielderr.Error
	if err == nil {
		return ""
	}
	if !errors.As(err, &fe) {
		return "not a field error: " + err.Error()
	}
	return fe.Path
}

func TestInvitationIDs(t *testing.T) {
	seen := map[string]string{}
	for _, k := range [][3]string{{"nps", "c-1", "order:o-1"}, {"nps", "c-1", "order:o-2"}, {"nps", "c-2", "order:o-1"},
		{"csat", "c-1", "order:o-1"}, {"nps", "c-1", "ticket:o-1"}, {"nps", "c-1o", "rder:o-1"}} {
		id := InvitationID(k[0], k[1], k[2])
		if len(id) != 32 {
			t.Errorf("InvitationID%v = %q, want 32 hex digits", k, id)
		}
		if other, dup := seen[id]; dup {
			t.Errorf("InvitationID%v = InvitationID of %s", k, other)
		}
		seen[id] = fmt.Sprint(k)
	}
	if InvitationID("nps", "c-1", "order:o-1") != InvitationID("nps", "c-1", "order:o-1") {
		t.Error("InvitationID is not stable")
	}
}

func TestInvitationVars(t *testing.T) {
	sv := &Survey{ID: "delivery", InvitationDelay: time.Hour}
	at := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	inv := NewInvitation(sv, "c 1&x", OrderOccurrence("o-77"), at, at)
	if !inv.Due.Equal(at.Add(time.Hour)) || inv.State != InvitationPending {
		t.Errorf("new invitation: due %s state %s, want an hour later and pending", inv.Due, inv.State)
	}
	want := map[string]string{
		"survey_url": "https://shop.example.com/surveys/delivery?customer=c+1%26x&invitation=" + inv.ID,
		"survey_id":  "delivery", "order_id": "o-77", "ticket_id": "",
	}
	if got := inv.Vars("https://shop.example.com/surveys/"); !reflect.DeepEqual(got, want) {
		t.Errorf("Vars: got %v\nwant %v", got, want)
	}
	ticket := NewInvitation(sv, "c-1", TicketOccurrence("t-9"), at, at).Vars(DefaultLinkBase)
	if ticket["ticket_id"] != "t-9" || ticket["order_id"] != "" {
		t.Errorf("ticket invitation vars: %v", ticket)
	}
}

func TestInvitationAfter(t *testing.T) {
	at := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	inv := NewInvitation(&Survey{ID: "s"}, "c-1", DemandOccurrence("q4"), at, at)
	retry := at.Add(time.Minute)
	tests := []struct {
		name  string
		msg   string
		err   error
		state InvitationState
		due   time.Time
	}{
		{"sent", "m-1", nil, InvitationSent, at},
		{"unavailable", "", errors.New("no replica"), InvitationPending, retry},
		{"refused", "", &RefusedError{Err: errors.New("journey not found")}, InvitationFailed, at},
		{"refused, wrapped", "", fmt.Errorf("call: %w", &RefusedError{Err: errors.New("x")}), InvitationFailed, at},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := inv.After(tt.msg, tt.err, retry, at.Add(time.Second))
			if got.State != tt.state || got.Attempts != 1 || !got.Due.Equal(tt.due) || got.Message != tt.msg {
				t.Errorf("got %s, attempt %d, due %s, message %q; want %s, 1, %s, %q", got.State, got.Attempts, got.Due, got.Message,
					tt.state, tt.due, tt.msg)
			}
		})
	}
}

func TestCheckSendSurvey(t *testing.T) {
	many := make([]string, MaxInviteCustomers+1)
	for i := range many {
		many[i] = fmt.Sprint("c-", i)
	}
	tests := []struct {
		name       string
		customers  []string
		occurrence string
		path       string
	}{
		{"valid", []string{"c-1", "c-2"}, "2026-q4", ""},
		{"no customers", nil, "2026-q4", "customer_ids"},
		{"too many", many, "2026-q4", "customer_ids"},
		{"empty customer", []string{"c-1", ""}, "2026-q4", "customer_ids[1]"},
		{"no occurrence", []string{"c-1"}, "", "occurrence_id"},
		{"control character", []string{"c-1"}, "q4\n", "occurrence_id"},
		{"long occurrence", []string{"c-1"}, strings.Repeat("q", MaxOccurrenceID+1), "occurrence_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fieldOf(checkSendSurvey(tt.customers, tt.occurrence)); got != tt.path {
				t.Errorf("got %q, want %q", got, tt.path)
			}
		})
	}
}

func TestSurveyInvitationRules(t *testing.T) {
	tests := []struct {
		name string
		sv   Survey
		path string
	}{
		{"on demand without journey", Survey{Trigger: "on_demand"}, ""},
		{"delivery with journey", Survey{Trigger: "order_delivered", Journey: "delivery-survey", InvitationDelay: 24 * time.Hour}, ""},
		{"delivery without journey", Survey{Trigger: "order_delivered"}, "survey.journey"},
		{"ticket without journey", Survey{Trigger: "ticket_solved"}, "survey.journey"},
		{"bad journey id", Survey{Trigger: "on_demand", Journey: "Delivery_Survey"}, "survey.journey"},
		{"negative delay", Survey{Trigger: "on_demand", InvitationDelay: -time.Second}, "survey.invitation_delay"},
		{"delay over 30 days", Survey{Trigger: "on_demand", InvitationDelay: MaxInvitationDelay + time.Second}, "survey.invitation_delay"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fieldOf(tt.sv.checkInvitations()); got != tt.path {
				t.Errorf("got %q, want %q", got, tt.path)
			}
		})
	}
}
