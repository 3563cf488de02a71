package app_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// basket is an order of skus (category "kitchen", "g…" skus "garden").
func basket(id, customer string, at time.Time, skus ...string) *profilev1.Event {
	o := &profilev1.OrderPlaced{OrderId: "o-" + id, Total: gbp(int64(len(skus)) * 5_00), Channel: "web"}
	for _, s := range skus {
		cat := "kitchen"
		if s[0] == 'g' {
			cat = "garden"
		}
		o.Lines = append(o.Lines, &profilev1.OrderLine{Sku: s, Category: cat, Quantity: 1, UnitPrice: gbp(5_00)})
	}
	return &profilev1.Event{EventId: id, CustomerId: customer, OccurredAt: timestamppb.New(at), Payload: &profilev1.Event_OrderPlaced{OrderPlaced: o}}
}

func viewed(id, customer string, at time.Time, sku, category string) *profilev1.Event {
	return &profilev1.Event{EventId: id, CustomerId: customer, OccurredAt: timestamppb.New(at),
		Payload: &profilev1.Event_ProductViewed{ProductViewed: &profilev1.ProductViewed{Sku: sku, Category: category}}}
}

func TestRecommendations(t *testing.T) {
	engines := []struct {
		name string
		dsn  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "seg.db") }},
		{"postgres", func(t *testing.T) string { _, dsn := sqlstoretest.PostgresDSN(t); return dsn }},
	}
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) { testRecommendations(t, eng.dsn(t)) })
	}
}

// testRecommendations records purchases and views, recomputes, and reads
// recommendations, related products, a rule segment on the top category
// and the backtest over gRPC; then restarts the replica to check the
// history comes back from the store.
func testRecommendations(t *testing.T, dsn string) {
	ctx := context.Background()
	cli := newEtcd(t)
	pc := startProfile(t, cli)
	seg := startSegmentation(t, cli, dsn, func() time.Time { return asOf }, 0)
	recs := segmentationv1.NewRecommendationServiceClient(stacktest.Dial(t, seg.app.Addr()))

	// Before any recompute there is no model.
	_, err := recs.GetCustomerRecommendations(ctx, &segmentationv1.GetCustomerRecommendationsRequest{Name: "customers/ann/recommendations"})
	wantStatus(t, err, codes.FailedPrecondition, "NO_RECOMPUTE")

	last := record(t, pc, []*profilev1.Event{
		basket("1", "ann", daysAgo(30), "mug", "teapot", "bestseller"),
		basket("2", "bob", daysAgo(20), "mug", "teapot"),
		basket("3", "cat", daysAgo(10), "mug", "bestseller"),
		basket("4", "dan", daysAgo(9), "gspade", "grake", "bestseller"),
		basket("5", "eve", daysAgo(8), "gspade", "bestseller"),
		basket("6", "fay", daysAgo(7), "bestseller", "grake"),
		viewed("7", "eve", daysAgo(2), "teapot", "kitchen"),
		basket("8", "cat", asOf.Add(24*time.Hour), "teapot"), // after as-of: not in the model
	})
	waitCursor(t, seg.app, last)
	if _, err := seg.client.CreateSegment(ctx, &segmentationv1.CreateSegmentRequest{SegmentId: "gardeners",
		Segment: &segmentationv1.Segment{Kind: segmentationv1.SegmentKind_SEGMENT_KIND_RULE, Rule: `recommendations.top_category == "garden"`}}); err != nil {
		t.Fatal(err)
	}
	recompute(t, seg.client)

	got, err := recs.GetCustomerRecommendations(ctx, &segmentationv1.GetCustomerRecommendationsRequest{Name: "customers/cat/recommendations", PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.GetItems()) != 2 || got.GetFallback() || got.GetItems()[0].GetSku() != "teapot" ||
		got.GetItems()[0].GetReason() != "bought with mug" || !got.GetModelTime().AsTime().Equal(asOf) {
		t.Errorf("cat: got %v, want 2 items, teapot first, bought with mug", got)
	}
	got, err = recs.GetCustomerRecommendations(ctx, &segmentationv1.GetCustomerRecommendationsRequest{Name: "customers/eve/recommendations", PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if it := got.GetItems(); len(it) != 1 || it[0].GetSku() != "teapot" || it[0].GetReason() != "viewed 2 days ago, not bought" ||
		it[0].GetReasonKind() != segmentationv1.RecommendationReason_RECOMMENDATION_REASON_VIEWED {
		t.Errorf("eve: got %v, want teapot viewed 2 days ago, not bought", got)
	}
	got, err = recs.GetCustomerRecommendations(ctx, &segmentationv1.GetCustomerRecommendationsRequest{Name: "customers/zed/recommendations"})
	if err != nil {
		t.Fatal(err)
	}
	if !got.GetFallback() || len(got.GetItems()) != 5 || got.GetItems()[0].GetSku() != "bestseller" || got.GetItems()[0].GetReason() != "popular" {
		t.Errorf("unknown customer: got %v, want the 5 items sold, bestseller first, marked fallback", got)
	}

	rel, err := recs.GetRelatedProducts(ctx, &segmentationv1.GetRelatedProductsRequest{Name: "products/gspade/related"})
	if err != nil {
		t.Fatal(err)
	}
	// Cosine: bestseller is bought with gspade by both its buyers, 2/√(2×5);
	// grake by one, 1/√(2×2).
	if rel.GetFallback() || len(rel.GetItems()) != 2 || rel.GetItems()[0].GetSku() != "bestseller" || rel.GetItems()[1].GetSku() != "grake" {
		t.Errorf("related to gspade: got %v, want bestseller then grake", rel)
	}
	rel, err = recs.GetRelatedProducts(ctx, &segmentationv1.GetRelatedProductsRequest{Name: "products/unknown/related", PageSize: 1})
	if err != nil || !rel.GetFallback() || len(rel.GetItems()) != 1 {
		t.Errorf("related to an unknown sku: got %v, %v; want one popular item, marked fallback", rel, err)
	}

	members, err := seg.client.ListMembers(ctx, &segmentationv1.ListMembersRequest{Parent: "segments/gardeners"})
	if err != nil {
		t.Fatal(err)
	}
	// dan bought two garden items and one kitchen item; eve and fay one of
	// each, and a tie goes to the category seen first (kitchen).
	if ids := members.GetCustomerIds(); !slices.Equal(ids, []string{"dan"}) {
		t.Errorf("gardeners: got %v, want dan", ids)
	}

	ev, err := recs.EvaluateRecommendations(ctx, &segmentationv1.EvaluateRecommendationsRequest{AsOfTime: timestamppb.New(asOf)})
	if err != nil {
		t.Fatal(err)
	}
	// cat bought teapot after as-of, and teapot is cat's first item.
	if ev.GetCustomers() != 1 || ev.GetK() != 10 || ev.GetModel().GetHitRate() != 1 || ev.GetCatalogueItems() != 5 {
		t.Errorf("evaluation: got %v, want 1 customer, k 10, hit rate 1, 5 items", ev)
	}

	checkRecommendationErrors(t, recs)
	checkIncludeRepurchases(t, seg, recs)

	// A new replica on the same database loads the history from the store
	// and builds the model of the latest recompute without running one.
	seg.stop()
	again := startSegmentation(t, cli, dsn, func() time.Time { return asOf }, 0)
	recs2 := segmentationv1.NewRecommendationServiceClient(stacktest.Dial(t, again.app.Addr()))
	waitFor(t, "the new replica's model", func() (bool, error) {
		rel, err := recs2.GetRelatedProducts(ctx, &segmentationv1.GetRelatedProductsRequest{Name: "products/mug/related"})
		return err == nil && !rel.GetFallback() && len(rel.GetItems()) > 0 && rel.GetItems()[0].GetSku() == "teapot", err
	})
	got, err = recs2.GetCustomerRecommendations(ctx, &segmentationv1.GetCustomerRecommendationsRequest{Name: "customers/cat/recommendations"})
	if err != nil || !slices.ContainsFunc(got.GetItems(), func(it *segmentationv1.RecommendedItem) bool { return it.GetSku() == "mug" }) {
		t.Errorf("new replica, cat: got %v, %v; want mug among them (include_repurchases from the recompute's settings)", got, err)
	}
}

func checkRecommendationErrors(t *testing.T, recs segmentationv1.RecommendationServiceClient) {
	ctx := context.Background()
	_, err := recs.GetCustomerRecommendations(ctx, &segmentationv1.GetCustomerRecommendationsRequest{Name: "customers/ann"})
	wantStatus(t, err, codes.InvalidArgument, "INVALID_ARGUMENT")
	_, err = recs.GetCustomerRecommendations(ctx, &segmentationv1.GetCustomerRecommendationsRequest{Name: "customers/ann/recommendations", PageSize: -1})
	wantStatus(t, err, codes.InvalidArgument, "INVALID_ARGUMENT")
	_, err = recs.GetRelatedProducts(ctx, &segmentationv1.GetRelatedProductsRequest{Name: "skus/x/related"})
	wantStatus(t, err, codes.InvalidArgument, "INVALID_ARGUMENT")
	_, err = recs.EvaluateRecommendations(ctx, &segmentationv1.EvaluateRecommendationsRequest{})
	wantStatus(t, err, codes.InvalidArgument, "INVALID_ARGUMENT")
}

// checkIncludeRepurchases turns the setting on: after a recompute, an item
// the customer bought may come back.
func checkIncludeRepurchases(t *testing.T, seg *segApp, recs segmentationv1.RecommendationServiceClient) {
	ctx := context.Background()
	if _, err := seg.client.UpdateSettings(ctx, &segmentationv1.UpdateSettingsRequest{
		Settings:   &segmentationv1.Settings{IncludeRepurchases: true},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"include_repurchases"}},
	}); err != nil {
		t.Fatal(err)
	}
	recompute(t, seg.client)
	got, err := recs.GetCustomerRecommendations(ctx, &segmentationv1.GetCustomerRecommendationsRequest{Name: "customers/cat/recommendations", PageSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	var skus []string
	for _, it := range got.GetItems() {
		skus = append(skus, it.GetSku())
	}
	if !slices.Contains(skus, "mug") {
		t.Errorf("with repurchases: got %v, want mug (bought) among them", skus)
	}
}
