package outreach

// Consent says whether a customer granted consent to marketing on a
// channel, as read from profile just before sending.
type Consent func(Channel) bool

// Recipient is what a send decision needs to know about the customer at
// send time.
type Recipient struct {
	// Holdout: the customer is in the control group of the journey's
	// campaign, which gets no message.
	Holdout bool
	// Unsubscribed: the customer unsubscribed from marketing messages.
	Unsubscribed bool
	// Consent per channel; nil grants none.
	Consent Consent
}

// Decision is which channel a message goes out on, or why it does not.
type Decision struct {
	Channel    Channel
	Suppressed SuppressionReason // ReasonNone when Channel is set
}

// Decide picks a message's channel: the first of order on which the
// customer granted consent. A transactional message (an order or account
// notice the customer needs, not marketing) needs no marketing consent and
// ignores the control group and unsubscription: it goes out on the first
// channel of order. A marketing message is suppressed for the holdout
// first, then for unsubscription, then for missing consent. Frequency caps
// are checked after, by the store (see Charges). An empty order suppresses
// with ReasonNoConsent.
func Decide(order []Channel, transactional bool, r Recipient) Decision {
	if transactional {
		if len(order) == 0 {
			return Decision{Suppressed: ReasonNoConsent}
		}
		return Decision{Channel: order[0]}
	}
	switch {
	case r.Holdout:
		return Decision{Suppressed: ReasonHoldout}
	case r.Unsubscribed:
		return Decision{Suppressed: ReasonUnsubscribed}
	}
	for _, c := range order {
		if r.Consent != nil && r.Consent(c) {
			return Decision{Channel: c}
		}
	}
	return Decision{Suppressed: ReasonNoConsent}
}
