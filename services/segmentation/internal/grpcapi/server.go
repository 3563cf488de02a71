// Package grpcapi serves the segmentation service over gRPC: it parses
// resource names (with the platform's resourcename), converts between
// protobuf and domain types and calls the domain and the recompute engine.
// Errors are returned as domain errors and mapped once by ErrorTable
// (errors.go).
package grpcapi

import (
	"context"

	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	"github.com/tenurehq/tenure/services/segmentation/internal/engine"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
	"google.golang.org/grpc"
)

// Server implements segmentationv1.SegmentationServiceServer.
type Server struct {
	segmentationv1.UnsafeSegmentationServiceServer

	svc *segmentation.Service
	eng *engine.Engine
}

// New returns a Server over svc and eng.
func New(svc *segmentation.Service, eng *engine.Engine) *Server {
	return &Server{svc: svc, eng: eng}
}

// Register registers s on g.
func (s *Server) Register(g *grpc.Server) { segmentationv1.RegisterSegmentationServiceServer(g, s) }

// Recompute implements segmentationv1.SegmentationServiceServer.
func (s *Server) Recompute(ctx context.Context, req *segmentationv1.RecomputeRequest) (*segmentationv1.RecomputeResponse, error) {
	var asOf timeT
	if t := req.GetAsOfTime(); t != nil {
		if err := checkTime("as_of_time", t); err != nil {
			return nil, err
		}
		asOf = t.AsTime()
	}
	op, err := s.eng.Start(ctx, asOf, segmentation.TriggerAPI)
	if err != nil {
		return nil, err
	}
	return &segmentationv1.RecomputeResponse{Operation: fromOperation(op)}, nil
}

// GetOperation implements segmentationv1.SegmentationServiceServer.
func (s *Server) GetOperation(ctx context.Context, req *segmentationv1.GetOperationRequest) (*segmentationv1.GetOperationResponse, error) {
	id, err := operationNames.ParseID("name", req.GetName())
	if err != nil {
		return nil, err
	}
	op, err := s.eng.Operation(ctx, id)
	if err != nil {
		return nil, err
	}
	return &segmentationv1.GetOperationResponse{Operation: fromOperation(op)}, nil
}

// ListOperations implements segmentationv1.SegmentationServiceServer.
func (s *Server) ListOperations(ctx context.Context, req *segmentationv1.ListOperationsRequest) (*segmentationv1.ListOperationsResponse, error) {
	ops, next, err := s.svc.ListOperations(ctx, int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &segmentationv1.ListOperationsResponse{NextPageToken: next}
	for _, o := range ops {
		out.Operations = append(out.Operations, fromOperation(o))
	}
	return out, nil
}

// GetSettings implements segmentationv1.SegmentationServiceServer.
func (s *Server) GetSettings(ctx context.Context, req *segmentationv1.GetSettingsRequest) (*segmentationv1.GetSettingsResponse, error) {
	v, err := s.svc.GetSettings(ctx, req.GetVersion())
	if err != nil {
		return nil, err
	}
	return &segmentationv1.GetSettingsResponse{Settings: fromSettings(v)}, nil
}

// UpdateSettings implements segmentationv1.SegmentationServiceServer.
func (s *Server) UpdateSettings(ctx context.Context, req *segmentationv1.UpdateSettingsRequest) (*segmentationv1.UpdateSettingsResponse, error) {
	if req.GetSettings() == nil {
		return nil, required("settings", "send the fields to change and name them in update_mask")
	}
	upd, err := toSettings(req.GetSettings())
	if err != nil {
		return nil, err
	}
	v, err := s.svc.UpdateSettings(ctx, upd, req.GetUpdateMask().GetPaths(), req.GetExpectedVersion())
	if err != nil {
		return nil, err
	}
	return &segmentationv1.UpdateSettingsResponse{Settings: fromSettings(v)}, nil
}

// CreateSegment implements segmentationv1.SegmentationServiceServer.
func (s *Server) CreateSegment(ctx context.Context, req *segmentationv1.CreateSegmentRequest) (*segmentationv1.CreateSegmentResponse, error) {
	in := req.GetSegment()
	if in == nil {
		return nil, required("segment", "send the segment to create")
	}
	g, err := s.svc.CreateSegment(ctx, segmentation.SegmentDef{
		ID: req.GetSegmentId(), DisplayName: in.GetDisplayName(), Description: in.GetDescription(),
		Kind: toKind(in.GetKind()), Rule: in.GetRule(),
	})
	if err != nil {
		return nil, err
	}
	return &segmentationv1.CreateSegmentResponse{Segment: fromSegment(g)}, nil
}

// GetSegment implements segmentationv1.SegmentationServiceServer.
func (s *Server) GetSegment(ctx context.Context, req *segmentationv1.GetSegmentRequest) (*segmentationv1.GetSegmentResponse, error) {
	id, err := segmentNames.ParseID("name", req.GetName())
	if err != nil {
		return nil, err
	}
	g, err := s.svc.GetSegment(ctx, id)
	if err != nil {
		return nil, err
	}
	return &segmentationv1.GetSegmentResponse{Segment: fromSegment(g)}, nil
}

// ListSegments implements segmentationv1.SegmentationServiceServer.
func (s *Server) ListSegments(ctx context.Context, req *segmentationv1.ListSegmentsRequest) (*segmentationv1.ListSegmentsResponse, error) {
	segs, next, err := s.svc.ListSegments(ctx, int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &segmentationv1.ListSegmentsResponse{NextPageToken: next}
	for _, g := range segs {
		out.Segments = append(out.Segments, fromSegment(g))
	}
	return out, nil
}

// UpdateSegment implements segmentationv1.SegmentationServiceServer.
func (s *Server) UpdateSegment(ctx context.Context, req *segmentationv1.UpdateSegmentRequest) (*segmentationv1.UpdateSegmentResponse, error) {
	in := req.GetSegment()
	if in == nil {
		return nil, required("segment", "send the segment's name and the fields to change")
	}
	id, err := segmentNames.ParseID("segment.name", in.GetName())
	if err != nil {
		return nil, err
	}
	g, err := s.svc.UpdateSegment(ctx, segmentation.SegmentDef{
		ID: id, DisplayName: in.GetDisplayName(), Description: in.GetDescription(), Rule: in.GetRule(),
		Kind: toKind(in.GetKind()),
	}, in.GetEtag(), req.GetUpdateMask().GetPaths())
	if err != nil {
		return nil, err
	}
	return &segmentationv1.UpdateSegmentResponse{Segment: fromSegment(g)}, nil
}

// DeleteSegment implements segmentationv1.SegmentationServiceServer.
func (s *Server) DeleteSegment(ctx context.Context, req *segmentationv1.DeleteSegmentRequest) (*segmentationv1.DeleteSegmentResponse, error) {
	id, err := segmentNames.ParseID("name", req.GetName())
	if err != nil {
		return nil, err
	}
	if err := s.svc.DeleteSegment(ctx, id, req.GetEtag()); err != nil {
		return nil, err
	}
	return &segmentationv1.DeleteSegmentResponse{}, nil
}

// AddSegmentMembers implements segmentationv1.SegmentationServiceServer.
func (s *Server) AddSegmentMembers(ctx context.Context, req *segmentationv1.AddSegmentMembersRequest) (*segmentationv1.AddSegmentMembersResponse, error) {
	id, err := segmentNames.ParseID("segment", req.GetSegment())
	if err != nil {
		return nil, err
	}
	added, total, err := s.svc.AddMembers(ctx, id, req.GetCustomerIds())
	if err != nil {
		return nil, err
	}
	return &segmentationv1.AddSegmentMembersResponse{AddedCount: added, MemberCount: total}, nil
}

// RemoveSegmentMembers implements segmentationv1.SegmentationServiceServer.
func (s *Server) RemoveSegmentMembers(ctx context.Context, req *segmentationv1.RemoveSegmentMembersRequest) (*segmentationv1.RemoveSegmentMembersResponse, error) {
	id, err := segmentNames.ParseID("segment", req.GetSegment())
	if err != nil {
		return nil, err
	}
	removed, total, err := s.svc.RemoveMembers(ctx, id, req.GetCustomerIds())
	if err != nil {
		return nil, err
	}
	return &segmentationv1.RemoveSegmentMembersResponse{RemovedCount: removed, MemberCount: total}, nil
}

// ListMembers implements segmentationv1.SegmentationServiceServer.
func (s *Server) ListMembers(ctx context.Context, req *segmentationv1.ListMembersRequest) (*segmentationv1.ListMembersResponse, error) {
	ids, next, total, err := s.eng.Members(ctx, req.GetParent(), int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	return &segmentationv1.ListMembersResponse{CustomerIds: ids, NextPageToken: next, TotalSize: total}, nil
}

// GetCustomerScores implements segmentationv1.SegmentationServiceServer.
func (s *Server) GetCustomerScores(ctx context.Context, req *segmentationv1.GetCustomerScoresRequest) (*segmentationv1.GetCustomerScoresResponse, error) {
	id, err := scoresNames.ParseID("name", req.GetName())
	if err != nil {
		return nil, err
	}
	horizon := int64(req.GetPredictionHorizonDays())
	if horizon < 0 || horizon > segmentation.MaxHorizonDays {
		return nil, invalidField("prediction_horizon_days", "must be 1 to %d days, or 0 for the settings' horizon; got %d",
			segmentation.MaxHorizonDays, horizon)
	}
	sc, err := s.eng.CustomerScores(ctx, id)
	if err != nil {
		return nil, err
	}
	pred, horizon, err := s.eng.CustomerPrediction(ctx, id, sc.Operation, horizon)
	if err != nil {
		return nil, err
	}
	r := sc.CustomerResult
	out := &segmentationv1.CustomerScores{
		Name: scoresNames.Format(id), CustomerId: id, Scored: r.Scored,
		RecencyDays: r.RecencyDays, Frequency: r.Frequency,
		RScore: int32(r.RScore), FScore: int32(r.FScore), MScore: int32(r.MScore),
		RfmSegment: r.Segment.String(), ValueTier: r.Tier.String(), LifecycleStage: r.Stage.String(),
		Segments: sc.SegmentIDs, AsOfTime: timestamp(sc.Operation.AsOf), Operation: sc.Operation.Name(),
		SettingsVersion: sc.Operation.SettingsVersion,
	}
	if r.Scored {
		out.Monetary = money(r.Currency, r.Monetary)
	}
	setPrediction(out, pred, horizon, r.Currency)
	return &segmentationv1.GetCustomerScoresResponse{Scores: out}, nil
}

// CheckMembership implements segmentationv1.SegmentationServiceServer. It
// reads only the in-memory snapshot, and recycles req's id slice once the
// snapshot has answered (see ServerOptions).
func (s *Server) CheckMembership(ctx context.Context, req *segmentationv1.CheckMembershipRequest) (*segmentationv1.CheckMembershipResponse, error) {
	ans, op, err := s.eng.Check(ctx, req.GetCustomerIds(), req.GetAudiences())
	recycle(req)
	if err != nil {
		return nil, err
	}
	out := &segmentationv1.CheckMembershipResponse{Members: ans}
	if op.ID != "" {
		out.Operation = op.Name()
	}
	return out, nil
}

// GetReport implements segmentationv1.SegmentationServiceServer.
func (s *Server) GetReport(ctx context.Context, _ *segmentationv1.GetReportRequest) (*segmentationv1.GetReportResponse, error) {
	sum, err := s.eng.Report(ctx)
	if err != nil {
		return nil, err
	}
	return &segmentationv1.GetReportResponse{Report: fromSummary(sum)}, nil
}

// ListSizeHistory implements segmentationv1.SegmentationServiceServer.
func (s *Server) ListSizeHistory(ctx context.Context, req *segmentationv1.ListSizeHistoryRequest) (*segmentationv1.ListSizeHistoryResponse, error) {
	var since timeT
	if t := req.GetSince(); t != nil {
		if err := checkTime("since", t); err != nil {
			return nil, err
		}
		since = t.AsTime()
	}
	pts, err := s.svc.SizeHistory(ctx, req.GetAudiences(), since, int(req.GetLimit()))
	if err != nil {
		return nil, err
	}
	out := &segmentationv1.ListSizeHistoryResponse{}
	var cur *segmentationv1.SizeSeries
	for _, p := range pts { // ordered by audience, then oldest first
		if cur == nil || cur.Audience != p.Audience {
			cur = &segmentationv1.SizeSeries{Audience: p.Audience}
			out.Series = append(out.Series, cur)
		}
		cur.Points = append(cur.Points, &segmentationv1.SizePoint{
			Operation: operationNames.Format(p.Operation), AsOfTime: timestamp(p.AsOf), Size: p.Size,
		})
	}
	return out, nil
}
