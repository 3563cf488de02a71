package grpcapi

import (
	"context"
	"time"

	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	"github.com/tenurehq/tenure/services/platform/resourcename"
	"github.com/tenurehq/tenure/services/segmentation/internal/recommend"
	"google.golang.org/grpc"
)

// Page sizes of the recommendation answers: one page each.
const (
	defaultRecommendations = 10
	maxRecommendations     = 100
)

// The resource names of the recommendation API.
var (
	recommendationNames = resourcename.MustCompile("customers/{customer_id}/recommendations")
	relatedNames        = resourcename.MustCompile("products/{sku}/related")
)

// Recommendations implements segmentationv1.RecommendationServiceServer.
type Recommendations struct {
	segmentationv1.UnsafeRecommendationServiceServer

	svc *recommend.Service
}

// NewRecommendations returns a RecommendationService server over svc.
func NewRecommendations(svc *recommend.Service) *Recommendations {
	return &Recommendations{svc: svc}
}

// Register registers r on g.
func (r *Recommendations) Register(g *grpc.Server) {
	segmentationv1.RegisterRecommendationServiceServer(g, r)
}

// recommendationCount checks a page_size: 0 is the default, larger than
// the maximum is lowered to it.
func recommendationCount(field string, n int32) (int, error) {
	switch {
	case n < 0:
		return 0, invalidField(field, "must not be negative, got %d; send 0 for %d items, or up to %d", n, defaultRecommendations, maxRecommendations)
	case n == 0:
		return defaultRecommendations, nil
	}
	return min(int(n), maxRecommendations), nil
}

// GetCustomerRecommendations implements segmentationv1.RecommendationServiceServer.
func (r *Recommendations) GetCustomerRecommendations(_ context.Context, req *segmentationv1.GetCustomerRecommendationsRequest) (*segmentationv1.GetCustomerRecommendationsResponse, error) {
	id, err := recommendationNames.ParseID("name", req.GetName())
	if err != nil {
		return nil, err
	}
	n, err := recommendationCount("page_size", req.GetPageSize())
	if err != nil {
		return nil, err
	}
	recs, m, err := r.svc.ForCustomer(id, n)
	if err != nil {
		return nil, err
	}
	return &segmentationv1.GetCustomerRecommendationsResponse{Items: fromItems(recs.Items, r.svc.Now()),
		Fallback: recs.Fallback, ModelTime: timestamp(m.AsOf())}, nil
}

// GetRelatedProducts implements segmentationv1.RecommendationServiceServer.
func (r *Recommendations) GetRelatedProducts(_ context.Context, req *segmentationv1.GetRelatedProductsRequest) (*segmentationv1.GetRelatedProductsResponse, error) {
	sku, err := relatedNames.ParseID("name", req.GetName())
	if err != nil {
		return nil, err
	}
	n, err := recommendationCount("page_size", req.GetPageSize())
	if err != nil {
		return nil, err
	}
	recs, m, err := r.svc.Related(sku, n)
	if err != nil {
		return nil, err
	}
	return &segmentationv1.GetRelatedProductsResponse{Items: fromItems(recs.Items, r.svc.Now()),
		Fallback: recs.Fallback, ModelTime: timestamp(m.AsOf())}, nil
}

// EvaluateRecommendations implements segmentationv1.RecommendationServiceServer.
func (r *Recommendations) EvaluateRecommendations(ctx context.Context, req *segmentationv1.EvaluateRecommendationsRequest) (*segmentationv1.EvaluateRecommendationsResponse, error) {
	if req.GetAsOfTime() == nil {
		return nil, required("as_of_time", "send the time to split the purchase history at, e.g. 2011-09-01T00:00:00Z")
	}
	if err := checkTime("as_of_time", req.GetAsOfTime()); err != nil {
		return nil, err
	}
	k, err := recommendationCount("k", req.GetK())
	if err != nil {
		return nil, err
	}
	ev, err := r.svc.Evaluate(ctx, req.GetAsOfTime().AsTime(), k)
	if err != nil {
		return nil, err
	}
	metrics := func(m recommend.Metrics) *segmentationv1.RecommendationMetrics {
		return &segmentationv1.RecommendationMetrics{HitRate: m.HitRate, Precision: m.Precision, Coverage: m.Coverage}
	}
	return &segmentationv1.EvaluateRecommendationsResponse{AsOfTime: timestamp(ev.AsOf), K: int32(ev.K),
		Customers: int64(ev.Customers), CatalogueItems: int64(ev.Catalogue), Model: metrics(ev.Model), Baseline: metrics(ev.Baseline)}, nil
}

var reasonKinds = map[recommend.Reason]segmentationv1.RecommendationReason{
	recommend.ReasonBoughtWith:        segmentationv1.RecommendationReason_RECOMMENDATION_REASON_BOUGHT_WITH,
	recommend.ReasonViewed:            segmentationv1.RecommendationReason_RECOMMENDATION_REASON_VIEWED,
	recommend.ReasonPopularInCategory: segmentationv1.RecommendationReason_RECOMMENDATION_REASON_POPULAR_IN_CATEGORY,
	recommend.ReasonPopular:           segmentationv1.RecommendationReason_RECOMMENDATION_REASON_POPULAR,
}

// fromItems converts items, their reasons worded as of now.
func fromItems(items []recommend.Item, now time.Time) []*segmentationv1.RecommendedItem {
	out := make([]*segmentationv1.RecommendedItem, len(items))
	for i, it := range items {
		out[i] = &segmentationv1.RecommendedItem{Sku: it.SKU, Score: it.Score, Reason: it.Text(now),
			ReasonKind: reasonKinds[it.Reason], Source: it.Because, ViewTime: timestamp(it.ViewedAt)}
	}
	return out
}
