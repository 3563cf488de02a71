package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/auth"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
)

// expectedPoints is what the loyalty rules say about one customer of the
// Online Retail file under a programme of 1 point per GBP with nothing
// pending and no expiry: every accepted invoice earns floor(total) points
// (nothing for a total at or below zero), and every cancellation invoice,
// which names no order, reverses floor(amount) points.
type expectedPoints struct {
	earned, reversed int64
}

func independentPoints(t *testing.T, path string) map[string]*expectedPoints {
	t.Helper()
	invoices, _ := readRetailInvoices(t, path)
	out := map[string]*expectedPoints{}
	for no, inv := range invoices {
		e := out[inv.customer]
		if e == nil {
			e = &expectedPoints{}
			out[inv.customer] = e
		}
		switch {
		case strings.HasPrefix(no, "C"):
			e.reversed += max(-inv.net, 0) / 100
		default:
			e.earned += max(inv.net, 0) / 100
		}
	}
	return out
}

// getJSON reads a gateway route into out; false for 404.
func getJSON(t *testing.T, client *http.Client, url string, out any) bool {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode == http.StatusNotFound {
		return false
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d %s", url, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return true
}

// num reads a JSON int64 (a string, or absent for 0).
func num(t *testing.T, s string) int64 {
	t.Helper()
	if s == "" {
		return 0
	}
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatalf("number %q: %v", s, err)
	}
	return n
}

// TestLoyaltyOnlineRetail imports the Online Retail file through the
// gateway into the real profile service, lets the real loyalty service
// consume the log under the default programme (1 point per GBP, nothing
// pending, no expiry), and checks every customer through the gateway
// against the computation above: lifetime points are the sum of
// floor(total) over the customer's accepted invoices, the reversals are
// the cancellation invoices', and what is available is what is left.
func TestLoyaltyOnlineRetail(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 541,909 rows")
	}
	requireDataSet(t, onlineRetailFile)
	want := independentPoints(t, onlineRetailFile)
	// Hand-worked from the file: 12346 bought 74,215 × 1.04 = 77,183.60 and
	// cancelled it all; 12347's seven orders total 4,310.00 in pence but
	// floor per order: 711 + 475 + 636 + 382 + 584 + 1,294 + 224 = 4,306.
	if e := want["12346"]; e == nil || e.earned != 77183 || e.reversed != 77183 {
		t.Fatalf("independent computation of 12346: %+v", e)
	}
	if e := want["12347"]; e == nil || e.earned != 4306 || e.reversed != 0 {
		t.Fatalf("independent computation of 12347: %+v", e)
	}

	s := stacktest.Start(t, stacktest.Options{})
	paddr := startProfile(t, s)
	startSegmentation(t, s) // the gateway is ready only with every backend
	loy := startLoyalty(t, s)
	startFeedback(t, s)
	startPromotion(t, s)
	base := startGateway(t, s)
	start := time.Now()
	sum := importJSON(t, "--file", onlineRetailFile, "--gateway", base)
	t.Logf("import through the gateway: %d accepted, %d rejected in %.1f s", sum.Accepted, sum.Rejected, time.Since(start).Seconds())
	head := logHead(t, paddr)
	start = time.Now()
	waitConsumed(t, loy, head, 5*time.Minute)
	t.Logf("loyalty caught up to sequence %d %.1f s after the import", head, time.Since(start).Seconds())

	client := &http.Client{Timeout: time.Minute, Transport: auth.Transport{Key: stacktest.AdminKey()}}
	var members, totalEarned, totalReversed int64
	for id, e := range want {
		var m struct{ LifetimePoints, AvailablePoints string }
		if !getJSON(t, client, base+"/v1/members/"+id, &m) {
			if e.earned != 0 || e.reversed != 0 {
				t.Errorf("%s: no member, want %+v", id, e)
			}
			continue
		}
		members++
		var export struct {
			Entries []struct{ Type, Points, UnrecoveredPoints string }
		}
		getJSON(t, client, base+"/v1/members/"+id+":export", &export)
		var reversed, recovered int64
		for _, en := range export.Entries {
			if en.Type == "ENTRY_TYPE_REVERSE" {
				recovered -= num(t, en.Points)
				reversed += -num(t, en.Points) + num(t, en.UnrecoveredPoints)
			}
		}
		lifetime, available := num(t, m.LifetimePoints), num(t, m.AvailablePoints)
		if lifetime != e.earned || reversed != e.reversed || available != lifetime-recovered {
			t.Errorf("%s: lifetime %d, reversed %d, available %d; want %d, %d, %d", id, lifetime, reversed, available,
				e.earned, e.reversed, e.earned-recovered)
		}
		totalEarned += lifetime
		totalReversed += reversed
	}
	t.Logf("%d members, %d points earned, %d reversed", members, totalEarned, totalReversed)
	if members < 4339 {
		t.Errorf("%d members, want at least the 4,339 customers with an order", members)
	}
}
