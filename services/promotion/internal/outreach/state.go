package outreach

import "fmt"

// State is where a message is in its life.
type State int

// The message states. Suppressed, Delivered and Dead are final.
const (
	StateUnspecified State = iota
	// StateScheduled: created, waiting for its due time.
	StateScheduled
	// StateHeld: due inside the customer's quiet hours, waiting for them to
	// end; never dropped.
	StateHeld
	// StateSuppressed: not sent, for a SuppressionReason.
	StateSuppressed
	// StateSent: handed to the channel's provider.
	StateSent
	// StateDelivered: the provider reported delivery.
	StateDelivered
	// StateFailed: an attempt failed; another is scheduled.
	StateFailed
	// StateDead: the last attempt failed.
	StateDead
)

var stateNames = [...]string{"", "scheduled", "held", "suppressed", "sent", "delivered", "failed", "dead"}

// String returns the state's lower snake name.
func (s State) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return fmt.Sprintf("state(%d)", int(s))
	}
	return stateNames[s]
}

// Final reports whether no transition leaves s.
func (s State) Final() bool {
	return s == StateSuppressed || s == StateDelivered || s == StateDead
}

// transitions lists, for each state, the states it may move to.
var transitions = map[State][]State{
	StateScheduled: {StateHeld, StateSuppressed, StateSent, StateFailed, StateDead},
	StateHeld:      {StateScheduled, StateSuppressed, StateSent, StateFailed, StateDead},
	StateFailed:    {StateSent, StateFailed, StateDead, StateSuppressed},
	StateSent:      {StateDelivered},
}

// CanTransition reports whether a message may move from one state to
// another: a held message is scheduled again or dispatched when the quiet
// hours end; any attempt may fail for good (dead at once); a failed one is
// retried (sent, failed again, dead after the last try, or suppressed when
// consent was withdrawn meanwhile); a sent one is delivered.
func CanTransition(from, to State) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Transition returns an error wrapping ErrInvalidTransition unless a
// message may move from one state to the other.
func Transition(from, to State) error {
	if !CanTransition(from, to) {
		return fmt.Errorf("%w: from %s to %s", ErrInvalidTransition, from, to)
	}
	return nil
}

// SuppressionReason says why a message was not sent.
type SuppressionReason int

// The suppression reasons.
const (
	ReasonNone SuppressionReason = iota
	// ReasonNoConsent: no channel of the journey's order has granted
	// consent at send time.
	ReasonNoConsent
	// ReasonCap: a frequency cap is reached.
	ReasonCap
	// ReasonHoldout: the customer is in the campaign's control group.
	ReasonHoldout
	// ReasonUnsubscribed: the customer unsubscribed from marketing
	// messages.
	ReasonUnsubscribed
	// ReasonNoCoupon: the journey's coupon promotion had no free code
	// when the message was created.
	ReasonNoCoupon
	// ReasonJourneyDeleted: its journey was deleted before it was sent.
	ReasonJourneyDeleted
)

var reasonNames = [...]string{"", "no_consent", "cap", "holdout", "unsubscribed", "no_coupon", "journey_deleted"}

// String returns the reason's lower snake name ("" for none).
func (r SuppressionReason) String() string {
	if r < 0 || int(r) >= len(reasonNames) {
		return fmt.Sprintf("reason(%d)", int(r))
	}
	return reasonNames[r]
}
