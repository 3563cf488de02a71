package grpcapi

import (
	"github.com/tenurehq/tenure/services/platform/idempotency"
)

var _ idempotency.SubjectLister = (*Server)(nil)

// IdempotencySubjects implements idempotency.SubjectLister. Mutations of a
// member store responses about that customer (its balance, its ledger), so
// their keys are recorded under it and forgotten when profile erases or
// deletes the customer. A request that does not parse names nobody: the
// handler rejects it, which releases the key.
func (s *Server) IdempotencySubjects(req any) []string {
	var id string
	switch r := req.(type) {
	case interface{ GetMember() string }:
		id, _ = memberNames.ParseID("member", r.GetMember())
	case interface{ GetMemberId() string }:
		id = r.GetMemberId()
	case interface{ GetName() string }:
		if ids, err := redemptionNames.Parse("name", r.GetName()); err == nil {
			id = ids[0]
		}
	}
	if id == "" {
		return nil
	}
	return []string{idempotency.CustomerSubject(id)}
}
