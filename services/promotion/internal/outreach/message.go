package outreach

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// Message is one message of a journey to one customer: created when its
// trigger occurs, then moved through the states by the dispatcher.
type Message struct {
	// ID is derived from the occurrence key (MessageID), so that a
	// trigger seen twice makes the same message, which the store keeps
	// once.
	ID            string
	JourneyID     string
	CustomerID    string
	Occurrence    string
	Transactional bool
	// Vars are the template variables an API-triggered message was
	// created with.
	Vars    map[string]string
	State   State
	Reason  SuppressionReason // when suppressed
	Channel Channel           // when decided
	// Due is when the message goes out (or is tried again).
	Due      time.Time
	Attempts int
	// Coupon is the pool the message takes a code from when created
	// (zero for none); CouponCode the code it was given ("" when the pool
	// had none free).
	Coupon     CouponPool
	CouponCode string
	CreateTime time.Time
	UpdateTime time.Time
	// ExpiringPoints and PointsExpiry: for a points-expiring message, the
	// points loyalty said expire and when, for its template.
	ExpiringPoints int64
	PointsExpiry   time.Time
}

// MessageID is the id of the message an occurrence makes: the hex SHA-256
// of its occurrence key, 32 characters.
func MessageID(journeyID, customerID, occurrence string) string {
	sum := sha256.Sum256([]byte(OccurrenceKey(journeyID, customerID, occurrence)))
	return hex.EncodeToString(sum[:16])
}

// NewMessage returns the message an occurrence of journey j, triggered at
// triggeredAt, makes for a customer in loc under quiet hours q: scheduled
// at the trigger time plus the delay, or held until the quiet hours end.
func NewMessage(j Journey, customerID, occurrence string, triggeredAt time.Time, loc *time.Location, q QuietHours, now time.Time) Message {
	due, held := Due(j, triggeredAt, loc, q)
	state := StateScheduled
	if held {
		state = StateHeld
	}
	return Message{
		ID: MessageID(j.ID, customerID, occurrence), JourneyID: j.ID, CustomerID: customerID, Occurrence: occurrence,
		Transactional: j.Transactional, State: state, Due: due, Coupon: j.Coupon, CreateTime: now, UpdateTime: now,
	}
}

// Outcome is what became of one delivery attempt.
type Outcome struct {
	Decision Decision // the channel, or why the message was suppressed
	// Err is the provider's error; nil when sent. Permanent says it will
	// not go away by retrying.
	Err       error
	Permanent bool
}

// Apply returns m after an attempt at now with outcome o under policy p:
// suppressed with the decision's reason, sent, or failed with its next
// attempt's due time (dead after the last, or at once for a permanent
// failure). The move must be a valid transition.
func (m Message) Apply(o Outcome, p RetryPolicy, now time.Time) (Message, error) {
	next := m
	next.UpdateTime = now
	switch {
	case o.Decision.Suppressed != ReasonNone:
		next.State, next.Reason = StateSuppressed, o.Decision.Suppressed
	case o.Err == nil:
		next.State, next.Channel = StateSent, o.Decision.Channel
		next.Attempts++
	default:
		next.Channel = o.Decision.Channel
		next.Attempts++
		next.State, next.Due = p.AfterFailure(next.Attempts, now)
		if o.Permanent {
			next.State, next.Due = StateDead, time.Time{}
		}
	}
	if err := Transition(m.State, next.State); err != nil {
		return m, fmt.Errorf("message %s: %w", m.ID, err)
	}
	return next, nil
}
