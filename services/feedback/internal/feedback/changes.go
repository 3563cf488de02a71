package feedback

import (
	"context"
	"slices"
	"strings"
	"time"
)

// TicketPatch is a change to a ticket: the fields named in Fields
// ("status", "priority", "queue", "assignee", "type", "tags") take the
// values given. A non-empty ETag makes the change conditional.
type TicketPatch struct {
	Fields   []string
	Status   Status
	Priority Priority
	Queue    string
	Assignee string
	Type     TicketType
	Tags     []string
	ETag     string
}

// patchable are the fields a TicketPatch may name.
var patchable = []string{"status", "priority", "queue", "assignee", "type", "tags"}

// UpdateTicket applies a patch.
func (s *Service) UpdateTicket(ctx context.Context, id string, p TicketPatch) (*Ticket, error) {
	if len(p.Fields) == 0 {
		return nil, InvalidArgument("update_mask", "must name at least one of "+strings.Join(patchable, ", "))
	}
	for _, f := range p.Fields {
		if !slices.Contains(patchable, f) {
			return nil, InvalidArgument("update_mask", "cannot name "+f+"; allowed: "+strings.Join(patchable, ", "))
		}
	}
	return s.change(ctx, id, p.ETag, func(t *Ticket) error { return s.applyPatch(t, p) })
}

func (s *Service) applyPatch(t *Ticket, p TicketPatch) error {
	for _, f := range p.Fields {
		switch f {
		case "status":
			if err := t.setStatus(p.Status, s.now()); err != nil {
				return err
			}
		case "priority":
			if p.Priority < PriorityLow || p.Priority > PriorityUrgent {
				return InvalidArgument("ticket.priority", "must be LOW, NORMAL, HIGH or URGENT")
			}
			t.Priority = p.Priority
		case "queue":
			if p.Queue == "" {
				return InvalidArgument("ticket.queue", "must not be empty")
			}
			t.Queue = p.Queue
		case "assignee":
			t.Assignee = p.Assignee
		case "type":
			if !slices.Contains(Types, p.Type) {
				return InvalidArgument("ticket.type", "must be COMPLAINT, SUGGESTION, INQUIRY or PRAISE")
			}
			t.Type = p.Type
		case "tags":
			if len(p.Tags) > maxTags {
				return InvalidArgument("ticket.tags", "must be at most 50 tags")
			}
			t.Tags = p.Tags
		}
	}
	return nil
}

// setStatus moves t to status to at now, if the lifecycle allows it.
func (t *Ticket) setStatus(to Status, now time.Time) error {
	if !to.Valid() {
		return InvalidArgument("ticket.status", "must be a ticket status")
	}
	if err := CheckTransition(t.Status, to); err != nil {
		return err
	}
	t.Status = to
	t.History = append(t.History, StatusChange{Status: to, At: now})
	if to == StatusSolved {
		t.SolveTime = now
		t.InvitePending = t.CustomerID != ""
	}
	return nil
}

// AddComment adds a reply or note. An agent's first public reply stops the
// first-reply clock (and opens a new ticket); a customer's reply reopens a
// pending or solved ticket.
func (s *Service) AddComment(ctx context.Context, id string, c Comment) (*Ticket, error) {
	if strings.TrimSpace(c.Body) == "" {
		return nil, InvalidArgument("comment.body", "is required")
	}
	if len([]rune(c.Body)) > maxBody {
		return nil, InvalidArgument("comment.body", "must be at most 20000 characters")
	}
	return s.change(ctx, id, "", func(t *Ticket) error {
		now := s.now()
		c.ID, c.CreateTime = s.newID(), now
		if t.Status == StatusClosed {
			return ErrTicketClosed
		}
		t.Comments = append(t.Comments, c)
		switch {
		case c.FromAgent && !c.Internal && t.FirstReplyTime.IsZero():
			t.FirstReplyTime = now
			if t.Status == StatusNew {
				return t.setStatus(StatusOpen, now)
			}
		case !c.FromAgent:
			if to := AfterCustomerReply(t.Status); to != t.Status {
				return t.setStatus(to, now)
			}
		}
		return nil
	})
}

// SolveTicket marks a ticket solved.
func (s *Service) SolveTicket(ctx context.Context, id string) (*Ticket, error) {
	return s.change(ctx, id, "", func(t *Ticket) error { return t.setStatus(StatusSolved, s.now()) })
}

// change runs fn on the stored ticket in one transaction (failing with
// ErrETagMismatch when etag is set and stale), then refreshes its clocks
// under its policy.
func (s *Service) change(ctx context.Context, id, etag string, fn func(*Ticket) error) (*Ticket, error) {
	policies, err := s.store.ListPolicies(ctx)
	if err != nil {
		return nil, err
	}
	var firstReply, solve time.Time // before the change
	t, err := s.store.UpdateTicket(ctx, id, func(t *Ticket) error {
		firstReply, solve = t.FirstReplyTime, t.SolveTime
		if etag != "" && etag != t.ETag() {
			return ErrETagMismatch
		}
		if err := fn(t); err != nil {
			return err
		}
		now := s.now()
		t.UpdateTime = now
		t.Refresh(findPolicy(policies, t.PolicyID), now)
		return nil
	})
	if err != nil {
		return nil, err
	}
	countBreaches(ctx, s.metrics, firstReply, solve, t)
	if t.InvitePending {
		s.inviteTicket(ctx, t)
	}
	return t, nil
}

func findPolicy(policies []Policy, id string) *Policy {
	for i := range policies {
		if policies[i].ID == id {
			return &policies[i]
		}
	}
	return nil
}
