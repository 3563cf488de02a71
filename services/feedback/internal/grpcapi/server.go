// Package grpcapi serves the feedback service over gRPC: it parses
// resource names (with the platform's resourcename), converts between
// protobuf and domain types and calls the domain. Errors are returned as
// domain errors and mapped once by ErrorTable (errors.go).
package grpcapi

import (
	"context"

	feedbackv1 "github.com/tenurehq/tenure/gen/tenure/feedback/v1"
	"github.com/tenurehq/tenure/services/feedback/internal/feedback"
	"github.com/tenurehq/tenure/services/platform/paging"
	"google.golang.org/grpc"
)

// Page sizes of the List methods.
var (
	ticketSizes = paging.Sizes{Default: 50, Max: 500}
	configSizes = paging.Sizes{Default: 100, Max: 1000}
)

// Server implements feedbackv1.FeedbackServiceServer.
type Server struct {
	feedbackv1.UnsafeFeedbackServiceServer

	svc *feedback.Service
}

// New returns a Server over svc.
func New(svc *feedback.Service) *Server { return &Server{svc: svc} }

// Register registers s on g.
func (s *Server) Register(g *grpc.Server) { feedbackv1.RegisterFeedbackServiceServer(g, s) }

// view converts tickets with their clocks now.
func (s *Server) view(ctx context.Context, tickets ...*feedback.Ticket) ([]*feedbackv1.Ticket, error) {
	views, err := s.svc.Describe(ctx, tickets...)
	if err != nil {
		return nil, err
	}
	out := make([]*feedbackv1.Ticket, len(views))
	for i, v := range views {
		out[i] = fromTicket(v)
	}
	return out, nil
}

// one converts the result of a use case returning one ticket.
func (s *Server) one(ctx context.Context, t *feedback.Ticket, err error) (*feedbackv1.Ticket, error) {
	if err != nil {
		return nil, err
	}
	out, err := s.view(ctx, t)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// CreateTicket implements feedbackv1.FeedbackServiceServer.
func (s *Server) CreateTicket(ctx context.Context, req *feedbackv1.CreateTicketRequest) (*feedbackv1.CreateTicketResponse, error) {
	if req.GetTicket() == nil {
		return nil, feedback.InvalidArgument("ticket", "is required")
	}
	created, err := s.svc.CreateTicket(ctx, toTicket(req.GetTicket()))
	out, err := s.one(ctx, created, err)
	if err != nil {
		return nil, err
	}
	return &feedbackv1.CreateTicketResponse{Ticket: out}, nil
}

// GetTicket implements feedbackv1.FeedbackServiceServer.
func (s *Server) GetTicket(ctx context.Context, req *feedbackv1.GetTicketRequest) (*feedbackv1.GetTicketResponse, error) {
	id, err := ticketNames.ParseID("name", req.GetName())
	if err != nil {
		return nil, err
	}
	t, err := s.svc.GetTicket(ctx, id)
	out, err := s.one(ctx, t, err)
	if err != nil {
		return nil, err
	}
	return &feedbackv1.GetTicketResponse{Ticket: out}, nil
}

// ListTickets implements feedbackv1.FeedbackServiceServer.
func (s *Server) ListTickets(ctx context.Context, req *feedbackv1.ListTicketsRequest) (*feedbackv1.ListTicketsResponse, error) {
	f := feedback.TicketFilter{Status: toStatus(req.GetStatus()), Queue: req.GetQueue(), CustomerID: req.GetCustomerId(), Breached: req.GetBreached()}
	filter := paging.For("ListTickets").With("status", string(f.Status)).With("queue", f.Queue).
		With("customer_id", f.CustomerID).With("breached", boolString(f.Breached))
	page, err := paging.Parse(ticketSizes, int(req.GetPageSize()), req.GetPageToken(), filter)
	if err != nil {
		return nil, err
	}
	tickets, err := s.svc.ListTickets(ctx, f, page.After, page.Limit())
	if err != nil {
		return nil, err
	}
	tickets, next := paging.Cut(page, tickets, func(t feedback.Ticket) string { return t.ID })
	ptrs := make([]*feedback.Ticket, len(tickets))
	for i := range tickets {
		ptrs[i] = &tickets[i]
	}
	out, err := s.view(ctx, ptrs...)
	if err != nil {
		return nil, err
	}
	return &feedbackv1.ListTicketsResponse{Tickets: out, NextPageToken: next}, nil
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return ""
}

// UpdateTicket implements feedbackv1.FeedbackServiceServer.
func (s *Server) UpdateTicket(ctx context.Context, req *feedbackv1.UpdateTicketRequest) (*feedbackv1.UpdateTicketResponse, error) {
	in := req.GetTicket()
	id, err := ticketNames.ParseID("ticket.name", in.GetName())
	if err != nil {
		return nil, err
	}
	t, err := s.svc.UpdateTicket(ctx, id, feedback.TicketPatch{
		Fields: req.GetUpdateMask().GetPaths(), Status: toStatus(in.GetStatus()), Priority: toPriority(in.GetPriority()),
		Queue: in.GetQueue(), Assignee: in.GetAssignee(), Type: toType(in.GetType()), Tags: in.GetTags(), ETag: in.GetEtag(),
	})
	out, err := s.one(ctx, t, err)
	if err != nil {
		return nil, err
	}
	return &feedbackv1.UpdateTicketResponse{Ticket: out}, nil
}

// CreateTicketComment implements feedbackv1.FeedbackServiceServer.
func (s *Server) CreateTicketComment(ctx context.Context, req *feedbackv1.CreateTicketCommentRequest) (*feedbackv1.CreateTicketCommentResponse, error) {
	id, err := ticketNames.ParseID("parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	c := req.GetComment()
	if c.GetAuthorKind() == feedbackv1.AuthorKind_AUTHOR_KIND_UNSPECIFIED {
		return nil, feedback.InvalidArgument("comment.author_kind", "is required: AGENT or CUSTOMER")
	}
	t, err := s.svc.AddComment(ctx, id, feedback.Comment{FromAgent: c.GetAuthorKind() == feedbackv1.AuthorKind_AUTHOR_KIND_AGENT,
		Author: c.GetAuthor(), Body: c.GetBody(), Internal: c.GetInternal()})
	out, err := s.one(ctx, t, err)
	if err != nil {
		return nil, err
	}
	return &feedbackv1.CreateTicketCommentResponse{Ticket: out}, nil
}

// SolveTicket implements feedbackv1.FeedbackServiceServer.
func (s *Server) SolveTicket(ctx context.Context, req *feedbackv1.SolveTicketRequest) (*feedbackv1.SolveTicketResponse, error) {
	id, err := ticketNames.ParseID("name", req.GetName())
	if err != nil {
		return nil, err
	}
	t, err := s.svc.SolveTicket(ctx, id)
	out, err := s.one(ctx, t, err)
	if err != nil {
		return nil, err
	}
	return &feedbackv1.SolveTicketResponse{Ticket: out}, nil
}
