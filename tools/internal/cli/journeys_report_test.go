package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	"google.golang.org/grpc"
)

// TestJourneysReport prints a new journey's report through the gateway,
// with the default and a given attribution window, as text and JSON, and
// fails for an unknown journey.
func TestJourneysReport(t *testing.T) {
	conn, gw := startPromotionStack(t)
	out := promotionv1.NewOutreachServiceClient(conn)
	if _, err := out.CreateJourney(context.Background(), &promotionv1.CreateJourneyRequest{JourneyId: "welcome", Journey: &promotionv1.Journey{
		Trigger:   &promotionv1.JourneyTrigger{Kind: promotionv1.TriggerKind_TRIGGER_KIND_FIRST_ORDER},
		Channels:  []promotionv1.OutreachChannel{promotionv1.OutreachChannel_OUTREACH_CHANNEL_IN_APP},
		Templates: []*promotionv1.MessageTemplate{{Channel: promotionv1.OutreachChannel_OUTREACH_CHANNEL_IN_APP, Text: "Welcome"}},
	}}); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, false, append([]string{"journeys", "report", "welcome"}, gw...)...)
	if code != 0 || !strings.Contains(stdout, "attribution window  168h0m0s") || !strings.Contains(stdout, "triggered           0") ||
		!strings.Contains(stdout, "treatment           0 messages") || strings.Contains(stdout, "control") {
		t.Fatalf("journeys report: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = run(t, false, append([]string{"journeys", "report", "welcome", "--window", "72h", "--output", "json"}, gw...)...)
	var js map[string]any
	if err := json.Unmarshal([]byte(stdout), &js); code != 0 || err != nil || js["attributionWindow"] != "259200s" || js["name"] != "journeys/welcome" {
		t.Fatalf("journeys report --window 72h --output json: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, _, stderr = run(t, false, append([]string{"journeys", "report", "welcome", "--window", "2400h"}, gw...)...)
	if code != 1 || !strings.Contains(stderr, "attribution_window") {
		t.Fatalf("a 100-day window: exit %d\n%s", code, stderr)
	}
	code, _, stderr = run(t, false, append([]string{"journeys", "report", "nope"}, gw...)...)
	if code != 1 || !strings.Contains(stderr, "journey not found") {
		t.Fatalf("report of an unknown journey: exit %d\n%s", code, stderr)
	}
	if code, _, _ := run(t, false, "journeys", "report"); code != 2 {
		t.Fatalf("journeys report without an id: exit %d, want 2", code)
	}
}

// startPromotionStack starts every service and the gateway, and returns a
// gRPC connection to promotion and the --gateway flag of the commands.
func startPromotionStack(t *testing.T) (*grpc.ClientConn, []string) {
	t.Helper()
	s := stacktest.Start(t, stacktest.Options{})
	startProfile(t, s)
	startSegmentation(t, s)
	startLoyalty(t, s)
	startFeedback(t, s) // the gateway is ready only with every backend
	conn, err := dial(startPromotion(t, s))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, []string{"--gateway", startGateway(t, s)}
}
