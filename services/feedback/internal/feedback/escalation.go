package feedback

import (
	"fmt"
	"time"
)

// Notice is a webhook notification an escalation step asks for.
type Notice struct {
	URL      string
	TicketID string
	StepID   string
}

// Escalate applies the steps of p that are due for t at asOf and not yet
// applied, each once per ticket, records an entry per step (naming the
// sweep) and returns the notifications to send. It refreshes t's due times.
func (t *Ticket) Escalate(p *Policy, asOf time.Time, sweep string) []Notice {
	if p == nil {
		return nil
	}
	var notices []Notice
	for _, s := range p.Steps {
		at := t.stepTime(s)
		if at.IsZero() || at.After(asOf) {
			continue
		}
		var actions []string
		if s.RaisePriority && t.Priority < PriorityUrgent {
			actions = append(actions, fmt.Sprintf("priority %s → %s", t.Priority, t.Priority.Raise()))
			t.Priority = t.Priority.Raise()
		}
		if s.SetQueue != "" && s.SetQueue != t.Queue {
			actions = append(actions, "queue "+t.Queue+" → "+s.SetQueue)
			t.Queue = s.SetQueue
		}
		if s.NotifyURL != "" {
			actions = append(actions, "notified")
			notices = append(notices, Notice{URL: s.NotifyURL, TicketID: t.ID, StepID: s.ID})
		}
		t.Escalations = append(t.Escalations, EscalationEntry{StepID: s.ID, Actions: actions, ApplyTime: asOf, Escalation: sweep})
	}
	t.Refresh(p, asOf)
	return notices
}

// String is the priority's lower-case name.
func (p Priority) String() string {
	switch p {
	case PriorityLow:
		return "low"
	case PriorityNormal:
		return "normal"
	case PriorityHigh:
		return "high"
	case PriorityUrgent:
		return "urgent"
	}
	return fmt.Sprintf("priority(%d)", int(p))
}
