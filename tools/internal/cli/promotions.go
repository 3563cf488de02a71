package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	typev1 "github.com/tenurehq/tenure/gen/tenure/type/v1"
)

// target parses the one argument, what it names, and returns it with the
// gateway client.
func (f loyaltyFlags) target(fs *flag.FlagSet, args []string, what string) (string, *gatewayAPI, error) {
	id, err := parseWithID(fs, args, what)
	if err != nil {
		return "", nil, err
	}
	g, err := f.client()
	return id, g, err
}

func campaignPath(id string) string { return "/v1/campaigns/" + url.PathEscape(id) }

// promotionPath is the path of "CAMPAIGN/PROMOTION".
func promotionPath(arg string) (string, error) {
	c, p, ok := strings.Cut(arg, "/")
	if !ok || c == "" || p == "" || strings.Contains(p, "/") {
		return "", fmt.Errorf("%w: the promotion is CAMPAIGN/PROMOTION, got %q", ErrUsage, arg)
	}
	return campaignPath(c) + "/promotions/" + url.PathEscape(p), nil
}

func amount(m *typev1.Money) string {
	if m == nil {
		return "-"
	}
	return fmt.Sprintf("%s %s", grouped(int(m.GetAmountMinor())), m.GetCurrencyCode())
}

func campaignsList(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "campaigns", "list", "[--gateway URL] [--output text|json]")
	lf := addLoyaltyFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	g, err := lf.client()
	if err != nil {
		return err
	}
	all := &promotionv1.ListCampaignsResponse{}
	for token := ""; ; {
		page := new(promotionv1.ListCampaignsResponse)
		if err := g.call(ctx, http.MethodGet, "/v1/campaigns?pageSize=500&pageToken="+url.QueryEscape(token), nil, page); err != nil {
			return fmt.Errorf("campaigns: %w", err)
		}
		all.Campaigns = append(all.Campaigns, page.GetCampaigns()...)
		if token = page.GetNextPageToken(); token == "" {
			break
		}
	}
	if *lf.output == "json" {
		return printProtoJSON(env.Stdout, all)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "campaign\tstate\tobjective\tbudget used\tbudget")
	for _, c := range all.GetCampaigns() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.GetCampaignId(), strings.ToLower(strings.TrimPrefix(c.GetState().String(), "CAMPAIGN_STATE_")),
			strings.ToLower(strings.TrimPrefix(c.GetObjective().String(), "OBJECTIVE_")), amount(c.GetBudgetUsed()), amount(c.GetBudget()))
	}
	return tw.Flush()
}

func campaignsShow(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "campaigns", "show", "ID [--gateway URL] [--output text|json]")
	lf := addLoyaltyFlags(fs)
	id, g, err := lf.target(fs, args, "a campaign id")
	if err != nil {
		return err
	}
	c := new(promotionv1.Campaign)
	if err := g.call(ctx, http.MethodGet, campaignPath(id), nil, c); err != nil {
		return fmt.Errorf("campaign %s: %w", id, err)
	}
	ps := new(promotionv1.ListPromotionsResponse)
	if err := g.call(ctx, http.MethodGet, campaignPath(id)+"/promotions?pageSize=500", nil, ps); err != nil {
		return fmt.Errorf("promotions of %s: %w", id, err)
	}
	if *lf.output == "json" {
		return printProtoJSON(env.Stdout, c)
	}
	return lf.show(env.Stdout, c, func(line func(k, format string, a ...any)) {
		line("campaign", "%s %s", c.GetCampaignId(), c.GetDisplayName())
		line("state", "%s", strings.ToLower(strings.TrimPrefix(c.GetState().String(), "CAMPAIGN_STATE_")))
		line("schedule", "%s to %s", formatTime(c.GetStartTime()), formatTime(c.GetEndTime()))
		line("budget", "%s used of %s", amount(c.GetBudgetUsed()), amount(c.GetBudget()))
		line("holdout", "%d %% (frozen audience %d)", c.GetHoldoutPercent(), c.GetFrozenAudienceSize())
		for _, p := range ps.GetPromotions() {
			line("promotion", "%s: %d uses, %s spent", p.GetPromotionId(), p.GetUses(), amount(p.GetBudgetUsed()))
		}
	})
}

func campaignsReport(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "campaigns", "report", "ID [--gateway URL] [--output text|json]")
	lf := addLoyaltyFlags(fs)
	id, g, err := lf.target(fs, args, "a campaign id")
	if err != nil {
		return err
	}
	r := new(promotionv1.Report)
	if err := g.call(ctx, http.MethodGet, campaignPath(id)+"/report", nil, r); err != nil {
		return fmt.Errorf("report of %s: %w", id, err)
	}
	return lf.show(env.Stdout, r, func(line func(k, format string, a ...any)) {
		line("redemptions", "%s", grouped(int(r.GetRedemptions())))
		line("discount cost", "%s", amount(r.GetDiscountCost()))
		line("revenue of redeemed orders", "%s", amount(r.GetRevenue()))
		line("budget", "%s used of %s", amount(r.GetBudgetUsed()), amount(r.GetBudget()))
		if r.GetHasHoldout() {
			for _, g := range []struct {
				name string
				f    *promotionv1.GroupFigures
			}{{"treatment", r.GetTreatment()}, {"control", r.GetControl()}} {
				line(g.name, "%d members, %d converters, %d orders, %s revenue, %s discount", g.f.GetMembers(), g.f.GetConverters(),
					g.f.GetOrders(), amount(g.f.GetRevenue()), amount(g.f.GetDiscountCost()))
			}
			line("conversion lift", "%+.2f points (95 %% CI %+.2f to %+.2f)", r.GetLiftPoints(), r.GetLiftCiLow(), r.GetLiftCiHigh())
			line("incremental revenue", "%s", amount(r.GetIncrementalRevenue()))
			line("ROI", "%.2f", r.GetRoi())
		}
		for _, d := range r.GetDays() {
			line(d.GetDay(), "%d redemptions, %s discount, %d/%d orders (treatment/control)", d.GetRedemptions(), amount(d.GetDiscountCost()),
				d.GetTreatmentOrders(), d.GetControlOrders())
		}
	})
}

func codesGenerate(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "codes", "generate", "CAMPAIGN/PROMOTION --count N [--length L] [--prefix P] [--max-uses U] [--gateway URL]")
	lf := addLoyaltyFlags(fs)
	count := fs.Int("count", 0, "codes to generate, 1 to 1,000,000")
	length := fs.Int("length", 10, "characters after the prefix")
	prefix := fs.String("prefix", "", "prefix of every code")
	maxUses := fs.Int("max-uses", 1, "uses of each code")
	arg, g, err := lf.target(fs, args, "a promotion, CAMPAIGN/PROMOTION")
	if err != nil {
		return err
	}
	path, err := promotionPath(arg)
	if err != nil {
		return err
	}
	op := new(promotionv1.Operation)
	req := &promotionv1.GenerateCodesRequest{Count: int64(*count), Length: int32(*length), Prefix: *prefix, MaxUses: int64(*maxUses)}
	if err := g.call(ctx, http.MethodPost, path+"/codes:generate", req, op); err != nil {
		return fmt.Errorf("generate codes: %w", err)
	}
	var bar *progressBar
	if env.Terminal {
		bar = newProgressBar(env.Stderr, int(op.GetCodesTotal()), "codes", time.Now())
	}
	for !op.GetDone() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if err := g.call(ctx, http.MethodGet, "/v1/"+op.GetName(), nil, op); err != nil {
			return fmt.Errorf("get %s: %w", op.GetName(), err)
		}
		if bar != nil {
			bar.update(int(op.GetCodesDone()), time.Now())
		}
	}
	if bar != nil {
		bar.finish()
	}
	if op.GetState() != promotionv1.OperationState_OPERATION_STATE_SUCCEEDED {
		return fmt.Errorf("%s failed: %s", op.GetName(), op.GetErrorMessage())
	}
	if *lf.output == "json" {
		return printProtoJSON(env.Stdout, op)
	}
	fmt.Fprintf(env.Stdout, "%s codes generated for %s (%s)\n", grouped(int(op.GetCodesDone())), op.GetPromotion(), op.GetName())
	return nil
}

func codesExport(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "codes", "export", "CAMPAIGN/PROMOTION [--gateway URL]")
	lf := addLoyaltyFlags(fs)
	arg, g, err := lf.target(fs, args, "a promotion, CAMPAIGN/PROMOTION")
	if err != nil {
		return err
	}
	path, err := promotionPath(arg)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, "code,max_uses,uses,customer_id")
	for token := ""; ; {
		page := new(promotionv1.ListCodesResponse)
		if err := g.call(ctx, http.MethodGet, path+"/codes?pageSize=10000&pageToken="+url.QueryEscape(token), nil, page); err != nil {
			return fmt.Errorf("codes: %w", err)
		}
		for _, c := range page.GetCodes() {
			fmt.Fprintf(env.Stdout, "%s,%d,%d,%s\n", c.GetCode(), c.GetMaxUses(), c.GetUses(), c.GetCustomerId())
		}
		if token = page.GetNextPageToken(); token == "" {
			return nil
		}
	}
}

func cartsEvaluate(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "carts", "evaluate", "--file cart.json [--gateway URL] [--output text|json]")
	lf := addLoyaltyFlags(fs)
	file := fs.String("file", "", "the cart as JSON (customerId, currencyCode, lines, …); - reads stdin")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *file == "" {
		return fmt.Errorf("%w: --file is required", ErrUsage)
	}
	g, err := lf.client()
	if err != nil {
		return err
	}
	var b []byte
	if *file == "-" {
		b, err = io.ReadAll(os.Stdin)
	} else {
		b, err = os.ReadFile(*file)
	}
	if err != nil {
		return err
	}
	cart := new(promotionv1.Cart)
	if err := protojson.Unmarshal(b, cart); err != nil {
		return fmt.Errorf("%s: %w", *file, err)
	}
	e := new(promotionv1.Evaluation)
	if err := g.call(ctx, http.MethodPost, "/v1/carts:evaluate", cart, e); err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	return lf.show(env.Stdout, e, func(line func(k, format string, a ...any)) {
		for _, l := range e.GetLines() {
			line("line "+l.GetLineId(), "%s − %s = %s", amount(l.GetSubtotal()), amount(l.GetDiscount()), amount(l.GetFinalPrice()))
		}
		line("shipping", "%s − %s", amount(e.GetShippingFee()), amount(e.GetShippingDiscount()))
		line("total", "%s", amount(e.GetTotal()))
		for _, a := range e.GetApplied() {
			line("applied", "%s %s", a.GetPromotion(), amount(a.GetDiscount()))
		}
		for _, n := range e.GetNotApplied() {
			line("not applied", "%s %s %s", strings.Join(nonEmpty(n.GetPromotion(), n.GetCode()), " "), n.GetReason(), n.GetMessage())
		}
	})
}
