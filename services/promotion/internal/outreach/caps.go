package outreach

import (
	"fmt"
	"time"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

// Cap is a frequency cap: at most Limit messages per Channel to one
// customer, either in any rolling Window or per calendar day in the
// customer's time zone (PerLocalDay). Journey "" counts the messages of
// every journey and campaign together; otherwise only that journey's.
// Transactional messages are exempt.
type Cap struct {
	Journey     string
	Channel     Channel
	Limit       int
	Window      time.Duration // rolling window; zero with PerLocalDay
	PerLocalDay bool
}

// MaxCapLimit bounds a cap's limit (each unit of a rolling cap is a stored
// slot).
const MaxCapLimit = 100

// Check validates c, naming fields under path.
func (c Cap) Check(path string) error {
	switch {
	case !c.Channel.Valid():
		return fielderr.New(path+".channel", "must be one of %s", channelList())
	case c.Limit < 1 || c.Limit > MaxCapLimit:
		return fielderr.New(path+".limit", "must be from 1 to %d, got %d", MaxCapLimit, c.Limit)
	case c.PerLocalDay && c.Window != 0:
		return &fielderr.Error{Path: path + ".window", Problem: "is set on a per-day cap", Fix: "set either a rolling window or per local day"}
	case !c.PerLocalDay && (c.Window < time.Minute || c.Window > 366*24*time.Hour):
		return fielderr.New(path+".window", "must be from 1 minute to 366 days, got %s", c.Window)
	}
	return nil
}

// Charge is one guarded write a message's send makes against a cap's
// counter; every charge of a message succeeds or none does (one
// transaction), else the message is suppressed with ReasonCap.
//
// A rolling charge takes one of Limit slots of Key, each holding the time
// of the send that last took it: it may take a slot whose time is at or
// before At − Window, the oldest (TakeSlot), with an update guarded by that
// slot's old time. Since the slots hold the Limit latest sends, a free one
// means fewer than Limit sends in the window. A daily charge increments
// the counter of Key and Day guarded by "used < Limit".
type Charge struct {
	Key    string // customer, scope and channel
	Limit  int
	Window time.Duration // rolling charges
	Day    string        // daily charges: the local date, "2006-01-02"
	At     time.Time
}

// Rolling reports whether c is a rolling-window charge.
func (c Charge) Rolling() bool { return c.Day == "" }

// Charges returns the guarded writes a message to customerID on channel
// from journey, sent at `at` to a customer in loc, makes against caps: one
// per cap on the channel whose journey is "" or journey. A transactional
// message makes none.
func Charges(caps []Cap, customerID, journey string, channel Channel, transactional bool, at time.Time, loc *time.Location) []Charge {
	if transactional {
		return nil
	}
	var out []Charge
	for _, c := range caps {
		if c.Channel != channel || (c.Journey != "" && c.Journey != journey) {
			continue
		}
		scope := "all"
		if c.Journey != "" {
			scope = "journey:" + c.Journey
		}
		ch := Charge{Limit: c.Limit, At: at}
		if c.PerLocalDay {
			ch.Key = fmt.Sprintf("%s|%s|%s|day:%d", customerID, scope, channel, c.Limit)
			ch.Day = at.In(loc).Format(time.DateOnly)
		} else {
			ch.Key = fmt.Sprintf("%s|%s|%s|%s:%d", customerID, scope, channel, c.Window, c.Limit)
			ch.Window = c.Window
		}
		out = append(out, ch)
	}
	return out
}

// TakeSlot picks the slot a rolling charge takes among slots (the times of
// the sends that took each; the zero time for a slot never taken): the
// oldest, if its send is at or before at − window. ok is false when every
// slot's send is within the window: the cap is reached.
func TakeSlot(slots []time.Time, at time.Time, window time.Duration) (slot int, ok bool) {
	if len(slots) == 0 {
		return 0, false
	}
	for i, s := range slots {
		if s.Before(slots[slot]) {
			slot = i
		}
	}
	return slot, !slots[slot].After(at.Add(-window))
}
