// Package outreach holds the rules of outreach journeys: what triggers a
// message and when (cart abandonment, post-purchase, first order,
// birthdays, holidays, audience changes, expiring points), the key that
// makes each trigger occurrence send at most once, the channel a message
// goes out on (the first in the journey's order with granted consent),
// why a message is suppressed, frequency caps as the counter charges the
// store makes with guarded writes, quiet hours in the customer's time
// zone, the message states and their transitions, the retry schedule and
// message templates.
//
// It is pure: no storage, no network, and "now" is always an argument.
// Times are UTC instants; local rules (quiet hours, calendar-day caps,
// birthdays, holidays) take the customer's *time.Location.
package outreach

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors of the outreach rules.
var (
	ErrInvalidTransition = errors.New("outreach: invalid message state transition")
	ErrInvalidTemplate   = errors.New("outreach: invalid template")
	ErrInvalidTimeZone   = errors.New("outreach: invalid time zone")
)

// Channel is a way to reach a customer.
type Channel int

// The channels.
const (
	ChannelUnspecified Channel = iota
	ChannelEmail
	ChannelSMS
	ChannelPush
	ChannelInApp
	ChannelWebhook
)

var channelNames = [...]string{"", "email", "sms", "push", "in_app", "webhook"}

// String returns the channel's lower snake name ("" when unspecified).
func (c Channel) String() string {
	if c < 0 || int(c) >= len(channelNames) {
		return fmt.Sprintf("channel(%d)", int(c))
	}
	return channelNames[c]
}

// Valid reports whether c is one of the channels.
func (c Channel) Valid() bool { return c > ChannelUnspecified && int(c) < len(channelNames) }

// ParseChannel returns the channel named name ("email", "sms", "push",
// "in_app", "webhook").
func ParseChannel(name string) (Channel, bool) {
	for i, n := range channelNames {
		if i > 0 && n == name {
			return Channel(i), true
		}
	}
	return ChannelUnspecified, false
}

// channelList names every channel, for error messages.
func channelList() string { return strings.Join(channelNames[1:], ", ") }
