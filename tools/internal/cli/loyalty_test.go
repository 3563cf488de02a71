package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	loyaltyapp "github.com/tenurehq/tenure/services/loyalty/app"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
)

// startLoyalty runs the real loyalty service in s, on a fresh SQLite file,
// consuming the profile service found through etcd, without its job
// schedule.
func startLoyalty(tb testing.TB, s *stacktest.Stack) *loyaltyapp.App {
	tb.Helper()
	return s.Add(loyaltyapp.Component(func(c *loyaltyapp.Config, _ *loyaltyapp.Deps) {
		c.JobInterval = 0
	})).Runner.(*loyaltyapp.App)
}

// TestLoyaltyCommands runs the loyalty commands against the real services
// through the gateway, with the fixture imported under the default
// programme (1 point per GBP, nothing pending, no expiry):
//
//	70001: orders of 15.30 and 3.90 → 15 + 3 = 18 points.
//	70002: an order of 9.90 → 9; a cancellation of 4.95 (no order id)
//	       reverses floor(4.95) = 4 → 5 available.
//	70003: an order of 6.30 → 6 (800006 is rejected by profile).
func TestLoyaltyCommands(t *testing.T) {
	s := startFixtureStack(t)
	gw := []string{"--gateway", s.gateway}
	jsonOut := func(t *testing.T, out any, args ...string) {
		t.Helper()
		code, stdout, stderr := run(t, false, append(append(args, gw...), "--output", "json")...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s\n%s", args, code, stdout, stderr)
		}
		if err := json.Unmarshal([]byte(stdout), out); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, stdout)
		}
	}
	var m struct{ Tier, AvailablePoints, LifetimePoints string }
	for id, want := range map[string][2]string{"70001": {"18", "18"}, "70002": {"5", "9"}, "70003": {"6", "6"}} {
		jsonOut(t, &m, "loyalty", "show", id)
		if m.AvailablePoints != want[0] || m.LifetimePoints != want[1] || m.Tier != "member" {
			t.Errorf("%s = %+v, want available %s, lifetime %s", id, m, want[0], want[1])
		}
	}
	code, stdout, stderr := run(t, false, append([]string{"loyalty", "show", "70001"}, gw...)...)
	if code != 0 || !strings.Contains(stdout, "available") || !strings.Contains(stdout, "18") {
		t.Fatalf("show as text: exit %d\n%s\n%s", code, stdout, stderr)
	}

	var adj struct{ AvailablePoints string }
	jsonOut(t, &adj, "loyalty", "adjust", "70002", "--points", "-5", "--reason", "goodwill reversal")
	if adj.AvailablePoints != "" { // 0, which JSON leaves out
		t.Errorf("after adjusting -5: %+v", adj)
	}
	var ledger struct {
		Entries []struct{ Type, Points, Reason string }
	}
	jsonOut(t, &ledger, "loyalty", "ledger", "70002")
	if len(ledger.Entries) != 3 || ledger.Entries[0].Type != "ENTRY_TYPE_ADJUST" || ledger.Entries[0].Reason != "goodwill reversal" ||
		ledger.Entries[1].Type != "ENTRY_TYPE_REVERSE" || ledger.Entries[1].Points != "-4" || ledger.Entries[2].Points != "9" {
		t.Errorf("ledger of 70002 = %+v", ledger)
	}
	var rep struct {
		AvailablePoints string
		Months          []struct{ Month, Earned, Reversed string }
	}
	jsonOut(t, &rep, "loyalty", "report")
	if rep.AvailablePoints != "24" || len(rep.Months) == 0 {
		t.Errorf("report = %+v, want 18 + 0 + 6 available", rep)
	}
	var op struct{ State, MembersChanged string }
	jsonOut(t, &op, "loyalty", "run", "expire", "--as-of", "2012-01-01T00:00:00Z")
	if op.State != "OPERATION_STATE_SUCCEEDED" || op.MembersChanged != "" {
		t.Errorf("expire without expiry months = %+v, want nothing changed", op)
	}

	for _, bad := range [][]string{
		{"loyalty", "run", "sweep"},
		{"loyalty", "adjust", "70001", "--points", "5"},
		{"loyalty", "show"},
	} {
		if code, _, stderr := run(t, false, append(bad, gw...)...); code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", bad, code, stderr)
		}
	}
	if code, _, stderr := run(t, false, append([]string{"loyalty", "show", "nobody"}, gw...)...); code != 1 || !strings.Contains(stderr, "not found") {
		t.Errorf("unknown member: exit %d\n%s", code, stderr)
	}
}

// TestLoyaltyJSONRoutes checks the public JSON contract through the
// gateway: a PATCH of the programme without updateMask changes the fields
// sent, a redemption takes {"points","orderId","requestId"}, and bad input
// and missing points come back with their codes and reasons.
func TestLoyaltyJSONRoutes(t *testing.T) {
	s := startFixtureStack(t)
	do := func(method, path, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, s.gateway+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+stacktest.AdminKey())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := do(http.MethodPatch, "/v1/loyalty/programme", `{"pointsPerUnit":"2","pointValue":{"amountMinor":"5"}}`)
	if code != http.StatusOK || !strings.Contains(body, `"version":"1"`) || !strings.Contains(body, `"pointsPerUnit":"2"`) ||
		!strings.Contains(body, `"currencyCode":"GBP"`) || !strings.Contains(body, `"amountMinor":"5"`) {
		t.Fatalf("PATCH programme = %d %s", code, body)
	}
	code, body = do(http.MethodPost, "/v1/members/70001:redeemPoints", `{"points":10,"orderId":"o-1","requestId":"r-1"}`)
	if code != http.StatusOK || !strings.Contains(body, `"availablePoints":"8"`) || !strings.Contains(body, `"amountMinor":"50"`) {
		t.Fatalf("redeem = %d %s", code, body)
	}
	for _, tt := range []struct{ path, body, want string }{
		{"/v1/members/70001:redeemPoints", `{"points":9,"orderId":"o-2"}`, `"reason":"INSUFFICIENT_POINTS"`},
		{"/v1/members/70001:redeemPoints", `{"points":-1,"orderId":"o-2"}`, `"field":"points"`},
		{"/v1/members/70001:adjustPoints", `{"points":5,"operator":"ops"}`, `"field":"reason"`},
	} {
		code, body := do(http.MethodPost, tt.path, tt.body)
		if code != http.StatusBadRequest || !strings.Contains(body, tt.want) {
			t.Errorf("POST %s %s = %d %s, want 400 with %s", tt.path, tt.body, code, body, tt.want)
		}
	}
	if code, body := do(http.MethodPost, "/v1/members?memberId=new-1", `{}`); code != http.StatusOK || !strings.Contains(body, `"tier":"member"`) {
		t.Errorf("create member = %d %s", code, body)
	}
	if code, body := do(http.MethodPost, "/v1/loyalty:evaluateTiers", `{"asOfTime":"2012-01-01T00:00:00Z"}`); code != http.StatusOK ||
		!strings.Contains(body, "OPERATION_STATE_SUCCEEDED") {
		t.Errorf("evaluate tiers = %d %s", code, body)
	}
}
