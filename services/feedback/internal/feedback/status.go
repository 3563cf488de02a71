package feedback

import "slices"

// Status is where a ticket is in its lifecycle.
type Status string

// The statuses, in lifecycle order.
const (
	StatusNew     Status = "new"
	StatusOpen    Status = "open"
	StatusPending Status = "pending" // waiting on the customer
	StatusOnHold  Status = "on_hold" // waiting on a third party
	StatusSolved  Status = "solved"
	StatusClosed  Status = "closed"
)

// transitions lists the statuses each status may change to.
var transitions = map[Status][]Status{
	StatusNew:     {StatusOpen, StatusPending, StatusOnHold, StatusSolved},
	StatusOpen:    {StatusPending, StatusOnHold, StatusSolved},
	StatusPending: {StatusOpen, StatusOnHold, StatusSolved},
	StatusOnHold:  {StatusOpen, StatusPending, StatusSolved},
	StatusSolved:  {StatusOpen, StatusClosed},
	StatusClosed:  nil,
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool { _, ok := transitions[s]; return ok }

// Active reports whether the ticket still needs work (not solved or closed).
func (s Status) Active() bool { return s != StatusSolved && s != StatusClosed }

// CheckTransition returns nil when a ticket may change from one status to
// another, ErrTicketClosed for a closed ticket and a *TransitionError
// otherwise. Staying in the same status is not a transition.
func CheckTransition(from, to Status) error {
	if from == StatusClosed {
		return ErrTicketClosed
	}
	if !slices.Contains(transitions[from], to) {
		return &TransitionError{From: from, To: to}
	}
	return nil
}

// AfterCustomerReply is the status a ticket takes when its customer
// replies: a pending or solved ticket reopens, a new one stays new.
func AfterCustomerReply(s Status) Status {
	if s == StatusPending || s == StatusSolved {
		return StatusOpen
	}
	return s
}
