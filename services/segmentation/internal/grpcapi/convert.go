package grpcapi

import (
	"slices"
	"time"

	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	typev1 "github.com/tenurehq/tenure/gen/tenure/type/v1"
	"github.com/tenurehq/tenure/services/platform/fielderr"
	"github.com/tenurehq/tenure/services/platform/resourcename"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// invalidField is a bad request field: the platform's field error, whose
// problem should say what is allowed.
func invalidField(field, format string, args ...any) error {
	return fielderr.New(field, format, args...)
}

// required is the error for a message field the request must carry.
func required(field, fix string) error {
	return &fielderr.Error{Path: field, Problem: "is required", Fix: fix}
}

// checkTime rejects a timestamp outside the range the API accepts.
func checkTime(field string, t *timestamppb.Timestamp) error {
	if err := t.CheckValid(); err != nil {
		return invalidField(field, "must be a valid timestamp from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z")
	}
	return nil
}

func timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t.UTC())
}

// The resource names of the API.
var (
	segmentNames   = resourcename.MustCompile("segments/{segment_id}")
	operationNames = resourcename.MustCompile("operations/{operation_id}")
	scoresNames    = resourcename.MustCompile("customers/{customer_id}/scores")
)

func fromOperation(o segmentation.Operation) *segmentationv1.Operation {
	out := &segmentationv1.Operation{
		Name: o.Name(), Done: o.Done(), AsOfTime: timestamp(o.AsOf), SettingsVersion: o.SettingsVersion,
		CustomersDone: o.CustomersDone, CustomersTotal: o.CustomersTotal, CreateTime: timestamp(o.CreateTime),
		EndTime: timestamp(o.EndTime), ErrorMessage: o.Error, InputSequence: o.InputSequence,
		RuleErrors: o.RuleErrors, Prediction: reportPrediction(o),
	}
	switch o.State {
	case segmentation.OperationRunning:
		out.State = segmentationv1.OperationState_OPERATION_STATE_RUNNING
	case segmentation.OperationSucceeded:
		out.State = segmentationv1.OperationState_OPERATION_STATE_SUCCEEDED
	case segmentation.OperationFailed:
		out.State = segmentationv1.OperationState_OPERATION_STATE_FAILED
	}
	switch o.Trigger {
	case segmentation.TriggerAPI:
		out.Trigger = segmentationv1.OperationTrigger_OPERATION_TRIGGER_API
	case segmentation.TriggerSchedule:
		out.Trigger = segmentationv1.OperationTrigger_OPERATION_TRIGGER_SCHEDULE
	}
	return out
}

func fromSettings(v segmentation.SettingsVersion) *segmentationv1.Settings {
	s := v.Settings
	out := &segmentationv1.Settings{
		Version: v.Version,
		Lifecycle: &segmentationv1.LifecycleThresholds{
			NewDays: s.Lifecycle.NewDays, ActiveDays: s.Lifecycle.ActiveDays, DormantDays: s.Lifecycle.DormantDays,
		},
		TierMap:    map[string]string{},
		UpdateTime: timestamp(v.UpdateTime),

		IncludeRepurchases: s.IncludeRepurchases,
		Prediction:         fromPredictionSettings(s.Prediction),
	}
	for seg, tier := range s.Tiers {
		out.TierMap[seg.String()] = tier.String()
	}
	switch s.Method {
	case segmentation.MethodQuintile:
		out.ScoringMethod = segmentationv1.ScoringMethod_SCORING_METHOD_QUINTILE
	case segmentation.MethodFixedThresholds:
		out.ScoringMethod = segmentationv1.ScoringMethod_SCORING_METHOD_FIXED_THRESHOLDS
		out.FixedThresholds = &segmentationv1.FixedThresholds{
			RecencyDays:   slices.Clone(s.Thresholds.Recency[:]),
			Frequency:     slices.Clone(s.Thresholds.Frequency[:]),
			MonetaryMinor: slices.Clone(s.Thresholds.Monetary[:]),
		}
	}
	return out
}

// toSettings converts the fields of in that are present. Every problem is
// reported, each at its path in Settings, in one *segmentation.SettingsError
// (INVALID_SETTINGS).
func toSettings(in *segmentationv1.Settings) (segmentation.Settings, error) {
	s := segmentation.Settings{IncludeRepurchases: in.GetIncludeRepurchases()}
	var probs []*fielderr.Error
	if lc := in.GetLifecycle(); lc != nil {
		s.Lifecycle = segmentation.Lifecycle{NewDays: lc.GetNewDays(), ActiveDays: lc.GetActiveDays(), DormantDays: lc.GetDormantDays()}
	}
	if len(in.GetTierMap()) > 0 {
		var bad []*fielderr.Error
		s.Tiers, bad = segmentation.ParseTierMap(in.GetTierMap())
		probs = append(probs, bad...)
	}
	switch m := in.GetScoringMethod(); m {
	case segmentationv1.ScoringMethod_SCORING_METHOD_UNSPECIFIED, segmentationv1.ScoringMethod_SCORING_METHOD_QUINTILE:
		s.Method = segmentation.MethodQuintile
	case segmentationv1.ScoringMethod_SCORING_METHOD_FIXED_THRESHOLDS:
		s.Method = segmentation.MethodFixedThresholds
	default:
		probs = append(probs, segmentation.SettingsProblem("scoring_method", "unknown value %d; valid values are %s and %s", m,
			segmentationv1.ScoringMethod_SCORING_METHOD_QUINTILE, segmentationv1.ScoringMethod_SCORING_METHOD_FIXED_THRESHOLDS))
	}
	if ft := in.GetFixedThresholds(); ft != nil {
		for _, d := range []struct {
			name string
			in   []int64
			out  *[4]int64
		}{{"recency_days", ft.GetRecencyDays(), &s.Thresholds.Recency}, {"frequency", ft.GetFrequency(), &s.Thresholds.Frequency},
			{"monetary_minor", ft.GetMonetaryMinor(), &s.Thresholds.Monetary}} {
			if len(d.in) != len(d.out) {
				probs = append(probs, segmentation.SettingsProblem("fixed_thresholds."+d.name, "must have %d cut points, got %d", len(d.out), len(d.in)))
				continue
			}
			copy(d.out[:], d.in)
		}
	}
	s.Prediction = toPredictionSettings(in.GetPrediction())
	if len(probs) > 0 {
		return s, &segmentation.SettingsError{Problems: probs}
	}
	return s, nil
}

func fromSegment(g segmentation.SegmentDef) *segmentationv1.Segment {
	out := &segmentationv1.Segment{
		Name: segmentNames.Format(g.ID), SegmentId: g.ID, DisplayName: g.DisplayName, Description: g.Description,
		Rule: g.Rule, MemberCount: g.MemberCount, CreateTime: timestamp(g.CreateTime), UpdateTime: timestamp(g.UpdateTime),
		Etag: g.ETag(),
	}
	switch g.Kind {
	case segmentation.SegmentKindRule:
		out.Kind = segmentationv1.SegmentKind_SEGMENT_KIND_RULE
	case segmentation.SegmentKindStatic:
		out.Kind = segmentationv1.SegmentKind_SEGMENT_KIND_STATIC
	}
	return out
}

func toKind(k segmentationv1.SegmentKind) segmentation.SegmentKind {
	switch k {
	case segmentationv1.SegmentKind_SEGMENT_KIND_RULE:
		return segmentation.SegmentKindRule
	case segmentationv1.SegmentKind_SEGMENT_KIND_STATIC:
		return segmentation.SegmentKindStatic
	}
	return segmentation.SegmentKindUnspecified
}

func money(currency string, minor int64) *typev1.Money {
	return &typev1.Money{CurrencyCode: currency, AmountMinor: minor}
}

func fromCounts(in []segmentation.Count) []*segmentationv1.Count {
	out := make([]*segmentationv1.Count, len(in))
	for i, c := range in {
		out[i] = &segmentationv1.Count{Key: c.Key, Customers: c.Customers}
	}
	return out
}

func fromSummary(sum segmentation.Summary) *segmentationv1.Report {
	op := sum.Operation
	out := &segmentationv1.Report{
		Operation: op.Name(), AsOfTime: timestamp(op.AsOf), SettingsVersion: op.SettingsVersion,
		Customers: sum.Customers, ScoredCustomers: sum.ScoredCustomers,
		RfmSegments: fromCounts(sum.RFMSegments), ValueTiers: fromCounts(sum.Tiers), LifecycleStages: fromCounts(sum.Stages),
		RScores: fromCounts(sum.R), FScores: fromCounts(sum.F), MScores: fromCounts(sum.M),
		Prediction: reportPrediction(op),
	}
	if len(sum.Segments) > 0 {
		out.Segments = fromCounts(sum.Segments)
	}
	for _, a := range sum.MonetaryTotal {
		out.MonetaryTotal = append(out.MonetaryTotal, money(a.Currency, a.Minor))
	}
	return out
}

type timeT = time.Time
