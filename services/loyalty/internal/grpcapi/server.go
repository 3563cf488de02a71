// Package grpcapi serves the loyalty service over gRPC: it parses resource
// names (with the platform's resourcename), converts between protobuf and
// domain types and calls the domain. Errors are returned as domain errors
// and mapped once by ErrorTable (errors.go).
package grpcapi

import (
	"context"
	"strconv"

	loyaltyv1 "github.com/tenurehq/tenure/gen/tenure/loyalty/v1"
	"github.com/tenurehq/tenure/services/loyalty/internal/loyalty"
	"github.com/tenurehq/tenure/services/platform/fielderr"
	"github.com/tenurehq/tenure/services/platform/resourcename"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Server implements loyaltyv1.LoyaltyServiceServer.
type Server struct {
	loyaltyv1.UnsafeLoyaltyServiceServer

	svc *loyalty.Service
}

// New returns a Server over svc.
func New(svc *loyalty.Service) *Server { return &Server{svc: svc} }

// Register registers s on g.
func (s *Server) Register(g *grpc.Server) { loyaltyv1.RegisterLoyaltyServiceServer(g, s) }

func seqID(seq int64) string { return strconv.FormatInt(seq, 10) }

// parseSeq parses the numeric last id of a name matching pattern, and the
// member id before it.
func parseSeq(pattern resourcename.Pattern, field, name string) (string, int64, error) {
	ids, err := pattern.Parse(field, name)
	if err != nil {
		return "", 0, err
	}
	seq, err := strconv.ParseInt(ids[1], 10, 64)
	if err != nil || seq <= 0 {
		return "", 0, fielderr.New(field, "must end in a positive entry number, as %s", pattern)
	}
	return ids[0], seq, nil
}

// GetProgramme implements loyaltyv1.LoyaltyServiceServer.
func (s *Server) GetProgramme(ctx context.Context, req *loyaltyv1.GetProgrammeRequest) (*loyaltyv1.GetProgrammeResponse, error) {
	p, err := s.svc.Programme(ctx, req.GetVersion())
	if err != nil {
		return nil, err
	}
	return &loyaltyv1.GetProgrammeResponse{Programme: fromProgramme(p)}, nil
}

// UpdateProgramme implements loyaltyv1.LoyaltyServiceServer.
func (s *Server) UpdateProgramme(ctx context.Context, req *loyaltyv1.UpdateProgrammeRequest) (*loyaltyv1.UpdateProgrammeResponse, error) {
	if req.GetProgramme() == nil {
		return nil, &fielderr.Error{Path: "programme", Problem: "is required", Fix: "send the fields to change and name them in update_mask"}
	}
	p, err := s.svc.UpdateProgramme(ctx, toProgramme(req.GetProgramme()), req.GetUpdateMask().GetPaths(), req.GetExpectedVersion())
	if err != nil {
		return nil, err
	}
	return &loyaltyv1.UpdateProgrammeResponse{Programme: fromProgramme(p)}, nil
}

// CreateMember implements loyaltyv1.LoyaltyServiceServer.
func (s *Server) CreateMember(ctx context.Context, req *loyaltyv1.CreateMemberRequest) (*loyaltyv1.CreateMemberResponse, error) {
	v, err := s.svc.CreateMember(ctx, req.GetMemberId())
	if err != nil {
		return nil, err
	}
	return &loyaltyv1.CreateMemberResponse{Member: fromMember(v)}, nil
}

// GetMember implements loyaltyv1.LoyaltyServiceServer.
func (s *Server) GetMember(ctx context.Context, req *loyaltyv1.GetMemberRequest) (*loyaltyv1.GetMemberResponse, error) {
	id, err := memberNames.ParseID("name", req.GetName())
	if err != nil {
		return nil, err
	}
	v, err := s.svc.GetMember(ctx, id)
	if err != nil {
		return nil, err
	}
	return &loyaltyv1.GetMemberResponse{Member: fromMember(v)}, nil
}

// ListLedgerEntries implements loyaltyv1.LoyaltyServiceServer.
func (s *Server) ListLedgerEntries(ctx context.Context, req *loyaltyv1.ListLedgerEntriesRequest) (*loyaltyv1.ListLedgerEntriesResponse, error) {
	id, err := memberNames.ParseID("parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	es, next, err := s.svc.ListEntries(ctx, id, int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &loyaltyv1.ListLedgerEntriesResponse{NextPageToken: next}
	for _, e := range es {
		out.Entries = append(out.Entries, fromEntry(id, e))
	}
	return out, nil
}

// RedeemPoints implements loyaltyv1.LoyaltyServiceServer.
func (s *Server) RedeemPoints(ctx context.Context, req *loyaltyv1.RedeemPointsRequest) (*loyaltyv1.RedeemPointsResponse, error) {
	id, err := memberNames.ParseID("member", req.GetMember())
	if err != nil {
		return nil, err
	}
	r, err := s.svc.RedeemPoints(ctx, id, req.GetPoints(), req.GetOrderId())
	if err != nil {
		return nil, err
	}
	return &loyaltyv1.RedeemPointsResponse{Entry: fromEntry(id, r.Entry), Value: money(r.Value), AvailablePoints: r.Available}, nil
}

// CancelRedemption implements loyaltyv1.LoyaltyServiceServer.
func (s *Server) CancelRedemption(ctx context.Context, req *loyaltyv1.CancelRedemptionRequest) (*loyaltyv1.CancelRedemptionResponse, error) {
	id, seq, err := parseSeq(entryNames, "entry", req.GetEntry())
	if err != nil {
		return nil, err
	}
	if m, err := memberNames.ParseID("member", req.GetMember()); err != nil || m != id {
		return nil, fielderr.New("entry", "must be an entry of the member %s", fielderr.Quote(req.GetMember()))
	}
	r, err := s.svc.CancelRedemption(ctx, id, seq)
	if err != nil {
		return nil, err
	}
	return &loyaltyv1.CancelRedemptionResponse{Entry: fromEntry(id, r.Entry), AvailablePoints: r.Available}, nil
}

// AdjustPoints implements loyaltyv1.LoyaltyServiceServer.
func (s *Server) AdjustPoints(ctx context.Context, req *loyaltyv1.AdjustPointsRequest) (*loyaltyv1.AdjustPointsResponse, error) {
	id, err := memberNames.ParseID("member", req.GetMember())
	if err != nil {
		return nil, err
	}
	r, err := s.svc.AdjustPoints(ctx, id, req.GetPoints(), req.GetReason(), req.GetOperator())
	if err != nil {
		return nil, err
	}
	return &loyaltyv1.AdjustPointsResponse{Entry: fromEntry(id, r.Entry), AvailablePoints: r.Available}, nil
}

// GetReport implements loyaltyv1.LoyaltyServiceServer.
func (s *Server) GetReport(ctx context.Context, _ *loyaltyv1.GetReportRequest) (*loyaltyv1.GetReportResponse, error) {
	r, p, err := s.svc.Report(ctx)
	if err != nil {
		return nil, err
	}
	return &loyaltyv1.GetReportResponse{Report: fromReport(r, p)}, nil
}

// ExportMember implements loyaltyv1.LoyaltyServiceServer.
func (s *Server) ExportMember(ctx context.Context, req *loyaltyv1.ExportMemberRequest) (*loyaltyv1.ExportMemberResponse, error) {
	id, err := memberNames.ParseID("name", req.GetName())
	if err != nil {
		return nil, err
	}
	ex, err := s.svc.Export(ctx, id)
	if err != nil {
		return nil, err
	}
	out := &loyaltyv1.ExportMemberResponse{Member: fromMember(ex.Member)}
	for _, e := range ex.Entries {
		out.Entries = append(out.Entries, fromEntry(id, e))
	}
	for _, r := range ex.Redemptions {
		out.RewardRedemptions = append(out.RewardRedemptions, fromRedemption(r))
	}
	return out, nil
}

// runJob parses as_of_time and runs a job.
func (s *Server) runJob(ctx context.Context, kind loyalty.JobKind, asOf *timestamppb.Timestamp) (*loyaltyv1.Operation, error) {
	t, err := optionalTime("as_of_time", asOf)
	if err != nil {
		return nil, err
	}
	op, err := s.svc.RunJob(ctx, kind, t, false)
	if err != nil {
		return nil, err
	}
	return fromOperation(op), nil
}

// ExpirePoints implements loyaltyv1.LoyaltyServiceServer.
func (s *Server) ExpirePoints(ctx context.Context, req *loyaltyv1.ExpirePointsRequest) (*loyaltyv1.ExpirePointsResponse, error) {
	op, err := s.runJob(ctx, loyalty.JobExpire, req.GetAsOfTime())
	if err != nil {
		return nil, err
	}
	return &loyaltyv1.ExpirePointsResponse{Operation: op}, nil
}

// EvaluateTiers implements loyaltyv1.LoyaltyServiceServer.
func (s *Server) EvaluateTiers(ctx context.Context, req *loyaltyv1.EvaluateTiersRequest) (*loyaltyv1.EvaluateTiersResponse, error) {
	op, err := s.runJob(ctx, loyalty.JobTiers, req.GetAsOfTime())
	if err != nil {
		return nil, err
	}
	return &loyaltyv1.EvaluateTiersResponse{Operation: op}, nil
}

// GiveBirthdayPoints implements loyaltyv1.LoyaltyServiceServer.
func (s *Server) GiveBirthdayPoints(ctx context.Context, req *loyaltyv1.GiveBirthdayPointsRequest) (*loyaltyv1.GiveBirthdayPointsResponse, error) {
	op, err := s.runJob(ctx, loyalty.JobBirthdays, req.GetAsOfTime())
	if err != nil {
		return nil, err
	}
	return &loyaltyv1.GiveBirthdayPointsResponse{Operation: op}, nil
}

// GetOperation implements loyaltyv1.LoyaltyServiceServer.
func (s *Server) GetOperation(ctx context.Context, req *loyaltyv1.GetOperationRequest) (*loyaltyv1.GetOperationResponse, error) {
	id, err := operationNames.ParseID("name", req.GetName())
	if err != nil {
		return nil, err
	}
	op, err := s.svc.Operation(ctx, id)
	if err != nil {
		return nil, err
	}
	return &loyaltyv1.GetOperationResponse{Operation: fromOperation(op)}, nil
}

// ListExpiringPoints implements loyaltyv1.LoyaltyServiceServer.
func (s *Server) ListExpiringPoints(ctx context.Context, req *loyaltyv1.ListExpiringPointsRequest) (*loyaltyv1.ListExpiringPointsResponse, error) {
	ms, next, err := s.svc.ListExpiring(ctx, int(req.GetWithinDays()), int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &loyaltyv1.ListExpiringPointsResponse{NextPageToken: next}
	for _, m := range ms {
		out.Members = append(out.Members, &loyaltyv1.ExpiringPoints{Member: memberNames.Format(m.MemberID), Points: m.Points,
			EarliestExpireTime: timestamp(m.Earliest)})
	}
	return out, nil
}
