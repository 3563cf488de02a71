package app_test

import (
	"regexp"
	"testing"
	"time"

	loyaltyv1 "github.com/tenurehq/tenure/gen/tenure/loyalty/v1"
	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/loyalty/app"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	profileapp "github.com/tenurehq/tenure/services/profile/app"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// TestLedgerCounters: the admin port's /metrics counts the points issued,
// redeemed, returned, reversed, withdrawn and expired, and the
// redemptions, as the ledger committed them.
func TestLedgerCounters(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	s := stacktest.Start(t, stacktest.Options{})
	pr := s.Add(profileapp.Component(nil))
	r := s.Add(app.Component(func(c *app.Config, d *app.Deps) {
		c.JobInterval, c.AdminAddr = 0, "127.0.0.1:0"
		d.Clock = func() time.Time { return t0.Add(24 * time.Hour) }
	}))
	f := &fixture{profile: profilev1.NewProfileServiceClient(stacktest.Dial(t, pr.Addr())),
		loyalty: loyaltyv1.NewLoyaltyServiceClient(stacktest.Dial(t, r.Addr())), app: r.Runner.(*app.App)}
	c := f.loyalty
	if _, err := c.UpdateProgramme(ctx, &loyaltyv1.UpdateProgrammeRequest{Programme: &loyaltyv1.Programme{ExpiryMonths: 1},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"expiry_months"}}}); err != nil {
		t.Fatal(err)
	}
	refund := &profilev1.Event{EventId: "r1", CustomerId: "c1", OccurredAt: timestamppb.New(t0.Add(time.Hour)),
		Payload: &profilev1.Event_OrderRefunded{OrderRefunded: &profilev1.OrderRefunded{OrderId: "o-e1", Amount: gbp(2000)}}}
	f.record(t, orderEvent("e1", "c1", t0, 10000), refund) // earns 100, reverses 20
	calls := []func() error{
		func() error {
			_, err := c.AdjustPoints(ctx, &loyaltyv1.AdjustPointsRequest{Member: "members/c1", Points: 50, Reason: "r", Operator: "o"})
			return err
		},
		func() error {
			_, err := c.AdjustPoints(ctx, &loyaltyv1.AdjustPointsRequest{Member: "members/c1", Points: -5, Reason: "r", Operator: "o"})
			return err
		},
		func() error {
			red, err := c.RedeemPoints(ctx, &loyaltyv1.RedeemPointsRequest{Member: "members/c1", Points: 30, OrderId: "o9"})
			if err == nil {
				_, err = c.CancelRedemption(ctx, &loyaltyv1.CancelRedemptionRequest{Member: "members/c1", Entry: red.GetEntry().GetName()})
			}
			return err
		},
		func() error {
			_, err := c.RedeemPoints(ctx, &loyaltyv1.RedeemPointsRequest{Member: "members/c1", Points: 10, OrderId: "o10"})
			return err
		},
		func() error {
			_, err := c.ExpirePoints(ctx, &loyaltyv1.ExpirePointsRequest{AsOfTime: timestamppb.New(t0.AddDate(0, 2, 0))})
			return err
		},
	}
	for _, call := range calls {
		if err := call(); err != nil {
			t.Fatal(err)
		}
	}
	// 100 − 20 + 50 − 5 − 10 = 115 expire; the adjustment of 50 too, a
	// month after the clock's now.
	body := stacktest.Scrape(t, "http://"+f.app.AdminAddr()+"/metrics")
	for _, want := range []string{
		`tenure_loyalty_points_issued_total{[^}]*source="earn"[^}]*} 100`,
		`tenure_loyalty_points_issued_total{[^}]*source="adjust"[^}]*} 50`,
		`tenure_loyalty_points_reversed_total{[^}]*} 20`,
		`tenure_loyalty_points_withdrawn_total{[^}]*} 5`,
		`tenure_loyalty_points_redeemed_total{[^}]*kind="points"[^}]*} 40`,
		`tenure_loyalty_redemptions_total{[^}]*kind="points"[^}]*} 2`,
		`tenure_loyalty_points_returned_total{[^}]*kind="points"[^}]*} 30`,
		`tenure_loyalty_redemptions_cancelled_total{[^}]*kind="points"[^}]*} 1`,
		`tenure_loyalty_points_expired_total{[^}]*} 115`,
	} {
		if !regexp.MustCompile(`(?m)^` + want + `$`).MatchString(body) {
			t.Errorf("no %s in /metrics:\n%s", want, stacktest.Grep(body, "tenure_loyalty"))
		}
	}
}
