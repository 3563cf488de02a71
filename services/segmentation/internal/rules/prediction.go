package rules

import (
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"

	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// predictionTypeName is the CEL type of the prediction variable.
const predictionTypeName = "tenure.segmentation.Prediction"

var predictionType = types.NewObjectType(predictionTypeName)

// firstPrediction is the cache index of the first prediction field: after
// the features, rfm, recommendations and top-level fields.
const firstPrediction = 23

var zeroPrediction segmentation.Prediction

func predictionOf(s *Subject) *segmentation.Prediction {
	if s.Prediction == nil {
		return &zeroPrediction
	}
	return s.Prediction
}

// predictionFields are the fields of `prediction`. A customer without a
// prediction (no order before as_of, or no model fitted yet) has
// predicted false and zeros elsewhere.
var predictionFields = []field{
	{"predicted", types.BoolType, func(s *Subject) ref.Val { return types.Bool(predictionOf(s).Predicted) }},
	{"p_alive", types.DoubleType, func(s *Subject) ref.Val { return types.Double(predictionOf(s).PAlive) }},
	{"expected_purchases", types.DoubleType, func(s *Subject) ref.Val { return types.Double(predictionOf(s).ExpectedPurchases) }},
	{"expected_order_value", types.DoubleType, func(s *Subject) ref.Val { return types.Double(predictionOf(s).ExpectedOrderValue) }},
	{"clv", types.DoubleType, func(s *Subject) ref.Val { return types.Double(predictionOf(s).CLV) }},
}
