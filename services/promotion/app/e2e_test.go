package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"testing"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	gatewayapp "github.com/tenurehq/tenure/services/gateway/app"
	loyaltyapp "github.com/tenurehq/tenure/services/loyalty/app"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	profileapp "github.com/tenurehq/tenure/services/profile/app"
	"github.com/tenurehq/tenure/services/promotion/app"
	"github.com/tenurehq/tenure/services/promotion/internal/attribution"
	segmentationapp "github.com/tenurehq/tenure/services/segmentation/app"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// gatewayCall sends a JSON request through the gateway and decodes the
// answer into out, failing on any status but 200.
func gatewayCall(t *testing.T, method, url, body string, out any) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", stacktest.AuthHeader())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, url, err, b)
		}
	}
}

// TestHoldoutEndToEnd runs profile, segmentation, loyalty, promotion and
// the gateway: a campaign for a static segment of 20 customers with a 50 %
// holdout, priced and redeemed through the gateway, a few orders through
// profile's log, and the report checked against figures worked out by
// hand.
func TestHoldoutEndToEnd(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{})
	p := s.Add(profileapp.Component(nil))
	seg := s.Add(segmentationapp.Component(nil))
	s.Add(loyaltyapp.Component(func(c *loyaltyapp.Config, _ *loyaltyapp.Deps) { c.JobInterval = 0 }))
	pr := s.Add(app.Component(nil))
	gw := "http://" + s.Add(gatewayapp.Component(nil)).Addr()
	f := &fixture{profile: profilev1.NewProfileServiceClient(stacktest.Dial(t, p.Addr())), app: pr.Runner.(*app.App)}
	segs := segmentationv1.NewSegmentationServiceClient(stacktest.Dial(t, seg.Addr()))

	var customers []string
	for i := range 20 {
		customers = append(customers, fmt.Sprintf("c%02d", i))
	}
	if _, err := segs.CreateSegment(ctx, &segmentationv1.CreateSegmentRequest{SegmentId: "vip",
		Segment: &segmentationv1.Segment{Kind: segmentationv1.SegmentKind_SEGMENT_KIND_STATIC}}); err != nil {
		t.Fatal(err)
	}
	if _, err := segs.AddSegmentMembers(ctx, &segmentationv1.AddSegmentMembersRequest{Segment: "segments/vip", CustomerIds: customers}); err != nil {
		t.Fatal(err)
	}
	gatewayCall(t, "POST", gw+"/v1/campaigns?campaignId=hold", `{"objective":"OBJECTIVE_WIN_BACK","currencyCode":"GBP",
		"audience":{"segments":["vip"]},"holdoutPercent":50,"marginPercent":40}`, nil)
	gatewayCall(t, "POST", gw+"/v1/campaigns/hold/promotions?promotionId=ten", `{"kind":"PROMOTION_KIND_AUTOMATIC",
		"stacking":"STACKING_STACKABLE","effect":{"percentOff":{"basisPoints":1000,"scope":"SCOPE_LINES"}}}`, nil)
	var camp struct{ FrozenAudienceSize string }
	gatewayCall(t, "POST", gw+"/v1/campaigns/hold:activate", `{}`, &camp)
	if camp.FrozenAudienceSize != "20" {
		t.Fatalf("frozen audience = %s, want 20", camp.FrozenAudienceSize)
	}

	// The groups, by the documented hash.
	var treatment, control []string
	for _, c := range customers {
		if attribution.InHoldout("hold", c, 50) {
			control = append(control, c)
		} else {
			treatment = append(treatment, c)
		}
	}
	if len(treatment) < 3 || len(control) < 1 {
		t.Fatalf("groups %v / %v are too small for this test", treatment, control)
	}
	cartJSON := func(customer string) string {
		return `{"customerId":"` + customer + `","currencyCode":"GBP","lines":[{"lineId":"1","sku":"MUG","category":"kitchen",
			"quantity":"1","unitPrice":{"currencyCode":"GBP","amountMinor":"10000"}}]}`
	}
	var ev struct {
		Total      struct{ AmountMinor string }
		NotApplied []struct{ Reason string }
	}
	gatewayCall(t, "POST", gw+"/v1/carts:evaluate", cartJSON(control[0]), &ev)
	if ev.Total.AmountMinor != "10000" || len(ev.NotApplied) != 1 || ev.NotApplied[0].Reason != "IN_HOLDOUT" {
		t.Fatalf("control evaluation = %+v, want full price and IN_HOLDOUT", ev)
	}
	gatewayCall(t, "POST", gw+"/v1/redemptions", `{"orderId":"t-0","cart":`+cartJSON(treatment[0])+`}`, nil)

	// Orders: three treatment customers (the first redeemed 1000 off) and
	// one control customer.
	now := time.Now()
	order := func(id, customer string, total int64) *profilev1.Event {
		return &profilev1.Event{EventId: "e-" + id, CustomerId: customer, OccurredAt: timestamppb.New(now),
			Payload: &profilev1.Event_OrderPlaced{OrderPlaced: &profilev1.OrderPlaced{OrderId: id, Total: gbp(total)}}}
	}
	f.record(t, order("t-0", treatment[0], 9000), order("t-1", treatment[1], 12000), order("t-2", treatment[2], 6000),
		order("k-0", control[0], 8000))

	var rep struct {
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
	gatewayCall(t, "GET", gw+"/v1/campaigns/hold/report", "", &rep)
	nT, nC := float64(len(treatment)), float64(len(control))
	// By hand: treatment converts 3 of nT, control 1 of nC; incremental
	// revenue is 27000 − 8000 × nT ÷ nC (rounded half up); ROI is that
	// times 40 % less the 1000 discount, over 1000.
	incr := 27000 - int64(math.Floor(8000*nT/nC+0.5))
	roi := (float64(incr)*0.4 - 1000) / 1000
	if rep.Redemptions != "1" || rep.DiscountCost.AmountMinor != "1000" ||
		rep.Treatment.Members != fmt.Sprint(len(treatment)) || rep.Treatment.Converters != "3" || rep.Treatment.Orders != "3" ||
		rep.Treatment.Revenue.AmountMinor != "27000" || rep.Control.Members != fmt.Sprint(len(control)) ||
		rep.Control.Converters != "1" || rep.Control.Revenue.AmountMinor != "8000" ||
		math.Abs(rep.LiftPoints-(3/nT-1/nC)*100) > 1e-9 || rep.IncrementalRevenue.AmountMinor != fmt.Sprint(incr) ||
		math.Abs(rep.Roi-roi) > 1e-9 {
		t.Fatalf("report = %+v; want 3 of %v treatment converters, 1 of %v control, incremental %d, ROI %v", rep, nT, nC, incr, roi)
	}
}
