// Package grpcapi serves the profile service over gRPC: it parses resource
// names (with the platform's resourcename), converts between protobuf and
// domain types and calls the domain; StreamEvents only converts and sends
// what the domain's follow loop yields. Errors are returned as domain
// errors and mapped once by ErrorTable (errors.go).
package grpcapi

import (
	"context"
	"errors"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/profile/internal/profile"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// errStopping cancels the streams that Stop ends.
var errStopping = errors.New("grpcapi: server stopping")

// Server implements profilev1.ProfileServiceServer.
type Server struct {
	profilev1.UnsafeProfileServiceServer

	svc   *profile.Service
	audit *profile.Audit

	stopping context.Context // done once Stop is called
	stop     context.CancelFunc
}

// New returns a Server over svc, listing audit records from audit.
func New(svc *profile.Service, audit *profile.Audit) *Server {
	s := &Server{svc: svc, audit: audit}
	s.stopping, s.stop = context.WithCancel(context.Background())
	return s
}

// Register registers s on g.
func (s *Server) Register(g *grpc.Server) { profilev1.RegisterProfileServiceServer(g, s) }

// Stop ends every following StreamEvents with UNAVAILABLE so a graceful
// shutdown can drain; consumers resume on another replica.
func (s *Server) Stop() { s.stop() }

// CreateCustomer implements profilev1.ProfileServiceServer.
func (s *Server) CreateCustomer(ctx context.Context, req *profilev1.CreateCustomerRequest) (*profilev1.CreateCustomerResponse, error) {
	c, err := toCustomer(req.GetCustomerId(), req.GetCustomer())
	if err != nil {
		return nil, err
	}
	out, err := s.svc.CreateCustomer(ctx, c)
	if err != nil {
		return nil, prefixed(err, "customer")
	}
	return &profilev1.CreateCustomerResponse{Customer: fromCustomer(out)}, nil
}

// GetCustomer implements profilev1.ProfileServiceServer.
func (s *Server) GetCustomer(ctx context.Context, req *profilev1.GetCustomerRequest) (*profilev1.GetCustomerResponse, error) {
	id, err := parseName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	c, err := s.svc.GetCustomer(ctx, id)
	if err != nil {
		return nil, err
	}
	return &profilev1.GetCustomerResponse{Customer: fromCustomer(c)}, nil
}

// ListCustomers implements profilev1.ProfileServiceServer.
func (s *Server) ListCustomers(ctx context.Context, req *profilev1.ListCustomersRequest) (*profilev1.ListCustomersResponse, error) {
	after, err := toTime("updated_after", req.GetUpdatedAfter())
	if err != nil {
		return nil, err
	}
	page, err := s.svc.ListCustomers(ctx, profile.ListCustomersQuery{
		Tag: req.GetTag(), UpdatedAfter: after, PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken(),
	})
	if err != nil {
		return nil, err
	}
	out := &profilev1.ListCustomersResponse{NextPageToken: page.NextPageToken}
	for _, c := range page.Customers {
		out.Customers = append(out.Customers, fromCustomer(c))
	}
	return out, nil
}

// UpdateCustomer implements profilev1.ProfileServiceServer.
func (s *Server) UpdateCustomer(ctx context.Context, req *profilev1.UpdateCustomerRequest) (*profilev1.UpdateCustomerResponse, error) {
	if req.GetCustomer() == nil {
		return nil, profile.InvalidArgument("customer", "required")
	}
	id, err := parseName("customer.name", req.GetCustomer().GetName())
	if err != nil {
		return nil, err
	}
	paths := req.GetUpdateMask().GetPaths()
	if req.GetUpdateMask() == nil {
		paths = impliedMask(req.GetCustomer())
	}
	fields, err := profile.ParseUpdateMask(paths)
	if err != nil {
		return nil, err
	}
	patch, err := toCustomer(id, req.GetCustomer())
	if err != nil {
		return nil, err
	}
	c, err := s.svc.UpdateCustomer(ctx, patch, fields, req.GetCustomer().GetEtag())
	if err != nil {
		return nil, prefixed(err, "customer")
	}
	return &profilev1.UpdateCustomerResponse{Customer: fromCustomer(c)}, nil
}

// impliedMask names the updatable fields set in c, for an update without
// a mask (AIP-134). Output-only fields are ignored.
func impliedMask(c *profilev1.Customer) []string {
	var paths []string
	c.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		switch name := string(fd.Name()); name {
		case "name", "customer_id", "features", "state", "create_time", "update_time", "etag":
		default:
			paths = append(paths, name)
		}
		return true
	})
	return paths
}

// DeleteCustomer implements profilev1.ProfileServiceServer.
func (s *Server) DeleteCustomer(ctx context.Context, req *profilev1.DeleteCustomerRequest) (*profilev1.DeleteCustomerResponse, error) {
	id, err := parseName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	if err := s.svc.DeleteCustomer(ctx, id, req.GetEtag()); err != nil {
		return nil, err
	}
	return &profilev1.DeleteCustomerResponse{}, nil
}

// AddCustomerTags implements profilev1.ProfileServiceServer.
func (s *Server) AddCustomerTags(ctx context.Context, req *profilev1.AddCustomerTagsRequest) (*profilev1.AddCustomerTagsResponse, error) {
	id, err := parseName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	c, err := s.svc.AddTags(ctx, id, req.GetTags())
	if err != nil {
		return nil, err
	}
	return &profilev1.AddCustomerTagsResponse{Customer: fromCustomer(c)}, nil
}

// RemoveCustomerTags implements profilev1.ProfileServiceServer.
func (s *Server) RemoveCustomerTags(ctx context.Context, req *profilev1.RemoveCustomerTagsRequest) (*profilev1.RemoveCustomerTagsResponse, error) {
	id, err := parseName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	c, err := s.svc.RemoveTags(ctx, id, req.GetTags())
	if err != nil {
		return nil, err
	}
	return &profilev1.RemoveCustomerTagsResponse{Customer: fromCustomer(c)}, nil
}

// RecordEvent implements profilev1.ProfileServiceServer.
func (s *Server) RecordEvent(ctx context.Context, req *profilev1.RecordEventRequest) (*profilev1.RecordEventResponse, error) {
	if req.GetEvent() == nil {
		return nil, profile.InvalidArgument("event", "required")
	}
	e, verr := toEvent(req.GetEvent())
	if verr != nil {
		return nil, verr.WithPrefix("event")
	}
	r, err := s.svc.RecordEvent(ctx, e)
	if err != nil {
		return nil, prefixed(err, "event")
	}
	return &profilev1.RecordEventResponse{Result: fromResult(r)}, nil
}

// BatchRecordEvents implements profilev1.ProfileServiceServer.
func (s *Server) BatchRecordEvents(ctx context.Context, req *profilev1.BatchRecordEventsRequest) (*profilev1.BatchRecordEventsResponse, error) {
	batch := make([]profile.Submission, len(req.GetEvents()))
	for i, pe := range req.GetEvents() {
		batch[i].Event, batch[i].Rejected = toEvent(pe)
	}
	b, err := s.svc.RecordEvents(ctx, batch)
	if err != nil {
		return nil, err
	}
	out := &profilev1.BatchRecordEventsResponse{
		Results:        make([]*profilev1.EventResult, len(b.Results)),
		AcceptedCount:  int32(b.Accepted),
		DuplicateCount: int32(b.Duplicates),
		RejectedCount:  int32(b.Rejected),
	}
	for i, r := range b.Results {
		out.Results[i] = fromResult(r)
	}
	return out, nil
}

func fromResult(r profile.EventResult) *profilev1.EventResult {
	out := &profilev1.EventResult{Index: int32(r.Index), EventId: r.EventID, Sequence: r.Sequence}
	switch r.Outcome {
	case profile.OutcomeAccepted:
		out.Outcome = profilev1.EventOutcome_EVENT_OUTCOME_ACCEPTED
	case profile.OutcomeDuplicate:
		out.Outcome = profilev1.EventOutcome_EVENT_OUTCOME_DUPLICATE
	case profile.OutcomeRejected:
		out.Outcome = profilev1.EventOutcome_EVENT_OUTCOME_REJECTED
		if r.Err != nil {
			out.Reason, out.Field, out.Message = profilev1.ErrorReason_INVALID_EVENT.String(), r.Err.Path, r.Err.Message
		}
	}
	return out
}

// ListCustomerEvents implements profilev1.ProfileServiceServer.
func (s *Server) ListCustomerEvents(ctx context.Context, req *profilev1.ListCustomerEventsRequest) (*profilev1.ListCustomerEventsResponse, error) {
	id, err := parseName("parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	page, err := s.svc.ListCustomerEvents(ctx, id, int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	return &profilev1.ListCustomerEventsResponse{Events: fromEvents(page.Events), NextPageToken: page.NextPageToken}, nil
}

// StreamEvents implements profilev1.ProfileServiceServer: the domain
// follows the log after after_sequence; this sends each event it yields.
// Stop ends the stream with UNAVAILABLE.
func (s *Server) StreamEvents(req *profilev1.StreamEventsRequest, stream grpc.ServerStreamingServer[profilev1.StreamEventsResponse]) error {
	ctx, cancel := context.WithCancelCause(stream.Context())
	defer cancel(nil)
	stop := context.AfterFunc(s.stopping, func() { cancel(errStopping) })
	defer stop()
	q := profile.FollowQuery{AfterSequence: req.GetAfterSequence(), IncludeFeatures: req.GetIncludeFeatures()}
	err := s.svc.FollowEvents(ctx, q, func(e profile.LoggedEvent) error {
		resp := &profilev1.StreamEventsResponse{Event: fromEvent(e.Event)}
		if e.Features != nil {
			resp.Features = fromFeatures(*e.Features)
		}
		return stream.Send(resp)
	})
	if errors.Is(context.Cause(ctx), errStopping) {
		return status.Error(codes.Unavailable, "server shutting down; resume from the last sequence")
	}
	return err
}

// GetEventLogHead implements profilev1.ProfileServiceServer.
func (s *Server) GetEventLogHead(ctx context.Context, _ *profilev1.GetEventLogHeadRequest) (*profilev1.GetEventLogHeadResponse, error) {
	head, err := s.svc.HeadSequence(ctx)
	if err != nil {
		return nil, err
	}
	return &profilev1.GetEventLogHeadResponse{HeadSequence: head}, nil
}

// ExportCustomer implements profilev1.ProfileServiceServer.
func (s *Server) ExportCustomer(ctx context.Context, req *profilev1.ExportCustomerRequest) (*profilev1.ExportCustomerResponse, error) {
	id, err := parseName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	x, err := s.svc.ExportCustomer(ctx, id)
	if err != nil {
		return nil, err
	}
	return &profilev1.ExportCustomerResponse{
		Customer: fromCustomer(x.Customer), Events: fromEvents(x.Events), ExportTime: timestamppb.New(x.Time),
	}, nil
}

// EraseCustomer implements profilev1.ProfileServiceServer.
func (s *Server) EraseCustomer(ctx context.Context, req *profilev1.EraseCustomerRequest) (*profilev1.EraseCustomerResponse, error) {
	id, err := parseName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	anon, n, err := s.svc.EraseCustomer(ctx, id)
	if err != nil {
		return nil, err
	}
	return &profilev1.EraseCustomerResponse{AnonymousId: anon, EventCount: n}, nil
}
