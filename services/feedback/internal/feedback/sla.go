package feedback

import "time"

// SLAState is where one SLA target stands.
type SLAState string

// The SLA states.
const (
	SLANone     SLAState = "none"     // no target
	SLAActive   SLAState = "active"   // running, not yet due
	SLAMet      SLAState = "met"      // done at or before the due time
	SLABreached SLAState = "breached" // the due time passed first
)

// StateOf says where a target due at due stands at now, for work done at
// done (zero: not yet). A reply exactly at the due time meets it.
func StateOf(due, done, now time.Time) SLAState {
	switch {
	case due.IsZero() && done.IsZero():
		return SLAActive
	case due.IsZero():
		return SLAMet
	case !done.IsZero() && !done.After(due):
		return SLAMet
	case !done.IsZero() || now.After(due):
		return SLABreached
	}
	return SLAActive
}

// Clocks are the time a ticket's resolution clock paused and ran, in the
// policy's calendar.
type Clocks struct {
	// RequesterWait is the time spent pending, OnHold on hold, and
	// AgentWork the time the resolution clock ran (on hold included
	// unless the policy pauses on hold).
	RequesterWait, OnHold, AgentWork time.Duration
	// ResolutionDue is when the resolution target falls (or fell) due;
	// zero while the clock is paused short of it, or without a target.
	ResolutionDue time.Time
}

// runs reports whether the resolution clock runs in status s.
func (p *Policy) runs(s Status) bool {
	return s == StatusNew || s == StatusOpen || (s == StatusOnHold && !p.PauseOnHold)
}

// Measure walks a ticket's status history up to asOf and returns its
// clocks. A nil policy counts calendar time and has no target.
func (p *Policy) Measure(history []StatusChange, asOf time.Time) Clocks {
	if p == nil {
		p = &Policy{}
	}
	var c Clocks
	for i, h := range history {
		end := asOf
		if i+1 < len(history) {
			end = history[i+1].At
		}
		d := p.Calendar.Between(h.At, end)
		switch {
		case h.Status == StatusPending:
			c.RequesterWait += d
		case p.runs(h.Status):
			if left := p.Resolution - c.AgentWork; p.Resolution > 0 && c.ResolutionDue.IsZero() && (d >= left || i == len(history)-1) {
				c.ResolutionDue = p.Calendar.Add(h.At, left)
			}
			c.AgentWork += d
		case h.Status == StatusOnHold:
			c.OnHold += d
		}
	}
	return c
}

// Refresh recomputes a ticket's due times and its next escalation time
// under policy p (nil: no targets) as of now.
func (t *Ticket) Refresh(p *Policy, now time.Time) {
	t.FirstReplyDue, t.ResolutionDue, t.NextEscalation = time.Time{}, time.Time{}, time.Time{}
	if p == nil {
		return
	}
	if p.FirstReply > 0 {
		t.FirstReplyDue = p.Calendar.Add(t.CreateTime, p.FirstReply)
	}
	if p.Resolution > 0 {
		t.ResolutionDue = p.Measure(t.History, now).ResolutionDue
	}
	for _, s := range p.Steps {
		if at := t.stepTime(s); !at.IsZero() && (t.NextEscalation.IsZero() || at.Before(t.NextEscalation)) {
			t.NextEscalation = at
		}
	}
}

// stepTime is when step s falls due for t; zero when it has been applied
// or its clock is not running toward a target.
func (t *Ticket) stepTime(s Step) time.Time {
	if !t.Status.Active() || t.applied(s.ID) {
		return time.Time{}
	}
	due := t.ResolutionDue
	if s.Clock == ClockFirstReply {
		if !t.FirstReplyTime.IsZero() {
			return time.Time{}
		}
		due = t.FirstReplyDue
	}
	if due.IsZero() {
		return time.Time{}
	}
	return due.Add(s.Offset)
}

func (t *Ticket) applied(stepID string) bool {
	for _, e := range t.Escalations {
		if e.StepID == stepID {
			return true
		}
	}
	return false
}

// FirstReplyState and ResolutionState say where the ticket's targets stand
// at now.
func (t *Ticket) FirstReplyState(now time.Time) SLAState {
	if t.PolicyID == "" || t.FirstReplyDue.IsZero() {
		return SLANone
	}
	return StateOf(t.FirstReplyDue, t.FirstReplyTime, now)
}

// ResolutionState: see FirstReplyState. A paused clock short of its target
// is active.
func (t *Ticket) ResolutionState(p *Policy, now time.Time) SLAState {
	if p == nil || p.Resolution == 0 {
		return SLANone
	}
	solved := time.Time{}
	if !t.Status.Active() {
		solved = t.SolveTime
	}
	return StateOf(t.ResolutionDue, solved, now)
}
