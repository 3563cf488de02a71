package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	loyaltyv1 "github.com/tenurehq/tenure/gen/tenure/loyalty/v1"
	"github.com/tenurehq/tenure/services/platform/auth"
)

// loyaltyFlags are the flags every loyalty command has.
type loyaltyFlags struct {
	gateway, output *string
}

func addLoyaltyFlags(fs interface {
	String(name, value, usage string) *string
}) loyaltyFlags {
	return loyaltyFlags{
		gateway: fs.String("gateway", DefaultGateway, "JSON gateway base URL"),
		output:  fs.String("output", "text", "format: text or json"),
	}
}

// client checks the flags and returns the gateway client.
func (f loyaltyFlags) client() (*gatewayAPI, error) {
	if err := checkOutput(*f.output); err != nil {
		return nil, err
	}
	if err := checkGatewayURL(*f.gateway); err != nil {
		return nil, err
	}
	hc, err := auth.ClientHTTP(5 * time.Minute)
	if err != nil {
		return nil, err
	}
	return &gatewayAPI{base: *f.gateway, http: hc}, nil
}

// show prints m as JSON, or as text through text.
func (f loyaltyFlags) show(w io.Writer, m proto.Message, text func(line func(k, format string, a ...any))) error {
	if *f.output == "json" {
		return printProtoJSON(w, m)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	text(func(k, format string, a ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, a...)...) })
	return tw.Flush()
}

// member parses the member id among args and returns it with the client.
func (f loyaltyFlags) member(fs *flag.FlagSet, args []string) (string, *gatewayAPI, error) {
	id, err := parseWithID(fs, args, "a member id")
	if err != nil {
		return "", nil, err
	}
	g, err := f.client()
	return id, g, err
}

func memberPath(id string) string { return "/v1/members/" + url.PathEscape(id) }

func loyaltyShow(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "loyalty", "show", "ID [--gateway URL] [--output text|json]")
	lf := addLoyaltyFlags(fs)
	id, g, err := lf.member(fs, args)
	if err != nil {
		return err
	}
	m := new(loyaltyv1.Member)
	if err := g.call(ctx, http.MethodGet, memberPath(id), nil, m); err != nil {
		return fmt.Errorf("member %s: %w", id, err)
	}
	return lf.show(env.Stdout, m, func(line func(k, format string, a ...any)) {
		line("member", "%s", m.GetMemberId())
		line("tier", "%s (since %s, kept until %s)", m.GetTier(), formatTime(m.GetTierSince()), formatTime(m.GetTierUntil()))
		line("available", "%s", grouped(int(m.GetAvailablePoints())))
		line("pending", "%s", grouped(int(m.GetPendingPoints())))
		line("lifetime", "%s", grouped(int(m.GetLifetimePoints())))
		line("expiring in 30 days", "%s", grouped(int(m.GetExpiringPoints())))
		line("qualifying", "%s", grouped(int(m.GetQualifyingPoints())))
		if m.GetNextTier() != "" {
			line("next tier", "%s in %s points", m.GetNextTier(), grouped(int(m.GetPointsToNextTier())))
		}
	})
}

func loyaltyLedger(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "loyalty", "ledger", "ID [--limit N] [--gateway URL] [--output text|json]")
	lf := addLoyaltyFlags(fs)
	limit := fs.Int("limit", 50, "newest entries to show, at most 500")
	id, g, err := lf.member(fs, args)
	if err != nil {
		return err
	}
	resp := new(loyaltyv1.ListLedgerEntriesResponse)
	if err := g.call(ctx, http.MethodGet, fmt.Sprintf("%s/ledger?pageSize=%d", memberPath(id), *limit), nil, resp); err != nil {
		return fmt.Errorf("ledger of %s: %w", id, err)
	}
	if *lf.output == "json" {
		return printProtoJSON(env.Stdout, resp)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "time\ttype\tpoints\tunrecovered\tsource")
	for _, e := range resp.GetEntries() {
		src := strings.Join(nonEmpty(e.GetOrderId(), e.GetEventId(), e.GetAction(), e.GetRewardRedemption(), e.GetOperator(), e.GetReason()), " ")
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", formatTime(e.GetTime()), strings.ToLower(strings.TrimPrefix(e.GetType().String(), "ENTRY_TYPE_")),
			e.GetPoints(), e.GetUnrecoveredPoints(), src)
	}
	return tw.Flush()
}

func nonEmpty(s ...string) []string {
	var out []string
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

func loyaltyAdjust(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "loyalty", "adjust", "ID --points N --reason TEXT [--operator NAME] [--request-id KEY] [--gateway URL]")
	lf := addLoyaltyFlags(fs)
	points := fs.Int64("points", 0, "points to credit (positive) or debit (negative)")
	reason := fs.String("reason", "", "why (required)")
	operator := fs.String("operator", "tenurectl", "who adjusts")
	requestID := fs.String("request-id", "", "idempotency key: a retry with the same key adjusts once")
	id, g, err := lf.member(fs, args)
	if err != nil {
		return err
	}
	if *points == 0 || *reason == "" {
		return fmt.Errorf("%w: --points (not 0) and --reason are required", ErrUsage)
	}
	req := &loyaltyv1.AdjustPointsRequest{Points: *points, Reason: *reason, Operator: *operator, RequestId: *requestID}
	resp := new(loyaltyv1.AdjustPointsResponse)
	if err := g.call(ctx, http.MethodPost, memberPath(id)+":adjustPoints", req, resp); err != nil {
		return fmt.Errorf("adjust %s: %w", id, err)
	}
	return lf.show(env.Stdout, resp, func(line func(k, format string, a ...any)) {
		line("entry", "%s", resp.GetEntry().GetName())
		line("points", "%d", resp.GetEntry().GetPoints())
		line("available", "%s", grouped(int(resp.GetAvailablePoints())))
	})
}

func loyaltyReport(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "loyalty", "report", "[--gateway URL] [--output text|json]")
	lf := addLoyaltyFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	g, err := lf.client()
	if err != nil {
		return err
	}
	r := new(loyaltyv1.Report)
	if err := g.call(ctx, http.MethodGet, "/v1/loyalty/report", nil, r); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return lf.show(env.Stdout, r, func(line func(k, format string, a ...any)) {
		line("available", "%s points (%s)", grouped(int(r.GetAvailablePoints())),
			formatMoney(r.GetAvailableValue().GetCurrencyCode(), r.GetAvailableValue().GetAmountMinor()))
		line("pending", "%s points (%s)", grouped(int(r.GetPendingPoints())),
			formatMoney(r.GetPendingValue().GetCurrencyCode(), r.GetPendingValue().GetAmountMinor()))
		line("unrecovered", "%s points", grouped(int(r.GetUnrecoveredPoints())))
		line("skipped orders", "%s", grouped(int(r.GetSkippedOrders())))
		for _, t := range r.GetTiers() {
			line("tier "+t.GetTierId(), "%s members", grouped(int(t.GetMembers())))
		}
		for _, m := range r.GetMonths() {
			line(m.GetMonth(), "earned %d, redeemed %d, expired %d, reversed %d", m.GetEarned(), m.GetRedeemed(), m.GetExpired(), m.GetReversed())
		}
	})
}

// loyaltyJobs are the jobs "loyalty run" starts, by name, with their routes.
var loyaltyJobs = map[string]string{
	"expire":    "/v1/loyalty:expirePoints",
	"tiers":     "/v1/loyalty:evaluateTiers",
	"birthdays": "/v1/loyalty:giveBirthdayPoints",
}

func loyaltyRun(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "loyalty", "run", "expire|tiers|birthdays [--as-of TIME] [--request-id KEY] [--gateway URL] [--output text|json]")
	lf := addLoyaltyFlags(fs)
	asOf := fs.String("as-of", "", "run as of this RFC 3339 time, e.g. 2026-11-10T00:00:00Z (default now)")
	requestID := fs.String("request-id", "", "idempotency key")
	job, err := parseWithID(fs, args, "a job (expire, tiers or birthdays)")
	if err != nil {
		return err
	}
	route, ok := loyaltyJobs[job]
	if !ok {
		return fmt.Errorf("%w: the job must be expire, tiers or birthdays, got %q", ErrUsage, job)
	}
	req := &loyaltyv1.ExpirePointsRequest{RequestId: *requestID} // the three requests have the same fields
	if *asOf != "" {
		t, err := time.Parse(time.RFC3339Nano, *asOf)
		if err != nil {
			return fmt.Errorf("%w: --as-of: %v", ErrUsage, err)
		}
		req.AsOfTime = timestamppb.New(t)
	}
	g, err := lf.client()
	if err != nil {
		return err
	}
	op := new(loyaltyv1.Operation)
	if err := g.call(ctx, http.MethodPost, route, req, op); err != nil {
		return fmt.Errorf("run %s: %w", job, err)
	}
	return lf.show(env.Stdout, op, func(line func(k, format string, a ...any)) {
		line("operation", "%s", op.GetName())
		line("state", "%s", strings.TrimPrefix(op.GetState().String(), "OPERATION_STATE_"))
		line("as of", "%s", formatTime(op.GetAsOfTime()))
		line("members changed", "%s", grouped(int(op.GetMembersChanged())))
		line("points", "%s", grouped(int(op.GetPoints())))
		if op.GetErrorMessage() != "" {
			line("error", "%s", op.GetErrorMessage())
		}
	})
}
