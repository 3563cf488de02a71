package grpcapi

import (
	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	"github.com/tenurehq/tenure/services/platform/idempotency"
)

var _ idempotency.SubjectLister = (*Server)(nil)

// IdempotencySubjects implements idempotency.SubjectLister. A redemption's
// stored response names its customer, so its key is recorded under that
// customer and forgotten when profile erases or deletes the customer.
func (s *Server) IdempotencySubjects(req any) []string {
	if r, ok := req.(*promotionv1.RedeemCartRequest); ok && r.GetCart().GetCustomerId() != "" {
		return []string{idempotency.CustomerSubject(r.GetCart().GetCustomerId())}
	}
	return nil
}
