package feedback

import "time"

// TicketType is what the customer is telling.
type TicketType string

// The ticket types.
const (
	TypeComplaint  TicketType = "complaint"
	TypeSuggestion TicketType = "suggestion"
	TypeInquiry    TicketType = "inquiry"
	TypePraise     TicketType = "praise"
)

// Channel is where a ticket or answer came from: "web", "email", "chat",
// "phone", "app" or "social".
type Channel string

// Priority orders tickets; higher is more urgent.
type Priority int

// The priorities, lowest first.
const (
	PriorityLow Priority = iota + 1
	PriorityNormal
	PriorityHigh
	PriorityUrgent
)

// Raise returns the next higher priority, or p when it is the highest.
func (p Priority) Raise() Priority { return min(p+1, PriorityUrgent) }

// DefaultQueue is the queue of a ticket no rule routes.
const DefaultQueue = "general"

// Ticket is a customer's complaint, suggestion, inquiry or praise.
type Ticket struct {
	ID, CustomerID, Email string
	Type                  TicketType
	Channel               Channel
	Subject, Body         string
	OrderID               string
	Priority              Priority
	Queue, Assignee       string
	Tags                  []string
	Status                Status
	Comments              []Comment
	// History is every status the ticket has had, oldest first; the first
	// entry is its creation.
	History      []StatusChange
	PolicyID     string
	MatchedRules []string
	Escalations  []EscalationEntry
	// SurveyResponse is the response that opened the ticket, if any.
	SurveyResponse            string
	CreateTime, UpdateTime    time.Time
	FirstReplyTime, SolveTime time.Time
	FirstReplyDue             time.Time
	ResolutionDue             time.Time // zero while the clock is paused
	NextEscalation            time.Time // zero when no step is left
	Version                   int64
	// InvitePending is set when the ticket is solved, until the
	// invitations of its ticket_solved surveys are created.
	InvitePending bool
}

// StatusChange is a ticket entering a status.
type StatusChange struct {
	Status Status
	At     time.Time
}

// Comment is a public reply or an internal note.
type Comment struct {
	ID         string
	FromAgent  bool
	Author     string
	Body       string
	Internal   bool
	CreateTime time.Time
}

// EscalationEntry records one escalation step applied to a ticket.
type EscalationEntry struct {
	StepID     string
	Actions    []string
	ApplyTime  time.Time
	Escalation string
}

// CustomerContext is what classification rules know of a customer besides
// the ticket; empty strings when unknown.
type CustomerContext struct {
	ValueTier, LifecycleStage, LoyaltyTier string
}

// Clock names one of a ticket's two SLA targets.
type Clock int

// The SLA clocks.
const (
	ClockFirstReply Clock = iota + 1
	ClockResolution
)

// Policy is the SLA targets of tickets of one priority, optionally one
// queue or value tier.
type Policy struct {
	ID          string
	Priority    Priority
	Queue       string
	ValueTier   string
	FirstReply  time.Duration
	Resolution  time.Duration
	Calendar    *Calendar
	PauseOnHold bool
	Steps       []Step
	CreateTime  time.Time
	// CalendarSpec is the calendar as the API gave it, for reading back.
	CalendarSpec *CalendarSpec
}

// CalendarSpec is a business calendar as written: zone, hours per ISO
// weekday (1 = Monday) as "HH:MM", holidays.
type CalendarSpec struct {
	TimeZone string
	Hours    []DayHours
	Holidays []string
}

// DayHours are one weekday's hours as written.
type DayHours struct {
	Day        int
	Start, End string
}

// Step is an escalation step: when Clock reaches its due time plus Offset,
// it raises the priority, moves the queue and notifies, once per ticket.
type Step struct {
	ID            string
	Clock         Clock
	Offset        time.Duration
	RaisePriority bool
	SetQueue      string
	NotifyURL     string
}
