package app_test

import (
	"testing"
	"time"

	loyaltyv1 "github.com/tenurehq/tenure/gen/tenure/loyalty/v1"
	"github.com/tenurehq/tenure/services/loyalty/app"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	profileapp "github.com/tenurehq/tenure/services/profile/app"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// TestProgrammeChangeReachesEveryReplica: two replicas over one database
// keep the programme in memory; an update through one is used by the
// other's next redemptions (the point value), announced through etcd.
func TestProgrammeChangeReachesEveryReplica(t *testing.T) {
	stacktest.Engines(t, func(t *testing.T, engine string) {
		s := stacktest.Start(t, stacktest.Options{Engine: engine})
		s.Add(profileapp.Component(nil))
		dsn := stacktest.DSN(t, engine, "loyalty")
		var clients []loyaltyv1.LoyaltyServiceClient
		for range 2 {
			c := app.Component(func(c *app.Config, d *app.Deps) { c.JobInterval = 0; d.Clock = func() time.Time { return t0 } })
			c.DSN = dsn
			clients = append(clients, loyaltyv1.NewLoyaltyServiceClient(stacktest.Dial(t, s.Add(c).Addr())))
		}
		a, b := clients[0], clients[1]
		if _, err := a.CreateMember(ctx, &loyaltyv1.CreateMemberRequest{MemberId: "c1"}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.AdjustPoints(ctx, &loyaltyv1.AdjustPointsRequest{Member: "members/c1", Points: 1000, Reason: "r", Operator: "o"}); err != nil {
			t.Fatal(err)
		}
		redeem := func(c loyaltyv1.LoyaltyServiceClient) *loyaltyv1.RedeemPointsResponse {
			t.Helper()
			r, err := c.RedeemPoints(ctx, &loyaltyv1.RedeemPointsRequest{Member: "members/c1", Points: 1, OrderId: "o1"})
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		if v := redeem(b).GetValue().GetAmountMinor(); v != 1 {
			t.Fatalf("value of a point = %d, want the default 1", v)
		}
		_, err := a.UpdateProgramme(ctx, &loyaltyv1.UpdateProgrammeRequest{Programme: &loyaltyv1.Programme{PointValue: gbp(5)},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"point_value"}}})
		if err != nil {
			t.Fatal(err)
		}
		if r := redeem(a); r.GetValue().GetAmountMinor() != 5 || r.GetEntry().GetProgrammeVersion() != 1 {
			t.Fatalf("on the updating replica: %v; want a point worth 5 under version 1", r)
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			r := redeem(b)
			if r.GetValue().GetAmountMinor() == 5 && r.GetEntry().GetProgrammeVersion() == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the other replica still redeems under %v", r)
			}
		}
	})
}
