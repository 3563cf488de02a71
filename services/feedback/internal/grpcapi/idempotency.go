package grpcapi

import (
	feedbackv1 "github.com/tenurehq/tenure/gen/tenure/feedback/v1"
	"github.com/tenurehq/tenure/services/platform/idempotency"
)

var _ idempotency.SubjectLister = (*Server)(nil)

// IdempotencySubjects implements idempotency.SubjectLister: the stored
// responses of a new ticket (its customer, email and text) and of a survey
// answer (its customer and comment) are recorded under the customer, so
// that when profile erases the customer, the consumer forgets them in the
// same transaction. Other requests name no customer in their request, and
// their responses are about tickets the erasure re-keys.
func (s *Server) IdempotencySubjects(req any) []string {
	var id string
	switch r := req.(type) {
	case *feedbackv1.CreateTicketRequest:
		id = r.GetTicket().GetCustomerId()
	case *feedbackv1.SubmitSurveyResponseRequest:
		id = r.GetResponse().GetCustomerId()
	}
	if id == "" {
		return nil
	}
	return []string{idempotency.CustomerSubject(id)}
}
