package grpcapi

import (
	"context"

	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
	"google.golang.org/grpc"
)

// ChangeServer implements segmentationv1.AudienceChangeServiceServer.
type ChangeServer struct {
	segmentationv1.UnsafeAudienceChangeServiceServer

	changes segmentation.AudienceChanges
}

// NewChangeServer returns a ChangeServer over changes.
func NewChangeServer(changes segmentation.AudienceChanges) *ChangeServer {
	return &ChangeServer{changes: changes}
}

// Register registers s on g.
func (s *ChangeServer) Register(g *grpc.Server) {
	segmentationv1.RegisterAudienceChangeServiceServer(g, s)
}

// allOperations is the parent that lists the changes of every recompute.
const allOperations = "operations/-"

// ListAudienceChanges implements segmentationv1.AudienceChangeServiceServer.
func (s *ChangeServer) ListAudienceChanges(ctx context.Context, req *segmentationv1.ListAudienceChangesRequest) (*segmentationv1.ListAudienceChangesResponse, error) {
	var q segmentation.AudienceChangeQuery
	if req.GetParent() != allOperations {
		id, err := operationNames.ParseID("parent", req.GetParent())
		if err != nil {
			return nil, err
		}
		q.Operation = id
	}
	if a := req.GetAfterOperation(); a != "" {
		id, err := operationNames.ParseID("after_operation", a)
		if err != nil {
			return nil, err
		}
		q.AfterOperation = id
	}
	q.Audiences = req.GetAudiences()
	switch k := req.GetKind(); k {
	case segmentationv1.AudienceChangeKind_AUDIENCE_CHANGE_KIND_UNSPECIFIED:
	case segmentationv1.AudienceChangeKind_AUDIENCE_CHANGE_KIND_ENTERED:
		q.Kind = segmentation.ChangesEntered
	case segmentationv1.AudienceChangeKind_AUDIENCE_CHANGE_KIND_LEFT:
		q.Kind = segmentation.ChangesLeft
	default:
		return nil, invalidField("kind", "unknown kind %d: use AUDIENCE_CHANGE_KIND_ENTERED, AUDIENCE_CHANGE_KIND_LEFT or leave it unset", int32(k))
	}
	changes, next, err := s.changes.List(ctx, q, int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &segmentationv1.ListAudienceChangesResponse{NextPageToken: next}
	for _, c := range changes {
		kind := segmentationv1.AudienceChangeKind_AUDIENCE_CHANGE_KIND_LEFT
		if c.Entered {
			kind = segmentationv1.AudienceChangeKind_AUDIENCE_CHANGE_KIND_ENTERED
		}
		out.AudienceChanges = append(out.AudienceChanges, &segmentationv1.AudienceChange{
			Operation: operationNames.Format(c.Operation), Audience: c.Audience, CustomerId: c.CustomerID,
			Kind: kind, AsOfTime: timestamp(c.AsOf),
		})
	}
	return out, nil
}
