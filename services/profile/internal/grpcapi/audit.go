package grpcapi

import (
	"context"
	"strconv"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
)

// ListAuditRecords implements profilev1.ProfileServiceServer.
func (s *Server) ListAuditRecords(ctx context.Context, req *profilev1.ListAuditRecordsRequest) (*profilev1.ListAuditRecordsResponse, error) {
	page, err := s.audit.List(ctx, int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &profilev1.ListAuditRecordsResponse{NextPageToken: page.NextPageToken}
	for _, r := range page.Records {
		out.AuditRecords = append(out.AuditRecords, &profilev1.AuditRecord{
			Name: "auditRecords/" + strconv.FormatInt(r.ID, 10), Principal: r.Principal, KeyId: r.KeyID,
			Method: r.Method, Resource: r.Resource, RequestId: r.RequestID, Outcome: r.Outcome,
			CreateTime: fromTime(r.CreateTime),
		})
	}
	return out, nil
}
