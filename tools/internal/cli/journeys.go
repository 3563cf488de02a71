package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
)

// The outreach commands: journeys (list, show; one function per
// subcommand, each registered in commands) and a customer's messages.

func journeyPath(id string) string { return "/v1/journeys/" + url.PathEscape(id) }

// lowerEnum is an enum value's name without its type prefix, in lower
// case: ("JOURNEY_STATE_PAUSED", "JOURNEY_STATE_") → "paused".
func lowerEnum(name, prefix string) string {
	if v := strings.TrimPrefix(name, prefix); v != "UNSPECIFIED" {
		return strings.ToLower(v)
	}
	return "-"
}

func journeyState(j *promotionv1.Journey) string {
	return lowerEnum(j.GetState().String(), "JOURNEY_STATE_")
}

func channelList(cs []promotionv1.OutreachChannel) string {
	var out []string
	for _, c := range cs {
		out = append(out, lowerEnum(c.String(), "OUTREACH_CHANNEL_"))
	}
	return strings.Join(out, ",")
}

func journeysList(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "journeys", "list", "[--deleted] [--gateway URL] [--output text|json]")
	lf := addLoyaltyFlags(fs)
	deleted := fs.Bool("deleted", false, "also list deleted journeys")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	g, err := lf.client()
	if err != nil {
		return err
	}
	all := &promotionv1.ListJourneysResponse{}
	for token := ""; ; {
		page := new(promotionv1.ListJourneysResponse)
		path := fmt.Sprintf("/v1/journeys?pageSize=500&showDeleted=%t&pageToken=%s", *deleted, url.QueryEscape(token))
		if err := g.call(ctx, http.MethodGet, path, nil, page); err != nil {
			return fmt.Errorf("journeys: %w", err)
		}
		all.Journeys = append(all.Journeys, page.GetJourneys()...)
		if token = page.GetNextPageToken(); token == "" {
			break
		}
	}
	if *lf.output == "json" {
		return printProtoJSON(env.Stdout, all)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "journey\tstate\ttrigger\tchannels\tname")
	for _, j := range all.GetJourneys() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", j.GetJourneyId(), journeyState(j), triggerText(j.GetTrigger()),
			channelList(j.GetChannels()), j.GetDisplayName())
	}
	return tw.Flush()
}

// triggerText is a trigger's kind and the parameters it uses.
func triggerText(t *promotionv1.JourneyTrigger) string {
	kind := lowerEnum(t.GetKind().String(), "TRIGGER_KIND_")
	switch t.GetKind() {
	case promotionv1.TriggerKind_TRIGGER_KIND_AUDIENCE_ENTERED, promotionv1.TriggerKind_TRIGGER_KIND_AUDIENCE_LEFT:
		return kind + " " + t.GetAudience()
	case promotionv1.TriggerKind_TRIGGER_KIND_CART_ABANDONED:
		return fmt.Sprintf("%s after %dh", kind, t.GetHours())
	case promotionv1.TriggerKind_TRIGGER_KIND_POST_PURCHASE, promotionv1.TriggerKind_TRIGGER_KIND_POINTS_EXPIRING:
		return fmt.Sprintf("%s %dd", kind, t.GetDays())
	case promotionv1.TriggerKind_TRIGGER_KIND_BIRTHDAY:
		return fmt.Sprintf("%s %dd before", kind, t.GetDays())
	case promotionv1.TriggerKind_TRIGGER_KIND_HOLIDAY:
		return fmt.Sprintf("%s (%d dates)", kind, len(t.GetHolidays()))
	}
	return kind
}

func journeysShow(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "journeys", "show", "ID [--gateway URL] [--output text|json]")
	lf := addLoyaltyFlags(fs)
	id, g, err := lf.target(fs, args, "a journey id")
	if err != nil {
		return err
	}
	resp := new(promotionv1.GetJourneyResponse)
	if err := g.call(ctx, http.MethodGet, journeyPath(id), nil, resp); err != nil {
		return fmt.Errorf("journey %s: %w", id, err)
	}
	j := resp.GetJourney()
	return lf.show(env.Stdout, j, func(line func(k, format string, a ...any)) {
		line("journey", "%s %s", j.GetJourneyId(), j.GetDisplayName())
		line("state", "%s (etag %s)", journeyState(j), j.GetEtag())
		line("trigger", "%s", triggerText(j.GetTrigger()))
		line("delay", "%s", j.GetDelay().AsDuration())
		line("channels", "%s", channelList(j.GetChannels()))
		line("transactional", "%t", j.GetTransactional())
		if j.GetCampaign() != "" {
			line("campaign", "%s", j.GetCampaign())
		}
		line("created", "%s", formatTime(j.GetCreateTime()))
		line("updated", "%s", formatTime(j.GetUpdateTime()))
		if j.GetDeleteTime() != nil {
			line("deleted", "%s", formatTime(j.GetDeleteTime()))
		}
		for _, t := range j.GetTemplates() {
			locale := t.GetLocale()
			if locale == "" {
				locale = "fallback"
			}
			line("template", "%s %s: %s", lowerEnum(t.GetChannel().String(), "OUTREACH_CHANNEL_"), locale,
				strings.Join(nonEmpty(t.GetSubject(), firstLine(t.GetText())), " | "))
		}
	})
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func messagesShow(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "messages", "show", "CUSTOMER [--journey ID] [--state STATE] [--gateway URL] [--output text|json]")
	lf := addLoyaltyFlags(fs)
	journey := fs.String("journey", "", "only the messages of this journey")
	state := fs.String("state", "", "only the messages in this state: scheduled, held, suppressed, sent, delivered, failed or dead")
	customer, g, err := lf.target(fs, args, "a customer id")
	if err != nil {
		return err
	}
	q := url.Values{"pageSize": {"500"}}
	if *journey != "" {
		q.Set("journey", "journeys/"+*journey)
	}
	if *state != "" {
		v, ok := promotionv1.MessageState_value["MESSAGE_STATE_"+strings.ToUpper(*state)]
		if !ok || v == 0 {
			return fmt.Errorf("%w: --state must be scheduled, held, suppressed, sent, delivered, failed or dead, got %q", ErrUsage, *state)
		}
		q.Set("state", promotionv1.MessageState(v).String())
	}
	all := &promotionv1.ListCustomerMessagesResponse{}
	for token := ""; ; {
		q.Set("pageToken", token)
		page := new(promotionv1.ListCustomerMessagesResponse)
		if err := g.call(ctx, http.MethodGet, "/v1/customers/"+url.PathEscape(customer)+"/messages?"+q.Encode(), nil, page); err != nil {
			return fmt.Errorf("messages of %s: %w", customer, err)
		}
		all.Messages = append(all.Messages, page.GetMessages()...)
		if token = page.GetNextPageToken(); token == "" {
			break
		}
	}
	if *lf.output == "json" {
		return printProtoJSON(env.Stdout, all)
	}
	return printMessages(env, all.GetMessages())
}

// printMessages writes one line per message, newest first, and under it
// the states it went through.
func printMessages(env Env, ms []*promotionv1.OutreachMessage) error {
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "message\tjourney\tstate\tchannel\tattempts\tdue\tupdated")
	for _, m := range ms {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", strings.TrimPrefix(m.GetName(), "messages/"), strings.TrimPrefix(m.GetJourney(), "journeys/"),
			messageState(m.GetState(), m.GetSuppressionReason()), lowerEnum(m.GetChannel().String(), "OUTREACH_CHANNEL_"), m.GetAttempts(),
			formatTime(m.GetDueTime()), formatTime(m.GetUpdateTime()))
		for _, h := range m.GetHistory() {
			fmt.Fprintf(tw, "  %s\t\t%s\t%s\t%d\t%s\t\n", h.GetTime().AsTime().UTC().Format(time.RFC3339),
				messageState(h.GetState(), h.GetSuppressionReason()), lowerEnum(h.GetChannel().String(), "OUTREACH_CHANNEL_"),
				h.GetAttempts(), formatTime(h.GetDueTime()))
		}
	}
	if len(ms) == 0 {
		fmt.Fprintln(tw, "(no messages)")
	}
	return tw.Flush()
}

// messageState is a state, with the reason of a suppressed one:
// "suppressed (no_consent)".
func messageState(s promotionv1.MessageState, r promotionv1.SuppressionReason) string {
	out := lowerEnum(s.String(), "MESSAGE_STATE_")
	if r != promotionv1.SuppressionReason_SUPPRESSION_REASON_UNSPECIFIED {
		out += " (" + lowerEnum(r.String(), "SUPPRESSION_REASON_") + ")"
	}
	return out
}
