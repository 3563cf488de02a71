package grpcapi

import (
	"time"

	loyaltyv1 "github.com/tenurehq/tenure/gen/tenure/loyalty/v1"
	typev1 "github.com/tenurehq/tenure/gen/tenure/type/v1"
	"github.com/tenurehq/tenure/services/loyalty/internal/loyalty"
	"github.com/tenurehq/tenure/services/platform/fielderr"
	"github.com/tenurehq/tenure/services/platform/resourcename"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The resource names of the API.
var (
	memberNames     = resourcename.MustCompile("members/{member_id}")
	entryNames      = resourcename.MustCompile("members/{member_id}/ledger/{entry_id}")
	rewardNames     = resourcename.MustCompile("rewards/{reward_id}")
	redemptionNames = resourcename.MustCompile("members/{member_id}/rewardRedemptions/{redemption_id}")
	operationNames  = resourcename.MustCompile("loyalty/operations/{operation_id}")
)

func timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t.UTC())
}

// optionalTime reads an optional timestamp field; nil is the zero time.
func optionalTime(field string, t *timestamppb.Timestamp) (time.Time, error) {
	if t == nil {
		return time.Time{}, nil
	}
	if err := t.CheckValid(); err != nil {
		return time.Time{}, fielderr.New(field, "must be a valid timestamp from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z")
	}
	return t.AsTime(), nil
}

func money(m loyalty.Money) *typev1.Money {
	return &typev1.Money{CurrencyCode: m.Currency, AmountMinor: m.Minor}
}

var enrolments = map[loyaltyv1.Enrolment]loyalty.Enrolment{
	loyaltyv1.Enrolment_ENROLMENT_AUTOMATIC: loyalty.EnrolAutomatic,
	loyaltyv1.Enrolment_ENROLMENT_EXPLICIT:  loyalty.EnrolExplicit,
}

var policies = map[loyaltyv1.DowngradePolicy]loyalty.DowngradePolicy{
	loyaltyv1.DowngradePolicy_DOWNGRADE_POLICY_ONE_DOWN:     loyalty.DowngradeOneDown,
	loyaltyv1.DowngradePolicy_DOWNGRADE_POLICY_TO_QUALIFIED: loyalty.DowngradeToQualified,
}

// reverse inverts an enum map.
func reverse[K, V comparable](m map[K]V) map[V]K {
	out := make(map[V]K, len(m))
	for k, v := range m {
		out[v] = k
	}
	return out
}

var (
	enrolmentsOut = reverse(enrolments)
	policiesOut   = reverse(policies)
)

func toProgramme(p *loyaltyv1.Programme) loyalty.Programme {
	out := loyalty.Programme{
		CurrencyCode: p.GetCurrencyCode(), PointsPerUnit: p.GetPointsPerUnit(),
		PointValue: loyalty.Money{Currency: p.GetPointValue().GetCurrencyCode(), Minor: p.GetPointValue().GetAmountMinor()},
		Enrolment:  enrolments[p.GetEnrolment()], PendingDays: p.GetPendingDays(), ExpiryMonths: p.GetExpiryMonths(),
		ReviewPoints: p.GetReviewPoints(), QualityReviewBonus: p.GetQualityReviewBonus(),
		QualityReviewMinLength: p.GetQualityReviewMinLength(), SharePoints: p.GetSharePoints(),
		ShareDailyLimit: p.GetShareDailyLimit(), CheckInPoints: p.GetCheckInPoints(), BirthdayPoints: p.GetBirthdayPoints(),
		TimeZone: p.GetTimeZone(), QualificationWindowDays: p.GetQualificationWindowDays(),
		TierRetentionDays: p.GetTierRetentionDays(), DowngradePolicy: policies[p.GetDowngradePolicy()],
	}
	for _, t := range p.GetTiers() {
		out.Tiers = append(out.Tiers, loyalty.Tier{ID: t.GetTierId(), DisplayName: t.GetDisplayName(),
			QualifyingPoints: t.GetQualifyingPoints(), MultiplierPercent: t.GetMultiplierPercent(), Benefits: t.GetBenefits()})
	}
	return out
}

func fromProgramme(p loyalty.Programme) *loyaltyv1.Programme {
	out := &loyaltyv1.Programme{
		Version: p.Version, CurrencyCode: p.CurrencyCode, PointsPerUnit: p.PointsPerUnit, PointValue: money(p.PointValue),
		Enrolment: enrolmentsOut[p.Enrolment], PendingDays: p.PendingDays, ExpiryMonths: p.ExpiryMonths,
		ReviewPoints: p.ReviewPoints, QualityReviewBonus: p.QualityReviewBonus, QualityReviewMinLength: p.QualityReviewMinLength,
		SharePoints: p.SharePoints, ShareDailyLimit: p.ShareDailyLimit, CheckInPoints: p.CheckInPoints,
		BirthdayPoints: p.BirthdayPoints, TimeZone: p.TimeZone, QualificationWindowDays: p.QualificationWindowDays,
		TierRetentionDays: p.TierRetentionDays, DowngradePolicy: policiesOut[p.DowngradePolicy], UpdateTime: timestamp(p.UpdateTime),
	}
	for _, t := range p.Tiers {
		out.Tiers = append(out.Tiers, &loyaltyv1.Tier{TierId: t.ID, DisplayName: t.DisplayName, QualifyingPoints: t.QualifyingPoints,
			MultiplierPercent: t.MultiplierPercent, Benefits: t.Benefits})
	}
	return out
}

func fromMember(v loyalty.MemberView) *loyaltyv1.Member {
	return &loyaltyv1.Member{
		Name: memberNames.Format(v.ID), MemberId: v.ID, Tier: v.Tier, TierSince: timestamp(v.TierSince),
		TierUntil: timestamp(v.TierUntil), AvailablePoints: v.Available, PendingPoints: v.Pending, LifetimePoints: v.Lifetime,
		ExpiringPoints: v.Expiring, QualifyingPoints: v.Qualifying, NextTier: v.NextTier, PointsToNextTier: v.ToNextTier,
		Birthday: v.Birthday, TimeZone: v.TimeZone, CreateTime: timestamp(v.CreateTime),
	}
}

var entryTypes = map[loyalty.EntryType]loyaltyv1.EntryType{
	loyalty.EntryEarn: loyaltyv1.EntryType_ENTRY_TYPE_EARN, loyalty.EntryAction: loyaltyv1.EntryType_ENTRY_TYPE_ACTION,
	loyalty.EntryRedeem: loyaltyv1.EntryType_ENTRY_TYPE_REDEEM, loyalty.EntryReverse: loyaltyv1.EntryType_ENTRY_TYPE_REVERSE,
	loyalty.EntryExpire: loyaltyv1.EntryType_ENTRY_TYPE_EXPIRE, loyalty.EntryAdjust: loyaltyv1.EntryType_ENTRY_TYPE_ADJUST,
	loyalty.EntryCancel: loyaltyv1.EntryType_ENTRY_TYPE_CANCEL,
}

func fromEntry(member string, e loyalty.Entry) *loyaltyv1.LedgerEntry {
	src := e.Source
	out := &loyaltyv1.LedgerEntry{
		Name: entryNames.Format(member, seqID(e.Seq)), Type: entryTypes[e.Type], Points: e.Points,
		UnrecoveredPoints: e.Unrecovered, EventId: src.EventID, OrderId: src.OrderID, Operator: src.Operator,
		Reason: src.Reason, Action: src.Action, ProgrammeVersion: e.ProgrammeVersion, Time: timestamp(e.Time),
	}
	if src.RewardRedemption != "" {
		out.RewardRedemption = redemptionNames.Format(member, seqID(e.Seq))
	}
	for _, c := range e.Buckets {
		out.Buckets = append(out.Buckets, &loyaltyv1.BucketChange{BucketId: c.Bucket, Points: c.Points})
	}
	return out
}

var rewardTypes = map[loyaltyv1.RewardType]loyalty.RewardType{
	loyaltyv1.RewardType_REWARD_TYPE_GOODS:    loyalty.RewardGoods,
	loyaltyv1.RewardType_REWARD_TYPE_VOUCHER:  loyalty.RewardVoucher,
	loyaltyv1.RewardType_REWARD_TYPE_ACTIVITY: loyalty.RewardActivity,
}

var rewardTypesOut = reverse(rewardTypes)

func toReward(id string, r *loyaltyv1.Reward) (loyalty.Reward, error) {
	from, err := optionalTime("reward.valid_from", r.GetValidFrom())
	if err != nil {
		return loyalty.Reward{}, err
	}
	until, err := optionalTime("reward.valid_until", r.GetValidUntil())
	if err != nil {
		return loyalty.Reward{}, err
	}
	return loyalty.Reward{ID: id, DisplayName: r.GetDisplayName(), Type: rewardTypes[r.GetType()], PointsCost: r.GetPointsCost(),
		Limited: r.Stock != nil, Stock: r.GetStock(), PerMemberLimit: r.GetPerMemberLimit(), ValidFrom: from, ValidUntil: until,
		MinimumTier: r.GetMinimumTier()}, nil
}

func fromReward(r loyalty.Reward) *loyaltyv1.Reward {
	out := &loyaltyv1.Reward{Name: rewardNames.Format(r.ID), RewardId: r.ID, DisplayName: r.DisplayName,
		Type: rewardTypesOut[r.Type], PointsCost: r.PointsCost, PerMemberLimit: r.PerMemberLimit,
		ValidFrom: timestamp(r.ValidFrom), ValidUntil: timestamp(r.ValidUntil), MinimumTier: r.MinimumTier}
	if r.Limited {
		out.Stock = &r.Stock
	}
	return out
}

var redemptionStates = map[loyalty.RedemptionState]loyaltyv1.RewardRedemptionState{
	loyalty.RedemptionPending:   loyaltyv1.RewardRedemptionState_REWARD_REDEMPTION_STATE_PENDING,
	loyalty.RedemptionFulfilled: loyaltyv1.RewardRedemptionState_REWARD_REDEMPTION_STATE_FULFILLED,
	loyalty.RedemptionCancelled: loyaltyv1.RewardRedemptionState_REWARD_REDEMPTION_STATE_CANCELLED,
}

func fromRedemption(r loyalty.RewardRedemption) *loyaltyv1.RewardRedemption {
	return &loyaltyv1.RewardRedemption{Name: redemptionNames.Format(r.MemberID, seqID(r.Seq)),
		Reward: rewardNames.Format(r.RewardID), Points: r.Points, State: redemptionStates[r.State],
		CreateTime: timestamp(r.CreateTime)}
}

var (
	opKinds = map[loyalty.JobKind]loyaltyv1.OperationKind{
		loyalty.JobExpire:    loyaltyv1.OperationKind_OPERATION_KIND_EXPIRE_POINTS,
		loyalty.JobTiers:     loyaltyv1.OperationKind_OPERATION_KIND_EVALUATE_TIERS,
		loyalty.JobBirthdays: loyaltyv1.OperationKind_OPERATION_KIND_BIRTHDAY_POINTS,
		loyalty.JobMature:    loyaltyv1.OperationKind_OPERATION_KIND_MATURE_POINTS,
	}
	opStates = map[loyalty.OperationState]loyaltyv1.OperationState{
		loyalty.OpRunning:   loyaltyv1.OperationState_OPERATION_STATE_RUNNING,
		loyalty.OpSucceeded: loyaltyv1.OperationState_OPERATION_STATE_SUCCEEDED,
		loyalty.OpFailed:    loyaltyv1.OperationState_OPERATION_STATE_FAILED,
	}
)

func fromOperation(op loyalty.Operation) *loyaltyv1.Operation {
	trigger := loyaltyv1.OperationTrigger_OPERATION_TRIGGER_API
	if op.Scheduled {
		trigger = loyaltyv1.OperationTrigger_OPERATION_TRIGGER_SCHEDULE
	}
	return &loyaltyv1.Operation{Name: operationNames.Format(op.ID), Done: op.State != loyalty.OpRunning,
		State: opStates[op.State], Kind: opKinds[op.Kind], AsOfTime: timestamp(op.AsOf), ProgrammeVersion: op.ProgrammeVersion,
		MembersChanged: op.MembersChanged, Points: op.Points, CreateTime: timestamp(op.CreateTime),
		EndTime: timestamp(op.EndTime), ErrorMessage: op.Error, Trigger: trigger}
}

func fromReport(r loyalty.Report, p loyalty.Programme) *loyaltyv1.Report {
	value := func(points int64) *typev1.Money {
		return money(loyalty.Money{Currency: p.PointValue.Currency, Minor: points * p.PointValue.Minor})
	}
	out := &loyaltyv1.Report{AvailablePoints: r.Available, PendingPoints: r.Pending, AvailableValue: value(r.Available),
		PendingValue: value(r.Pending), UnrecoveredPoints: r.Unrecovered, SkippedOrders: r.SkippedOrders}
	for _, m := range r.Months {
		out.Months = append(out.Months, &loyaltyv1.MonthTotals{Month: m.Month, Earned: m.Earned, Redeemed: m.Redeemed,
			Expired: m.Expired, Reversed: m.Reversed})
	}
	for _, t := range p.Tiers {
		out.Tiers = append(out.Tiers, &loyaltyv1.TierCount{TierId: t.ID, Members: r.Tiers[t.ID]})
	}
	return out
}
