package consumer

import (
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/promotion/internal/promotion"
)

// toProfile converts a customer_updated or customer_deleted event into o,
// for outreach's birthday and holiday journeys: the birthday's month and
// day (none when unknown or unreadable) and the time zone.
func toProfile(ev *profilev1.Event, o promotion.Order) (promotion.Order, bool) {
	switch p := ev.GetPayload().(type) {
	case *profilev1.Event_CustomerUpdated:
		ch := &promotion.ProfileChange{TimeZone: p.CustomerUpdated.GetTimeZone()}
		if b, err := time.Parse(time.DateOnly, p.CustomerUpdated.GetBirthday()); err == nil {
			ch.BirthMonth, ch.BirthDay = b.Month(), b.Day()
		}
		o.Profile = ch
		return o, true
	case *profilev1.Event_CustomerDeleted:
		o.Profile = &promotion.ProfileChange{Deleted: true}
		return o, true
	}
	return o, false
}
