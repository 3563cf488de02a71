package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"text/tabwriter"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	"github.com/tenurehq/tenure/services/platform/auth"
)

// recommendationsEvaluate backtests segmentation's recommendation model
// against the popularity baseline.
func recommendationsEvaluate(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "recommendations", "evaluate", "--as-of TIME [--k N] [--gateway URL | --grpc HOST:PORT]")
	tf := addTransportFlags(fs)
	asOf := fs.String("as-of", "", "split the purchase history at this date (2011-09-01, midnight UTC) or RFC 3339 time; required")
	k := fs.Int("k", 10, "how many items each customer gets (at most 100)")
	output := fs.String("output", "text", "report format: text or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkOutput(*output); err != nil {
		return err
	}
	if *asOf == "" {
		return fmt.Errorf("%w: --as-of is required, e.g. --as-of 2011-09-01", ErrUsage)
	}
	if *k < 1 || *k > 100 {
		return fmt.Errorf("%w: --k must be from 1 to 100, got %d", ErrUsage, *k)
	}
	t, err := parseAsOf(*asOf)
	if err != nil {
		return err
	}
	req := &segmentationv1.EvaluateRecommendationsRequest{AsOfTime: timestamppb.New(t), K: int32(*k)}
	resp, err := evaluateRecommendations(ctx, *tf.gateway, *tf.grpc, req)
	if err != nil {
		return fmt.Errorf("evaluate recommendations: %w", err)
	}
	return printEvaluation(env.Stdout, *output, resp)
}

// evaluateRecommendations calls EvaluateRecommendations over gRPC when
// segAddr is given, else through the gateway.
func evaluateRecommendations(ctx context.Context, gateway, segAddr string, req *segmentationv1.EvaluateRecommendationsRequest) (*segmentationv1.EvaluateRecommendationsResponse, error) {
	if segAddr != "" {
		if gateway != "" {
			return nil, fmt.Errorf("%w: give --gateway or --grpc, not both", ErrUsage)
		}
		conn, err := dial(segAddr)
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		resp, err := segmentationv1.NewRecommendationServiceClient(conn).EvaluateRecommendations(ctx, req)
		return resp, grpcErr(err)
	}
	if gateway == "" {
		gateway = DefaultGateway
	}
	if err := checkGatewayURL(gateway); err != nil {
		return nil, err
	}
	hc, err := auth.ClientHTTP(0)
	if err != nil {
		return nil, err
	}
	g := &gatewayAPI{base: gateway, http: hc}
	resp := new(segmentationv1.EvaluateRecommendationsResponse)
	return resp, g.call(ctx, http.MethodPost, "/v1/recommendations:evaluate", req, resp)
}

// printEvaluation writes the model and the baseline side by side.
func printEvaluation(w io.Writer, output string, r *segmentationv1.EvaluateRecommendationsResponse) error {
	if output == "json" {
		b, err := protojson.MarshalOptions{Multiline: true, EmitUnpopulated: true}.Marshal(r)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(w, string(b))
		return err
	}
	fmt.Fprintf(w, "split at %s; %d customers bought something new afterwards; %d items sold before\n\n",
		r.GetAsOfTime().AsTime().Format("2006-01-02T15:04:05Z07:00"), r.GetCustomers(), r.GetCatalogueItems())
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "\thit rate@%d\tprecision@%d\tcoverage\t\n", r.GetK(), r.GetK())
	for _, row := range []struct {
		name string
		m    *segmentationv1.RecommendationMetrics
	}{{"model", r.GetModel()}, {"popularity baseline", r.GetBaseline()}} {
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\t\n", row.name, row.m.GetHitRate(), row.m.GetPrecision(), row.m.GetCoverage())
	}
	return tw.Flush()
}
