package grpcapi

import (
	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/platform/idempotency"
)

var _ idempotency.SubjectLister = (*Server)(nil)

// IdempotencySubjects implements idempotency.SubjectLister: the responses
// of the requests that return a customer hold its personal data, so they
// are recorded under the customer, and erasing or deleting it forgets
// them. Event results, deletion and erasure return no personal data and
// are about nobody; erasure and deletion must not be, or they would forget
// their own keys.
func (s *Server) IdempotencySubjects(req any) []string {
	var id string
	switch r := req.(type) {
	case *profilev1.CreateCustomerRequest:
		id = r.GetCustomerId()
	case *profilev1.UpdateCustomerRequest:
		id, _ = parseName("customer.name", r.GetCustomer().GetName())
	case *profilev1.AddCustomerTagsRequest:
		id, _ = parseName("name", r.GetName())
	case *profilev1.RemoveCustomerTagsRequest:
		id, _ = parseName("name", r.GetName())
	}
	if id == "" {
		return nil // an invalid name fails in the handler, which releases the key
	}
	return []string{idempotency.CustomerSubject(id)}
}
