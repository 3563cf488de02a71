package app_test

import (
	"testing"
	"time"

	loyaltyv1 "github.com/tenurehq/tenure/gen/tenure/loyalty/v1"
	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

var t0 = time.Date(2025, 1, 31, 12, 0, 0, 0, time.UTC)

func TestAPI(t *testing.T) {
	stacktest.Engines(t, func(t *testing.T, engine string) {
		now := t0.Add(24 * time.Hour)
		f := start(t, engine, func() time.Time { return now })
		c := f.loyalty
		p, err := c.UpdateProgramme(ctx, &loyaltyv1.UpdateProgrammeRequest{Programme: &loyaltyv1.Programme{
			Tiers:        []*loyaltyv1.Tier{{TierId: "base", MultiplierPercent: 100}, {TierId: "gold", QualifyingPoints: 600, MultiplierPercent: 150}},
			ExpiryMonths: 1, CheckInPoints: 5}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"tiers", "expiry_months", "check_in_points"}}})
		if err != nil || p.GetProgramme().GetVersion() != 1 {
			t.Fatalf("update programme = %v, %v", p, err)
		}
		f.record(t, orderEvent("e1", "c1", t0, 60000), orderEvent("e2", "c1", t0.Add(time.Hour), 12345))
		m := f.member(t, "c1")
		if m.GetTier() != "gold" || m.GetAvailablePoints() != 785 || m.GetLifetimePoints() != 785 || m.GetExpiringPoints() != 785 {
			t.Fatalf("member = %v; want gold with 600 + 185 points, all expiring within 30 days", m)
		}

		// Not enough points: FAILED_PRECONDITION naming the balance.
		_, err = c.RedeemPoints(ctx, &loyaltyv1.RedeemPointsRequest{Member: "members/c1", Points: 786, OrderId: "o-9"})
		wantErr(t, err, codes.FailedPrecondition, "INSUFFICIENT_POINTS", "785 available")
		// A retry with the same request id returns the first result.
		req := &loyaltyv1.RedeemPointsRequest{Member: "members/c1", Points: 100, OrderId: "o-9", RequestId: "r-1"}
		first, err := c.RedeemPoints(ctx, req)
		if err != nil || first.GetAvailablePoints() != 685 || first.GetValue().GetAmountMinor() != 100 {
			t.Fatalf("redeem = %v, %v", first, err)
		}
		again, err := c.RedeemPoints(ctx, req)
		if err != nil || !proto.Equal(first, again) || f.member(t, "c1").GetAvailablePoints() != 685 {
			t.Fatalf("retry = %v, %v; want the first result and one debit", again, err)
		}
		cancel, err := c.CancelRedemption(ctx, &loyaltyv1.CancelRedemptionRequest{Member: "members/c1", Entry: first.GetEntry().GetName()})
		if err != nil || cancel.GetAvailablePoints() != 785 || cancel.GetEntry().GetType() != loyaltyv1.EntryType_ENTRY_TYPE_CANCEL {
			t.Fatalf("cancel = %v, %v", cancel, err)
		}
		adj, err := c.AdjustPoints(ctx, &loyaltyv1.AdjustPointsRequest{Member: "members/c1", Points: -785, Reason: "fraud", Operator: "ops"})
		if err != nil || adj.GetAvailablePoints() != 0 {
			t.Fatalf("adjust = %v, %v", adj, err)
		}

		// The ledger, newest first, in pages.
		page, err := c.ListLedgerEntries(ctx, &loyaltyv1.ListLedgerEntriesRequest{Parent: "members/c1", PageSize: 2})
		if err != nil || len(page.GetEntries()) != 2 || page.GetEntries()[0].GetType() != loyaltyv1.EntryType_ENTRY_TYPE_ADJUST ||
			page.GetNextPageToken() == "" {
			t.Fatalf("ledger page = %v, %v", page, err)
		}
		page, err = c.ListLedgerEntries(ctx, &loyaltyv1.ListLedgerEntriesRequest{Parent: "members/c1", PageSize: 2, PageToken: page.GetNextPageToken()})
		if err != nil || len(page.GetEntries()) != 2 || page.GetEntries()[1].GetOrderId() != "o-e2" || page.GetNextPageToken() == "" {
			t.Fatalf("second ledger page = %v, %v", page, err)
		}
		_, err = c.ListLedgerEntries(ctx, &loyaltyv1.ListLedgerEntriesRequest{Parent: "members/c2", PageToken: page.GetNextPageToken()})
		wantErr(t, err, codes.InvalidArgument, "INVALID_PAGE_TOKEN", "page_token")

		// Expiry as of a time, twice: the same operation.
		due := timestamppb.New(t0.AddDate(0, 1, 0).Add(time.Hour))
		op, err := c.ExpirePoints(ctx, &loyaltyv1.ExpirePointsRequest{AsOfTime: due})
		if err != nil || !op.GetOperation().GetDone() || op.GetOperation().GetState() != loyaltyv1.OperationState_OPERATION_STATE_SUCCEEDED {
			t.Fatalf("expire = %v, %v", op, err)
		}
		op2, err := c.ExpirePoints(ctx, &loyaltyv1.ExpirePointsRequest{AsOfTime: due})
		if err != nil || op2.GetOperation().GetName() != op.GetOperation().GetName() {
			t.Fatalf("second expire = %v, %v", op2, err)
		}
		got, err := c.GetOperation(ctx, &loyaltyv1.GetOperationRequest{Name: op.GetOperation().GetName()})
		if err != nil || !proto.Equal(got.GetOperation(), op.GetOperation()) {
			t.Fatalf("get operation = %v, %v", got, err)
		}
		report, err := c.GetReport(ctx, &loyaltyv1.GetReportRequest{})
		if err != nil || report.GetReport().GetAvailablePoints() != 0 || report.GetReport().GetMonths()[0].GetEarned() != 785 {
			t.Fatalf("report = %v, %v", report, err)
		}
	})
}

func TestBadInput(t *testing.T) {
	f := start(t, "sqlite", func() time.Time { return t0 })
	c := f.loyalty
	_, err := c.CreateMember(ctx, &loyaltyv1.CreateMemberRequest{MemberId: "m1"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateMember(ctx, &loyaltyv1.CreateMemberRequest{MemberId: "m1"})
	wantErr(t, err, codes.AlreadyExists, "MEMBER_ALREADY_EXISTS")
	_, err = c.GetMember(ctx, &loyaltyv1.GetMemberRequest{Name: "members/nobody"})
	wantErr(t, err, codes.NotFound, "MEMBER_NOT_FOUND")
	_, err = c.GetMember(ctx, &loyaltyv1.GetMemberRequest{Name: "customers/m1"})
	wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "name")
	_, err = c.RedeemPoints(ctx, &loyaltyv1.RedeemPointsRequest{Member: "members/m1", Points: -5, OrderId: "o"})
	wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "points")
	_, err = c.RedeemPoints(ctx, &loyaltyv1.RedeemPointsRequest{Member: "members/m1", Points: 5})
	wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "order_id")
	_, err = c.AdjustPoints(ctx, &loyaltyv1.AdjustPointsRequest{Member: "members/m1", Points: 5, Operator: "ops"})
	wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "reason")
	_, err = c.AdjustPoints(ctx, &loyaltyv1.AdjustPointsRequest{Member: "members/m1", Points: -5, Operator: "ops", Reason: "x"})
	wantErr(t, err, codes.FailedPrecondition, "INSUFFICIENT_POINTS", "0 available")
	_, err = c.UpdateProgramme(ctx, &loyaltyv1.UpdateProgrammeRequest{Programme: &loyaltyv1.Programme{PointsPerUnit: -1,
		Tiers: []*loyaltyv1.Tier{{TierId: "a", QualifyingPoints: 5}}}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"points_per_unit", "tiers"}}})
	wantErr(t, err, codes.InvalidArgument, "INVALID_PROGRAMME", "points_per_unit", "tiers[0].qualifying_points")
	_, err = c.UpdateProgramme(ctx, &loyaltyv1.UpdateProgrammeRequest{Programme: &loyaltyv1.Programme{}, ExpectedVersion: 7})
	wantErr(t, err, codes.Aborted, "VERSION_MISMATCH", "version 0")
	_, err = c.CreateReward(ctx, &loyaltyv1.CreateRewardRequest{RewardId: "Bad Id", Reward: &loyaltyv1.Reward{PointsCost: 0}})
	wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "reward_id", "reward.type", "reward.points_cost")
	_, err = c.ExpirePoints(ctx, &loyaltyv1.ExpirePointsRequest{AsOfTime: &timestamppb.Timestamp{Seconds: -1e12}})
	wantErr(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "as_of_time")
}

func TestBirthdayAndTimeZoneFromProfile(t *testing.T) {
	now := time.Date(2025, 2, 27, 16, 0, 0, 0, time.UTC) // 28 Feb 01:00 in Tokyo
	f := start(t, "sqlite", func() time.Time { return now })
	if _, err := f.loyalty.UpdateProgramme(ctx, &loyaltyv1.UpdateProgrammeRequest{Programme: &loyaltyv1.Programme{BirthdayPoints: 40},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"birthday_points"}}}); err != nil {
		t.Fatal(err)
	}
	_, err := f.profile.CreateCustomer(ctx, &profilev1.CreateCustomerRequest{CustomerId: "b1",
		Customer: &profilev1.Customer{Birthday: "1992-02-29", TimeZone: "Asia/Tokyo"}})
	if err != nil {
		t.Fatal(err)
	}
	head, err := f.profile.GetEventLogHead(ctx, &profilev1.GetEventLogHeadRequest{})
	if err != nil {
		t.Fatal(err)
	}
	f.waitCursor(t, head.GetHeadSequence())
	op, err := f.loyalty.GiveBirthdayPoints(ctx, &loyaltyv1.GiveBirthdayPointsRequest{})
	if err != nil || op.GetOperation().GetMembersChanged() != 1 || op.GetOperation().GetPoints() != 40 {
		t.Fatalf("birthdays = %v, %v", op, err)
	}
	if m := f.member(t, "b1"); m.GetAvailablePoints() != 40 || m.GetBirthday() != "1992-02-29" || m.GetTimeZone() != "Asia/Tokyo" {
		t.Fatalf("member = %v", m)
	}
}
