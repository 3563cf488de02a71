package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	feedbackv1 "github.com/tenurehq/tenure/gen/tenure/feedback/v1"
)

// showOne runs a command that fetches one thing by a positional id and
// prints it: get returns the message and its text form.
func showOne[M proto.Message](ctx context.Context, env Env, args []string, group, name, what string,
	get func(ctx context.Context, c feedbackAPI, id string) (M, error), text func(io.Writer, M) error) error {
	fs := newFlagSet(env, group, name, "ID [--gateway URL | --grpc HOST:PORT] [--output text|json]")
	ff := addFeedbackFlags(fs)
	id, err := parseWithID(fs, args, what)
	if err != nil {
		return err
	}
	c, closeAPI, err := ff.open()
	if err != nil {
		return err
	}
	defer closeAPI()
	m, err := get(ctx, c, id)
	if err != nil {
		return fmt.Errorf("%s: %w", id, err)
	}
	return ff.print(env.Stdout, m, func(w io.Writer) error { return text(w, m) })
}

func ticketsShow(ctx context.Context, env Env, args []string) error {
	return showOne(ctx, env, args, "tickets", "show", "a ticket id",
		func(ctx context.Context, c feedbackAPI, id string) (*feedbackv1.Ticket, error) {
			return c.GetTicket(ctx, "tickets/"+id)
		},
		printTicket)
}

func printTicket(w io.Writer, t *feedbackv1.Ticket) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(k, format string, a ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, a...)...) }
	line("ticket", "%s", t.GetTicketId())
	line("customer", "%s", t.GetCustomerId()+t.GetEmail())
	line("type", "%s via %s", enumName(t.GetType(), "TICKET_TYPE_"), enumName(t.GetChannel(), "CHANNEL_"))
	line("status", "%s", enumName(t.GetStatus(), "TICKET_STATUS_"))
	line("priority", "%s", enumName(t.GetPriority(), "PRIORITY_"))
	line("queue", "%s", t.GetQueue())
	line("subject", "%s", t.GetSubject())
	line("sla policy", "%s", t.GetSlaPolicy())
	line("first reply", "%s, due %s", enumName(t.GetFirstReplyState(), "SLA_STATE_"), formatTime(t.GetFirstReplyDueTime()))
	line("resolution", "%s, due %s", enumName(t.GetResolutionState(), "SLA_STATE_"), formatTime(t.GetResolutionDueTime()))
	line("requester wait", "%s", t.GetRequesterWait().AsDuration())
	line("agent work", "%s", t.GetAgentWork().AsDuration())
	line("created", "%s", formatTime(t.GetCreateTime()))
	for _, e := range t.GetEscalations() {
		line("escalation", "%s at %s: %v", e.GetStepId(), formatTime(e.GetApplyTime()), e.GetActions())
	}
	for _, c := range t.GetComments() {
		line("comment", "%s %s: %s", formatTime(c.GetCreateTime()), enumName(c.GetAuthorKind(), "AUTHOR_KIND_"), c.GetBody())
	}
	return tw.Flush()
}

func ticketsRun(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "tickets", "run", "escalation [--as-of TIME] [--request-id ID] [--gateway URL | --grpc HOST:PORT] [--output text|json]")
	ff := addFeedbackFlags(fs)
	asOf := fs.String("as-of", "", "sweep as of this RFC 3339 time (default now)")
	requestID := fs.String("request-id", "", "idempotency key: a retry with the same key returns the same sweep")
	job, err := parseWithID(fs, args, "a job name (escalation)")
	if err != nil {
		return err
	}
	if job != "escalation" {
		return fmt.Errorf("%w: tickets run knows one job, escalation; got %q", ErrUsage, job)
	}
	req := &feedbackv1.EscalateRequest{RequestId: *requestID}
	if *asOf != "" {
		at, err := time.Parse(time.RFC3339Nano, *asOf)
		if err != nil {
			return fmt.Errorf("%w: --as-of: %v", ErrUsage, err)
		}
		req.AsOfTime = timestamppb.New(at)
	}
	c, closeAPI, err := ff.open()
	if err != nil {
		return err
	}
	defer closeAPI()
	op, err := c.Escalate(ctx, req)
	if err != nil {
		return fmt.Errorf("escalation: %w", err)
	}
	return ff.print(env.Stdout, op, func(w io.Writer) error {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "escalation\t%s\nstate\t%s\nas of\t%s\ntickets\t%d\nsteps applied\t%d\n", op.GetName(),
			enumName(op.GetState(), "OPERATION_STATE_"), formatTime(op.GetAsOfTime()), op.GetTicketsScanned(), op.GetStepsApplied())
		return tw.Flush()
	})
}

func surveysReport(ctx context.Context, env Env, args []string) error {
	return showOne(ctx, env, args, "surveys", "report", "a survey id",
		func(ctx context.Context, c feedbackAPI, id string) (*feedbackv1.SurveyReport, error) {
			return c.GetSurveyReport(ctx, "surveys/"+id+"/report")
		}, printSurveyReport)
}

func surveysSend(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "surveys", "send", "SURVEY --customers ID,ID… --occurrence ID [--gateway URL | --grpc HOST:PORT] [--output text|json]")
	ff := addFeedbackFlags(fs)
	customers := fs.String("customers", "", "comma-separated customer ids to invite, 1 to 1,000")
	occurrence := fs.String("occurrence", "", "what this sending is about, such as 2026-q4: a customer is invited once per survey and occurrence")
	id, err := parseWithID(fs, args, "a survey id")
	if err != nil {
		return err
	}
	if *customers == "" || *occurrence == "" {
		return fmt.Errorf("%w: give --customers and --occurrence", ErrUsage)
	}
	c, closeAPI, err := ff.open()
	if err != nil {
		return err
	}
	defer closeAPI()
	resp, err := c.SendSurvey(ctx, &feedbackv1.SendSurveyRequest{Survey: "surveys/" + id,
		CustomerIds: strings.Split(*customers, ","), OccurrenceId: *occurrence})
	if err != nil {
		return fmt.Errorf("send survey: %w", err)
	}
	return ff.print(env.Stdout, resp, func(w io.Writer) error {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "customer\tstate\tattempts\tdue\tmessage")
		for _, inv := range resp.GetInvitations() {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", inv.GetCustomerId(), enumName(inv.GetState(), "INVITATION_STATE_"),
				inv.GetAttempts(), formatTime(inv.GetDueTime()), inv.GetOutreachMessage())
		}
		return tw.Flush()
	})
}

func printSurveyReport(w io.Writer, r *feedbackv1.SurveyReport) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "survey\t%s (%s)\n", r.GetSurvey(), enumName(r.GetKind(), "SURVEY_KIND_"))
	fmt.Fprintln(tw, "group\tkey\tresponses\tpromoters\tpassives\tdetractors\tscore\t95 % interval")
	row := func(group, key string, s *feedbackv1.Score) {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%.1f\t%.1f … %.1f\n", group, key, s.GetResponses(), s.GetPromoters(),
			s.GetPassives(), s.GetDetractors(), s.GetScore(), s.GetScoreLow(), s.GetScoreHigh())
	}
	row("overall", "", r.GetOverall())
	for _, g := range []struct {
		name   string
		groups []*feedbackv1.GroupScore
	}{{"period", r.GetPeriods()}, {"channel", r.GetChannels()}, {"value tier", r.GetValueTiers()}, {"loyalty tier", r.GetLoyaltyTiers()}} {
		for _, s := range g.groups {
			row(g.name, s.GetKey(), s.GetScore())
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, d := range r.GetDetractorComments() {
		fmt.Fprintf(w, "detractor %s (%d): %s\n", d.GetCustomerId(), d.GetScore(), d.GetComment())
	}
	return nil
}
