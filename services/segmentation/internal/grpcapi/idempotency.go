package grpcapi

import (
	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	"github.com/tenurehq/tenure/services/platform/idempotency"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

var _ idempotency.SubjectLister = (*Server)(nil)

// IdempotencySubjects implements idempotency.SubjectLister. Static member
// changes name customers: their stored responses hold only counts, but
// their keys are recorded under each customer named, so that when profile
// erases or deletes a customer (and the consumer applies it) a retry
// cannot tie the request to the customer or add the erased id back
// (REQUEST_FORGOTTEN). Other requests name no customer.
func (s *Server) IdempotencySubjects(req any) []string {
	var ids []string
	switch r := req.(type) {
	case *segmentationv1.AddSegmentMembersRequest:
		ids = r.GetCustomerIds()
	case *segmentationv1.RemoveSegmentMembersRequest:
		ids = r.GetCustomerIds()
	}
	if len(ids) > segmentation.MaxMembersPerCall {
		return nil // the handler rejects the request, which releases the key
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = idempotency.CustomerSubject(id)
	}
	return out
}
