package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
)

// journeysReport prints a journey's outreach report: its messages by
// outcome and the orders within the attribution window, against the
// control group when its campaign has a holdout.
func journeysReport(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "journeys", "report", "ID [--window 168h] [--gateway URL] [--output text|json]")
	lf := addLoyaltyFlags(fs)
	window := fs.Duration("window", 0, "attribution window: orders this long after a message count (default 7 days, at most 90)")
	id, g, err := lf.target(fs, args, "a journey id")
	if err != nil {
		return err
	}
	path := journeyPath(id) + "/report"
	if *window != 0 {
		path += "?attributionWindow=" + url.QueryEscape(fmt.Sprintf("%ds", int64(window.Seconds())))
	}
	r := new(promotionv1.OutreachReport)
	if err := g.call(ctx, http.MethodGet, path, nil, r); err != nil {
		return fmt.Errorf("report of %s: %w", id, err)
	}
	return lf.show(env.Stdout, r, func(line func(k, format string, a ...any)) {
		line("journey", "%s", id)
		line("attribution window", "%s", r.GetAttributionWindow().AsDuration().Round(time.Second))
		line("triggered", "%s", grouped(int(r.GetTriggered())))
		for _, s := range r.GetSuppressed() {
			line("suppressed "+lowerEnum(s.GetReason().String(), "SUPPRESSION_REASON_"), "%s", grouped(int(s.GetCount())))
		}
		line("pending", "%s", grouped(int(r.GetPending())))
		line("dead", "%s", grouped(int(r.GetDead())))
		line("sent", "%s", grouped(int(r.GetSent())))
		for _, c := range r.GetSentByChannel() {
			line("sent by "+lowerEnum(c.GetChannel().String(), "OUTREACH_CHANNEL_"), "%s", grouped(int(c.GetCount())))
		}
		for _, c := range []struct {
			name string
			n    int64
		}{{"delivered", r.GetDelivered()}, {"opened", r.GetOpened()}, {"clicked", r.GetClicked()}, {"unsubscribed", r.GetUnsubscribed()}} {
			line(c.name, "%s%s", grouped(int(c.n)), ofSent(c.n, r.GetSent()))
		}
		groups := []struct {
			name string
			g    *promotionv1.OutreachGroup
		}{{"treatment", r.GetTreatment()}}
		if r.GetHasControl() {
			groups = append(groups, struct {
				name string
				g    *promotionv1.OutreachGroup
			}{"control", r.GetControl()})
		}
		for _, g := range groups {
			line(g.name, "%d messages, %d converted%s, %d orders, %s revenue (minor units)", g.g.GetMessages(), g.g.GetConverters(),
				ofSent(g.g.GetConverters(), g.g.GetMessages()), g.g.GetOrders(), grouped(int(g.g.GetRevenueMinor())))
		}
		if r.GetHasControl() {
			line("conversion lift", "%+.2f points (95 %% CI %+.2f to %+.2f)", r.GetLiftPoints(), r.GetLiftCiLow(), r.GetLiftCiHigh())
		}
	})
}

// ofSent is " (n %)" of part in whole, or "" when whole is 0.
func ofSent(part, whole int64) string {
	if whole <= 0 {
		return ""
	}
	return " (" + share(part, whole) + ")"
}
