package rules

import (
	"time"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"

	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// CEL type names of the two structured variables.
const (
	featuresTypeName        = "tenure.segmentation.Features"
	rfmTypeName             = "tenure.segmentation.Rfm"
	recommendationsTypeName = "tenure.segmentation.Recommendations"
)

var (
	featuresType = types.NewObjectType(featuresTypeName)
	rfmType      = types.NewObjectType(rfmTypeName)

	recommendationsType = types.NewObjectType(recommendationsTypeName)
)

// field describes one field of a structured variable: its CEL type and how
// to build its value from the subject being evaluated.
type field struct {
	name string
	typ  *types.Type
	get  func(s *Subject) ref.Val
}

// zeroFeatures and zeroResult stand in for a nil Customer or Result: a
// customer segmentation knows nothing about is a prospect.
var (
	zeroFeatures segmentation.Features
	zeroResult   = segmentation.Result{Stage: segmentation.StageProspect}
)

func featuresOf(s *Subject) *segmentation.Features {
	if s.Customer == nil {
		return &zeroFeatures
	}
	return &s.Customer.Features
}

func resultOf(s *Subject) *segmentation.Result {
	if s.Result == nil {
		return &zeroResult
	}
	return s.Result
}

func timestamp(t time.Time) ref.Val { return types.Timestamp{Time: t} }

// featuresFields are the fields of `features`, in snake case; money is in
// minor units of the main currency.
var featuresFields = []field{
	{"order_count", types.IntType, func(s *Subject) ref.Val { return types.Int(featuresOf(s).OrderCount) }},
	{"refund_count", types.IntType, func(s *Subject) ref.Val { return types.Int(featuresOf(s).RefundCount) }},
	{"gross_spend", types.IntType, func(s *Subject) ref.Val { return types.Int(featuresOf(s).GrossMinor) }},
	{"net_spend", types.IntType, func(s *Subject) ref.Val { return types.Int(featuresOf(s).NetMinor) }},
	{"average_order_value", types.IntType, func(s *Subject) ref.Val { return types.Int(featuresOf(s).AverageOrderValueMinor) }},
	{"currency", types.StringType, func(s *Subject) ref.Val { return types.String(featuresOf(s).Currency) }},
	{"discount_share", types.DoubleType, func(s *Subject) ref.Val { return types.Double(featuresOf(s).DiscountShare) }},
	{"preferred_channel", types.StringType, func(s *Subject) ref.Val { return types.String(featuresOf(s).PreferredChannel) }},
	{"top_categories", types.NewListType(types.StringType), func(s *Subject) ref.Val { return newStringList(featuresOf(s).TopCategories) }},
	{"first_order_time", types.TimestampType, func(s *Subject) ref.Val { return timestamp(featuresOf(s).FirstOrderTime) }},
	{"last_order_time", types.TimestampType, func(s *Subject) ref.Val { return timestamp(featuresOf(s).LastOrderTime) }},
	{"last_activity_time", types.TimestampType, func(s *Subject) ref.Val { return timestamp(featuresOf(s).LastActivityTime) }},
}

// rfmFields are the fields of `rfm`. Prospects have zero values and scores
// and an empty segment.
var rfmFields = []field{
	{"recency_days", types.IntType, func(s *Subject) ref.Val { return types.Int(resultOf(s).RecencyDays) }},
	{"frequency", types.IntType, func(s *Subject) ref.Val { return types.Int(resultOf(s).Frequency) }},
	{"monetary", types.IntType, func(s *Subject) ref.Val { return types.Int(resultOf(s).Monetary) }},
	{"r_score", types.IntType, func(s *Subject) ref.Val { return types.Int(resultOf(s).RScore) }},
	{"f_score", types.IntType, func(s *Subject) ref.Val { return types.Int(resultOf(s).FScore) }},
	{"m_score", types.IntType, func(s *Subject) ref.Val { return types.Int(resultOf(s).MScore) }},
	{"segment", types.StringType, func(s *Subject) ref.Val { return types.String(resultOf(s).Segment.String()) }},
}

// recommendationsFields are the fields of `recommendations`, from the
// recommendation model the recompute built; "" when it has nothing.
var recommendationsFields = []field{
	{"top_category", types.StringType, func(s *Subject) ref.Val { return types.String(topCategoryOf(s)) }},
}

func topCategoryOf(s *Subject) string {
	if s.Recommendations == nil || s.Customer == nil {
		return ""
	}
	return s.Recommendations.TopCategory(s.Customer.ID)
}

// Top-level variables other than features, rfm and recommendations.
var topFields = []field{
	{"lifecycle", types.StringType, func(s *Subject) ref.Val { return types.String(resultOf(s).Stage.String()) }},
	{"tier", types.StringType, func(s *Subject) ref.Val { return types.String(resultOf(s).Tier.String()) }},
	{"tags", types.NewListType(types.StringType), func(s *Subject) ref.Val {
		if s.Customer == nil {
			return newStringList(nil)
		}
		return newStringList(s.Customer.Tags)
	}},
}
