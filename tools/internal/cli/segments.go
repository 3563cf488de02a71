package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
)

// ErrRecomputeFailed is a recompute that ended in the FAILED state.
var ErrRecomputeFailed = errors.New("tenurectl: recompute failed")

// transportFlags are the ways a segmentation command reaches the service.
type transportFlags struct {
	gateway, grpc *string
}

func addTransportFlags(fs interface {
	String(name, value, usage string) *string
}) transportFlags {
	return transportFlags{
		gateway: fs.String("gateway", "", "JSON gateway base URL (default "+DefaultGateway+" when --grpc is not given)"),
		grpc:    fs.String("grpc", "", "host:port of a segmentation service replica, to call over gRPC instead of the gateway"),
	}
}

func checkOutput(output string) error {
	if output != "text" && output != "json" {
		return fmt.Errorf("%w: --output must be text or json", ErrUsage)
	}
	return nil
}

func segmentsRecompute(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "segments", "recompute", "[--as-of TIME] [--wait] [--gateway URL | --grpc HOST:PORT]")
	tf := addTransportFlags(fs)
	asOf := fs.String("as-of", "", "score as of this date (2011-12-10, midnight UTC) or RFC 3339 time (2011-12-10T09:30:00Z); default now")
	wait := fs.Bool("wait", false, "poll the operation until it ends, with a progress bar on a terminal")
	poll := fs.Duration("poll", 250*time.Millisecond, "how often --wait polls the operation")
	requestID := fs.String("request-id", "", "idempotency key: a retry with the same key returns the same operation")
	output := fs.String("output", "text", "summary format: text or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkOutput(*output); err != nil {
		return err
	}
	if *poll <= 0 {
		return fmt.Errorf("%w: --poll must be positive", ErrUsage)
	}
	req := &segmentationv1.RecomputeRequest{RequestId: *requestID}
	if *asOf != "" {
		t, err := parseAsOf(*asOf)
		if err != nil {
			return err
		}
		req.AsOfTime = timestamppb.New(t)
	}
	c, closeAPI, err := connect(*tf.gateway, *tf.grpc, "")
	if err != nil {
		return err
	}
	defer closeAPI()

	op, err := c.Recompute(ctx, req)
	if err != nil {
		return fmt.Errorf("recompute: %w", err)
	}
	if *wait && !op.GetDone() {
		if op, err = waitOperation(ctx, env, c, op, *poll); err != nil {
			return err
		}
	}
	if err := printOperation(env.Stdout, *output, op); err != nil {
		return err
	}
	if op.GetState() == segmentationv1.OperationState_OPERATION_STATE_FAILED {
		return fmt.Errorf("%w: %s: %s", ErrRecomputeFailed, op.GetName(), op.GetErrorMessage())
	}
	return nil
}

// parseAsOf reads --as-of: a date, meaning midnight UTC, or an RFC 3339
// time.
func parseAsOf(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%w: --as-of %q is neither a date such as 2011-12-10 (midnight UTC) "+
		"nor an RFC 3339 time such as 2011-12-10T09:30:00Z (a zone, Z or +01:00, is required)", ErrUsage, s)
}

// waitOperation polls op until it is done, drawing progress on a terminal.
func waitOperation(ctx context.Context, env Env, c api, op *segmentationv1.Operation, every time.Duration) (*segmentationv1.Operation, error) {
	var bar *progressBar
	if env.Terminal {
		bar = newProgressBar(env.Stderr, int(op.GetCustomersTotal()), "customers", time.Now())
		defer bar.finish()
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	name := op.GetName()
	for !op.GetDone() {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for %s: %w", name, ctx.Err())
		case <-tick.C:
		}
		next, err := c.GetOperation(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("get %s: %w", name, err)
		}
		op = next
		if bar != nil {
			bar.total = int(op.GetCustomersTotal())
			bar.update(int(op.GetCustomersDone()), time.Now())
		}
	}
	return op, nil
}

// stateName is an operation state without its enum prefix: "SUCCEEDED".
func stateName(s segmentationv1.OperationState) string {
	return strings.TrimPrefix(s.String(), "OPERATION_STATE_")
}

func printOperation(w io.Writer, format string, op *segmentationv1.Operation) error {
	if format == "json" {
		return printProtoJSON(w, op)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(k, format string, a ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, a...)...) }
	line("operation", "%s", op.GetName())
	line("state", "%s", stateName(op.GetState()))
	line("as of", "%s", formatTime(op.GetAsOfTime()))
	line("settings version", "%d", op.GetSettingsVersion())
	line("customers", "%s of %s", grouped(int(op.GetCustomersDone())), grouped(int(op.GetCustomersTotal())))
	line("input sequence", "%d", op.GetInputSequence())
	line("trigger", "%s", strings.ToLower(strings.TrimPrefix(op.GetTrigger().String(), "OPERATION_TRIGGER_")))
	line("started", "%s", formatTime(op.GetCreateTime()))
	if op.GetEndTime() != nil {
		line("ended", "%s (%s)", formatTime(op.GetEndTime()),
			op.GetEndTime().AsTime().Sub(op.GetCreateTime().AsTime()).Round(time.Millisecond))
	}
	if op.GetErrorMessage() != "" {
		line("error", "%s", op.GetErrorMessage())
	}
	return tw.Flush()
}

func segmentsReport(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "segments", "report", "[--gateway URL | --grpc HOST:PORT] [--output text|json]")
	tf := addTransportFlags(fs)
	output := fs.String("output", "text", "format: text or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkOutput(*output); err != nil {
		return err
	}
	c, closeAPI, err := connect(*tf.gateway, *tf.grpc, "")
	if err != nil {
		return err
	}
	defer closeAPI()
	r, err := c.GetReport(ctx)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if *output == "json" {
		return printProtoJSON(env.Stdout, r)
	}
	return printReport(env.Stdout, r)
}

func printReport(w io.Writer, r *segmentationv1.Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(k, format string, a ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, a...)...) }
	line("operation", "%s", r.GetOperation())
	line("as of", "%s", formatTime(r.GetAsOfTime()))
	line("settings version", "%d", r.GetSettingsVersion())
	line("customers", "%s (%s with orders)", grouped(int(r.GetCustomers())), grouped(int(r.GetScoredCustomers())))
	totals := make([]string, 0, len(r.GetMonetaryTotal()))
	for _, m := range r.GetMonetaryTotal() {
		totals = append(totals, formatMoney(m.GetCurrencyCode(), m.GetAmountMinor()))
	}
	if len(totals) > 0 {
		line("monetary total", "%s", strings.Join(totals, ", "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	scored, all := r.GetScoredCustomers(), r.GetCustomers()
	for _, t := range []struct {
		title, key string
		counts     []*segmentationv1.Count
		of         int64
	}{
		{"RFM segments", "segment", r.GetRfmSegments(), scored},
		{"Value tiers", "tier", r.GetValueTiers(), scored},
		{"Lifecycle stages", "stage", r.GetLifecycleStages(), all},
		{"R scores", "score", r.GetRScores(), scored},
		{"F scores", "score", r.GetFScores(), scored},
		{"M scores", "score", r.GetMScores(), scored},
		{"Segments", "segment", r.GetSegments(), all},
	} {
		fmt.Fprintf(w, "\n%s\n", t.title)
		printCounts(w, t.key, t.counts, t.of)
	}
	return printPredictionReport(w, r.GetPrediction())
}

// printCounts writes one distribution as an aligned table: key, customers
// (right-aligned) and share of of.
func printCounts(w io.Writer, key string, counts []*segmentationv1.Count, of int64) {
	if len(counts) == 0 {
		fmt.Fprintln(w, "  (none)")
		return
	}
	kw, nw := len(key), len("customers")
	for _, c := range counts {
		kw = max(kw, len(c.GetKey()))
		nw = max(nw, len(grouped(int(c.GetCustomers()))))
	}
	fmt.Fprintf(w, "  %-*s  %*s  %6s\n", kw, key, nw, "customers", "share")
	var sum int64
	for _, c := range counts {
		sum += c.GetCustomers()
		fmt.Fprintf(w, "  %-*s  %*s  %6s\n", kw, c.GetKey(), nw, grouped(int(c.GetCustomers())), share(c.GetCustomers(), of))
	}
	fmt.Fprintf(w, "  %-*s  %*s\n", kw, "total", nw, grouped(int(sum)))
}

func share(n, of int64) string {
	if of <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(of))
}

func formatTime(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return "-"
	}
	return ts.AsTime().UTC().Format(time.RFC3339)
}

// zeroDecimal lists the common ISO 4217 currencies without minor units.
var zeroDecimal = map[string]bool{"JPY": true, "KRW": true, "ISK": true, "CLP": true, "VND": true, "XAF": true, "XOF": true}

// formatMoney renders minor units with the currency's decimals and
// thousands separators: ("GBP", 431000) → "GBP 4,310.00".
func formatMoney(currency string, minor int64) string {
	if currency == "" {
		return "-"
	}
	if zeroDecimal[currency] {
		return currency + " " + grouped(int(minor))
	}
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return fmt.Sprintf("%s %s%s.%02d", currency, sign, grouped(int(minor/100)), minor%100)
}

func printProtoJSON(w io.Writer, m proto.Message) error {
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
