package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"

	"google.golang.org/protobuf/proto"

	feedbackv1 "github.com/tenurehq/tenure/gen/tenure/feedback/v1"
	"github.com/tenurehq/tenure/services/platform/auth"
)

// feedbackAPI is the part of the feedback API the tickets and surveys
// commands use, over the gateway or gRPC.
type feedbackAPI interface {
	ListTickets(ctx context.Context, req *feedbackv1.ListTicketsRequest) (*feedbackv1.ListTicketsResponse, error)
	GetTicket(ctx context.Context, name string) (*feedbackv1.Ticket, error)
	Escalate(ctx context.Context, req *feedbackv1.EscalateRequest) (*feedbackv1.Operation, error)
	GetSurveyReport(ctx context.Context, name string) (*feedbackv1.SurveyReport, error)
	SendSurvey(ctx context.Context, req *feedbackv1.SendSurveyRequest) (*feedbackv1.SendSurveyResponse, error)
}

// gatewayFeedback calls the feedback routes of the JSON gateway.
type gatewayFeedback struct{ g *gatewayAPI }

func (f gatewayFeedback) ListTickets(ctx context.Context, req *feedbackv1.ListTicketsRequest) (*feedbackv1.ListTicketsResponse, error) {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	if req.GetStatus() != 0 {
		set("status", req.GetStatus().String())
	}
	set("queue", req.GetQueue())
	set("customerId", req.GetCustomerId())
	if req.GetBreached() {
		set("breached", "true")
	}
	if req.GetPageSize() > 0 {
		set("pageSize", fmt.Sprint(req.GetPageSize()))
	}
	set("pageToken", req.GetPageToken())
	out := new(feedbackv1.ListTicketsResponse)
	return out, f.g.call(ctx, http.MethodGet, "/v1/tickets?"+q.Encode(), nil, out)
}

func (f gatewayFeedback) GetTicket(ctx context.Context, name string) (*feedbackv1.Ticket, error) {
	out := new(feedbackv1.Ticket)
	return out, f.g.call(ctx, http.MethodGet, "/v1/"+pathEscapeName(name), nil, out)
}

func (f gatewayFeedback) Escalate(ctx context.Context, req *feedbackv1.EscalateRequest) (*feedbackv1.Operation, error) {
	out := new(feedbackv1.Operation)
	return out, f.g.call(ctx, http.MethodPost, "/v1/feedback:escalate", req, out)
}

func (f gatewayFeedback) GetSurveyReport(ctx context.Context, name string) (*feedbackv1.SurveyReport, error) {
	out := new(feedbackv1.SurveyReport)
	return out, f.g.call(ctx, http.MethodGet, "/v1/"+pathEscapeName(name), nil, out)
}

func (f gatewayFeedback) SendSurvey(ctx context.Context, req *feedbackv1.SendSurveyRequest) (*feedbackv1.SendSurveyResponse, error) {
	out := new(feedbackv1.SendSurveyResponse)
	return out, f.g.call(ctx, http.MethodPost, "/v1/"+pathEscapeName(req.GetSurvey())+":send", req, out)
}

// grpcFeedback calls a feedback replica directly.
type grpcFeedback struct {
	c feedbackv1.FeedbackServiceClient
}

func (f grpcFeedback) ListTickets(ctx context.Context, req *feedbackv1.ListTicketsRequest) (*feedbackv1.ListTicketsResponse, error) {
	resp, err := f.c.ListTickets(ctx, req)
	return resp, grpcErr(err)
}

func (f grpcFeedback) GetTicket(ctx context.Context, name string) (*feedbackv1.Ticket, error) {
	resp, err := f.c.GetTicket(ctx, &feedbackv1.GetTicketRequest{Name: name})
	return resp.GetTicket(), grpcErr(err)
}

func (f grpcFeedback) Escalate(ctx context.Context, req *feedbackv1.EscalateRequest) (*feedbackv1.Operation, error) {
	resp, err := f.c.Escalate(ctx, req)
	return resp.GetOperation(), grpcErr(err)
}

func (f grpcFeedback) GetSurveyReport(ctx context.Context, name string) (*feedbackv1.SurveyReport, error) {
	resp, err := f.c.GetSurveyReport(ctx, &feedbackv1.GetSurveyReportRequest{Name: name})
	return resp.GetReport(), grpcErr(err)
}

func (f grpcFeedback) SendSurvey(ctx context.Context, req *feedbackv1.SendSurveyRequest) (*feedbackv1.SendSurveyResponse, error) {
	resp, err := f.c.SendSurvey(ctx, req)
	return resp, grpcErr(err)
}

// connectFeedback returns the feedback API for --gateway or --grpc.
func connectFeedback(gateway, addr string) (feedbackAPI, func(), error) {
	if addr == "" {
		if gateway == "" {
			gateway = DefaultGateway
		}
		if err := checkGatewayURL(gateway); err != nil {
			return nil, nil, err
		}
		hc, err := auth.ClientHTTP(0)
		if err != nil {
			return nil, nil, err
		}
		return gatewayFeedback{&gatewayAPI{base: gateway, http: hc}}, func() {}, nil
	}
	if gateway != "" {
		return nil, nil, fmt.Errorf("%w: give --gateway or --grpc, not both", ErrUsage)
	}
	conn, err := dial(addr)
	if err != nil {
		return nil, nil, err
	}
	return grpcFeedback{feedbackv1.NewFeedbackServiceClient(conn)}, func() { _ = conn.Close() }, nil
}

// feedbackFlags are the flags every feedback command has.
type feedbackFlags struct {
	gateway, grpc, output *string
}

func addFeedbackFlags(fs interface {
	String(name, value, usage string) *string
}) feedbackFlags {
	return feedbackFlags{
		gateway: fs.String("gateway", "", "JSON gateway base URL (default "+DefaultGateway+" when --grpc is not given)"),
		grpc:    fs.String("grpc", "", "host:port of a feedback service replica, to call over gRPC instead of the gateway"),
		output:  fs.String("output", "text", "format: text or json"),
	}
}

// open checks the output flag and connects.
func (f feedbackFlags) open() (feedbackAPI, func(), error) {
	if err := checkOutput(*f.output); err != nil {
		return nil, nil, err
	}
	return connectFeedback(*f.gateway, *f.grpc)
}

// print writes m as JSON, or as text with text.
func (f feedbackFlags) print(w io.Writer, m proto.Message, text func(io.Writer) error) error {
	if *f.output == "json" {
		return printProtoJSON(w, m)
	}
	return text(w)
}

// enumName is an enum value's name without its prefix, lower case.
func enumName(s fmt.Stringer, prefix string) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), prefix))
}

func ticketsList(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "tickets", "list", "[--status S] [--queue Q] [--customer ID] [--breached] [--limit N] [--gateway URL | --grpc HOST:PORT] [--output text|json]")
	ff := addFeedbackFlags(fs)
	statusFlag := fs.String("status", "", "only tickets in this status: new, open, pending, on_hold, solved or closed")
	queue := fs.String("queue", "", "only tickets in this queue")
	customer := fs.String("customer", "", "only tickets of this customer id")
	breached := fs.Bool("breached", false, "only tickets with a breached SLA target")
	limit := fs.Int("limit", 50, "most tickets to list (newest first), 1 to 500")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	req := &feedbackv1.ListTicketsRequest{Queue: *queue, CustomerId: *customer, Breached: *breached, PageSize: int32(*limit)}
	if *statusFlag != "" {
		v, ok := feedbackv1.TicketStatus_value["TICKET_STATUS_"+strings.ToUpper(*statusFlag)]
		if !ok || v == 0 {
			return fmt.Errorf("%w: --status must be new, open, pending, on_hold, solved or closed", ErrUsage)
		}
		req.Status = feedbackv1.TicketStatus(v)
	}
	if *limit < 1 || *limit > 500 {
		return fmt.Errorf("%w: --limit must be 1 to 500", ErrUsage)
	}
	c, closeAPI, err := ff.open()
	if err != nil {
		return err
	}
	defer closeAPI()
	resp, err := c.ListTickets(ctx, req)
	if err != nil {
		return fmt.Errorf("list tickets: %w", err)
	}
	return ff.print(env.Stdout, resp, func(w io.Writer) error {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ticket\tstatus\tpriority\tqueue\tcustomer\tfirst reply\tresolution\tsubject")
		for _, t := range resp.GetTickets() {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.GetTicketId(), enumName(t.GetStatus(), "TICKET_STATUS_"),
				enumName(t.GetPriority(), "PRIORITY_"), t.GetQueue(), t.GetCustomerId(), enumName(t.GetFirstReplyState(), "SLA_STATE_"),
				enumName(t.GetResolutionState(), "SLA_STATE_"), t.GetSubject())
		}
		return tw.Flush()
	})
}
