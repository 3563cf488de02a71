package grpcapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	"github.com/tenurehq/tenure/services/platform/grpcclient"
	"github.com/tenurehq/tenure/services/platform/grpcserver"
	"github.com/tenurehq/tenure/services/segmentation/internal/grpcapi"
	"github.com/tenurehq/tenure/services/segmentation/internal/recommend"
	"github.com/tenurehq/tenure/services/segmentation/internal/recommend/recommendtest"
)

// BenchmarkGetCustomerRecommendations calls GetCustomerRecommendations
// (10 items) over a real socket on the platform's gRPC server (its whole
// interceptor chain), one call at a time, for customers spread over a
// synthetic history of $TENURE_BENCH_RECO_CUSTOMERS customers (default
// 100,000) and 50,000 items, and reports the p50 and p99 latency.
func BenchmarkGetCustomerRecommendations(b *testing.B) {
	n := recommendtest.BenchCustomers(b, 100_000)
	ctx := context.Background()
	end := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	svc := recommend.NewService(recommendtest.Store{Config: recommendtest.Config{Customers: n, Items: 50_000, Seed: 1, End: end.Add(-time.Hour)}},
		recommend.Options{}, func() time.Time { return end })
	if _, err := svc.Rebuild(ctx, "op-1", end, false); err != nil {
		b.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := grpcserver.New(grpcserver.Config{Service: "segmentation", Logger: logger, Errors: grpcapi.ErrorTable(logger)})
	if err != nil {
		b.Fatal(err)
	}
	grpcapi.NewRecommendations(svc).Register(srv.GRPC())
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(sctx) }()
	defer func() { stop(); <-done }()
	conn, err := grpcclient.NewClient(srv.Addr())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	client := segmentationv1.NewRecommendationServiceClient(conn)

	var lat []time.Duration
	i := 0
	b.ResetTimer()
	for b.Loop() {
		name := fmt.Sprintf("customers/c%08d/recommendations", (i*7919)%n)
		i++
		start := time.Now()
		resp, err := client.GetCustomerRecommendations(ctx, &segmentationv1.GetCustomerRecommendationsRequest{Name: name})
		lat = append(lat, time.Since(start))
		if err != nil || len(resp.GetItems()) != 10 {
			b.Fatalf("%s: %v, %d items", name, err, len(resp.GetItems()))
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
