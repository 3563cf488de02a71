package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// apiCall sends a JSON request to the gateway at base with the admin key
// and decodes a 200 answer into out.
func apiCall(t *testing.T, method, base, path, body string, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+os.Getenv("TENURE_API_KEY"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.NewDecoder(bytes.NewReader(b)).Decode(out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

// tierMembers lists every member of a segmentation value tier.
func tierMembers(t *testing.T, base, tier string) []string {
	t.Helper()
	var all []string
	for token := ""; ; {
		var page struct {
			CustomerIds   []string
			NextPageToken string
		}
		apiCall(t, "GET", base, "/v1/tiers/"+tier+"/members?pageSize=1000&pageToken="+url.QueryEscape(token), "", &page)
		all = append(all, page.CustomerIds...)
		if token = page.NextPageToken; token == "" {
			return all
		}
	}
}

// holdoutReport is the part of a campaign report the holdout check reads.
type holdoutReport struct {
	Redemptions        string
	DiscountCost       struct{ AmountMinor string }
	Treatment, Control struct {
		Members, Converters, Orders string
		Revenue                     struct{ AmountMinor string }
	}
	LiftPoints         float64
	IncrementalRevenue struct{ AmountMinor string }
	Roi                float64
}

// checkRetailHoldout runs a win-back campaign with a 20 % holdout on the
// imported Online Retail customers of the at-risk value tier, through the
// gateway: the frozen audience is the tier's members; every member's cart
// tells which group they are in (IN_HOLDOUT or the discount); one
// treatment customer redeems; three treatment orders and one control order
// come through profile's log; the report's figures are then worked out by
// hand from those counts and amounts.
func checkRetailHoldout(t *testing.T, base string) {
	members := tierMembers(t, base, "at_risk")
	if len(members) < 100 {
		t.Fatalf("the at-risk tier has %d members, want the imported customers", len(members))
	}
	apiCall(t, "POST", base, "/v1/campaigns?campaignId=retail-winback", `{"objective":"OBJECTIVE_WIN_BACK","currencyCode":"GBP",
		"audience":{"valueTiers":["at_risk"]},"holdoutPercent":20,"marginPercent":40}`, nil)
	apiCall(t, "POST", base, "/v1/campaigns/retail-winback/promotions?promotionId=ten", `{"kind":"PROMOTION_KIND_AUTOMATIC",
		"stacking":"STACKING_STACKABLE","effect":{"percentOff":{"basisPoints":1000,"scope":"SCOPE_LINES"}}}`, nil)
	var camp struct{ FrozenAudienceSize string }
	apiCall(t, "POST", base, "/v1/campaigns/retail-winback:activate", `{}`, &camp)
	if camp.FrozenAudienceSize != fmt.Sprint(len(members)) {
		t.Fatalf("frozen audience = %s, want the tier's %d members", camp.FrozenAudienceSize, len(members))
	}

	cart := func(customer string) string {
		return `{"customerId":"` + customer + `","currencyCode":"GBP","lines":[{"lineId":"1","sku":"85123A","category":"home",
			"quantity":"2","unitPrice":{"currencyCode":"GBP","amountMinor":"2550"}}]}`
	}
	const ours = "campaigns/retail-winback/promotions/ten"
	var treatment, control []string
	for _, c := range members {
		var ev struct {
			Total      struct{ AmountMinor string }
			Applied    []struct{ Promotion string }
			NotApplied []struct{ Promotion, Reason string }
		}
		apiCall(t, "POST", base, "/v1/carts:evaluate", cart(c), &ev)
		var reason string
		for _, n := range ev.NotApplied {
			if n.Promotion == ours {
				reason = n.Reason
			}
		}
		switch {
		case ev.Total.AmountMinor == "4590" && len(ev.Applied) == 1 && ev.Applied[0].Promotion == ours:
			treatment = append(treatment, c)
		case ev.Total.AmountMinor == "5100" && len(ev.Applied) == 0 && reason == "IN_HOLDOUT":
			control = append(control, c)
		default:
			t.Fatalf("cart of member %s: %+v, want 10 %% off or IN_HOLDOUT", c, ev)
		}
	}
	t.Logf("at-risk tier: %d members, %d in the control group", len(members), len(control))
	share := float64(len(control)) / float64(len(members))
	if sd := math.Sqrt(0.2 * 0.8 / float64(len(members))); math.Abs(share-0.2) > 4*sd {
		t.Errorf("control group is %.3f of %d members, want about 0.20", share, len(members))
	}
	apiCall(t, "POST", base, "/v1/redemptions", `{"orderId":"rw-t0","cart":`+cart(treatment[0])+`}`, nil)

	now := time.Now().UTC().Format(time.RFC3339)
	order := func(id, customer string, total int64) string {
		return fmt.Sprintf(`{"eventId":"e-%s","customerId":%q,"occurredAt":%q,"orderPlaced":{"orderId":%q,
			"total":{"currencyCode":"GBP","amountMinor":"%d"}}}`, id, customer, now, id, total)
	}
	apiCall(t, "POST", base, "/v1/events:batchRecord", `{"events":[`+strings.Join([]string{
		order("rw-t0", treatment[0], 4590), order("rw-t1", treatment[1], 12000), order("rw-t2", treatment[2], 6000),
		order("rw-k0", control[0], 8000)}, ",")+`]}`, nil)

	var rep holdoutReport
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		apiCall(t, "GET", base, "/v1/campaigns/retail-winback/report", "", &rep)
		if rep.Treatment.Orders == "3" && rep.Control.Orders == "1" || time.Now().After(deadline) {
			break
		}
	}
	nT, nC := float64(len(treatment)), float64(len(control))
	// By hand: treatment converts 3 of nT for 22590, control 1 of nC for
	// 8000; the incremental revenue is 22590 − 8000 × nT ÷ nC (half up);
	// ROI is that at a 40 % margin less the 510 discount, over 510.
	incr := 22590 - int64(math.Floor(8000*nT/nC+0.5))
	roi := (float64(incr)*0.4 - 510) / 510
	if rep.Redemptions != "1" || rep.DiscountCost.AmountMinor != "510" ||
		rep.Treatment.Members != fmt.Sprint(len(treatment)) || rep.Treatment.Converters != "3" || rep.Treatment.Orders != "3" ||
		rep.Treatment.Revenue.AmountMinor != "22590" || rep.Control.Members != fmt.Sprint(len(control)) ||
		rep.Control.Converters != "1" || rep.Control.Revenue.AmountMinor != "8000" ||
		math.Abs(rep.LiftPoints-(3/nT-1/nC)*100) > 1e-9 || rep.IncrementalRevenue.AmountMinor != fmt.Sprint(incr) ||
		math.Abs(rep.Roi-roi) > 1e-9 {
		t.Fatalf("report = %+v; want 3 of %v treatment converters, 1 of %v control, incremental %d, ROI %v", rep, nT, nC, incr, roi)
	}
}
