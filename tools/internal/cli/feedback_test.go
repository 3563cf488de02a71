package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	feedbackv1 "github.com/tenurehq/tenure/gen/tenure/feedback/v1"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
)

// TestFeedbackCommands runs tickets list, show, run escalation and surveys
// report against the real services, over the gateway and over gRPC.
func TestFeedbackCommands(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{})
	startProfile(t, s)
	startSegmentation(t, s)
	startLoyalty(t, s) // the gateway is ready only with every backend
	addr := startFeedback(t, s)
	startPromotion(t, s)
	base := startGateway(t, s)
	conn, err := dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := feedbackv1.NewFeedbackServiceClient(conn)
	ctx := context.Background()
	if _, err := c.CreateSlaPolicy(ctx, &feedbackv1.CreateSlaPolicyRequest{PolicyId: "normal", Policy: &feedbackv1.SlaPolicy{
		Priority: feedbackv1.Priority_PRIORITY_NORMAL, FirstReplyTarget: durationpb.New(time.Hour),
		EscalationSteps: []*feedbackv1.EscalationStep{{StepId: "raise", Clock: feedbackv1.SlaClock_SLA_CLOCK_FIRST_REPLY, RaisePriority: true}}}}); err != nil {
		t.Fatal(err)
	}
	tk, err := c.CreateTicket(ctx, &feedbackv1.CreateTicketRequest{Ticket: &feedbackv1.Ticket{CustomerId: "c-9",
		Channel: feedbackv1.Channel_CHANNEL_EMAIL, Subject: "Where is my parcel", Body: "It is late"}})
	if err != nil {
		t.Fatal(err)
	}
	id := tk.GetTicket().GetTicketId()
	if _, err := c.CreateSurvey(ctx, &feedbackv1.CreateSurveyRequest{SurveyId: "nps", Survey: &feedbackv1.Survey{Kind: feedbackv1.SurveyKind_SURVEY_KIND_NPS}}); err != nil {
		t.Fatal(err)
	}
	for _, score := range []int32{10, 9, 3} {
		if _, err := c.SubmitSurveyResponse(ctx, &feedbackv1.SubmitSurveyResponseRequest{Parent: "surveys/nps",
			Response: &feedbackv1.SurveyResponse{CustomerId: "c-9", Score: score, Comment: "too slow"}}); err != nil {
			t.Fatal(err)
		}
	}
	ok := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := run(t, false, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s\n%s", args, code, stdout, stderr)
		}
		return stdout
	}
	gw, viaGRPC := []string{"--gateway", base}, []string{"--grpc", addr}

	out := ok(append([]string{"tickets", "list", "--customer", "c-9"}, gw...)...)
	if !strings.Contains(out, id) || !strings.Contains(out, "Where is my parcel") || strings.Count(out, "\n") != 3 {
		t.Errorf("tickets list:\n%s\nwant the customer's ticket and the survey's follow-up", out)
	}
	asOf := time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)
	out = ok(append([]string{"tickets", "run", "escalation", "--as-of", asOf}, viaGRPC...)...)
	if !strings.Contains(out, "succeeded") || !strings.Contains(out, "steps applied  2") {
		t.Errorf("run escalation:\n%s\nwant 2 steps (both tickets raised once)", out)
	}
	out = ok(append([]string{"tickets", "show", id}, gw...)...)
	for _, want := range []string{"priority        high", "escalation      raise", "first reply     active"} {
		if !strings.Contains(out, want) {
			t.Errorf("tickets show lacks %q:\n%s", want, out)
		}
	}
	out = ok(append([]string{"surveys", "report", "nps", "--output", "json"}, viaGRPC...)...)
	var rep struct {
		Overall struct {
			Responses string
			Score     float64
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Overall.Responses != "3" || rep.Overall.Score < 33.3 || rep.Overall.Score > 33.4 {
		t.Errorf("surveys report: %s (%v), want 3 answers and NPS 33.3", out, err)
	}
	out = ok(append([]string{"surveys", "report", "nps"}, gw...)...)
	if !strings.Contains(out, "detractor c-9 (3): too slow") {
		t.Errorf("surveys report text lacks the detractor's comment:\n%s", out)
	}
	if _, err := c.CreateSurvey(ctx, &feedbackv1.CreateSurveyRequest{SurveyId: "pulse", Survey: &feedbackv1.Survey{
		Kind: feedbackv1.SurveyKind_SURVEY_KIND_CSAT, Journey: "journeys/pulse"}}); err != nil {
		t.Fatal(err)
	}
	// No such journey in promotion: outreach refuses the invitations for good.
	out = ok(append([]string{"surveys", "send", "pulse", "--customers", "c-9,c-10", "--occurrence", "2026-q4"}, gw...)...)
	if !strings.Contains(out, "c-9") || !strings.Contains(out, "c-10") || strings.Count(out, "failed") != 2 {
		t.Errorf("surveys send:\n%s\nwant both customers' invitations, failed", out)
	}
	out = ok(append([]string{"surveys", "send", "pulse", "--customers", "c-9", "--occurrence", "2026-q4", "--output", "json"}, viaGRPC...)...)
	// protojson varies its spacing on purpose: look for the values alone.
	if !strings.Contains(out, `"demand:2026-q4"`) || !strings.Contains(out, "INVITATION_STATE_FAILED") {
		t.Errorf("surveys send again: %s, want the first invitation", out)
	}
	if code, _, stderr := run(t, false, "surveys", "send", "nps", "--customers", "c-9", "--occurrence", "q4", "--gateway", base); code != 1 ||
		!strings.Contains(stderr, "SURVEY_HAS_NO_JOURNEY") && !strings.Contains(stderr, "journey") {
		t.Errorf("surveys send nps: exit %d %q, want 1 saying it has no journey", code, stderr)
	}
	if code, _, _ := run(t, false, "surveys", "send", "pulse"); code != 2 {
		t.Errorf("surveys send without --customers: exit %d, want 2", code)
	}
	if code, _, stderr := run(t, false, "tickets", "run", "sweep"); code != 2 || !strings.Contains(stderr, "escalation") {
		t.Errorf("tickets run sweep: exit %d %q, want 2 naming the escalation job", code, stderr)
	}
}
