package outreach

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

// TriggerKind is what starts a journey for a customer.
type TriggerKind int

// The trigger kinds.
const (
	TriggerUnspecified TriggerKind = iota
	// TriggerCartAbandoned: a cart_updated with no order_placed within
	// Hours.
	TriggerCartAbandoned
	// TriggerPostPurchase: Days after an order (review request,
	// cross-sell).
	TriggerPostPurchase
	// TriggerFirstOrder: a customer's first order (welcome).
	TriggerFirstOrder
	// TriggerBirthday: Days before the birthday, at LocalMinute.
	TriggerBirthday
	// TriggerHoliday: on each date of Holidays, at LocalMinute.
	TriggerHoliday
	// TriggerAudienceEntered and TriggerAudienceLeft: a segmentation
	// recompute moved the customer into or out of Audience.
	TriggerAudienceEntered
	TriggerAudienceLeft
	// TriggerPointsExpiring: loyalty points expire within Days.
	TriggerPointsExpiring
	// TriggerAPI: another service asks for the message (SendJourneyMessage),
	// once per occurrence id, with values for the journey's Variables.
	TriggerAPI
)

var triggerNames = [...]string{"", "cart_abandoned", "post_purchase", "first_order", "birthday", "holiday",
	"audience_entered", "audience_left", "points_expiring", "api"}

// String returns the trigger kind's lower snake name.
func (k TriggerKind) String() string {
	if k < 0 || int(k) >= len(triggerNames) {
		return fmt.Sprintf("trigger(%d)", int(k))
	}
	return triggerNames[k]
}

// Holiday is one date of a holiday calendar.
type Holiday struct {
	Name string
	Date time.Time // the local date (its year, month and day)
}

// Trigger is a journey's trigger and its parameters (those its kind uses).
type Trigger struct {
	Kind        TriggerKind
	Hours       int // cart abandoned
	Days        int // post-purchase, birthday (days before), points expiring (within)
	LocalMinute int // birthday and holiday: minute of the local day
	Audience    string
	Holidays    []Holiday
}

// Journey is what an outreach journey decides by: its trigger, an optional
// delay after it, the channels in order of preference, whether its
// messages are transactional, and its campaign ("" for none: its control
// group then gets no message). An API-triggered journey names the
// Variables its templates take ({{.Vars.survey_url}}).
type Journey struct {
	ID            string
	Trigger       Trigger
	Delay         time.Duration
	Channels      []Channel
	Transactional bool
	Campaign      string
	// Coupon is the code promotion whose codes the messages carry (zero
	// for none).
	Coupon CouponPool
	// AudienceFilter, when set, is a segmentation audience ("tiers/vip"):
	// only its members get the journey's messages.
	AudienceFilter string
	Variables      []string `json:",omitempty"`
}

// CouponPool names a code promotion whose unused codes messages are given.
type CouponPool struct {
	CampaignID, PromotionID string
}

// IsZero reports whether no pool is named.
func (p CouponPool) IsZero() bool { return p == CouponPool{} }

// Limits of a journey's parameters.
const (
	MaxHours    = 24 * 90
	MaxDays     = 366
	MaxDelay    = 90 * 24 * time.Hour
	MaxHolidays = 400
	// MaxVariables bounds a journey's variables.
	MaxVariables = 20
)

var variablePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// Check validates j, naming fields as the API does ("trigger.hours").
func (j Journey) Check() error {
	if err := j.Trigger.check("trigger"); err != nil {
		return err
	}
	if err := checkAudienceName("audience_filter", j.AudienceFilter); err != nil {
		return err
	}
	if err := j.checkVariables(); err != nil {
		return err
	}
	if j.Delay < 0 || j.Delay > MaxDelay {
		return fielderr.New("delay", "must be from 0 to %s, got %s", MaxDelay, j.Delay)
	}
	if len(j.Channels) == 0 {
		return &fielderr.Error{Path: "channels", Problem: "is empty", Fix: "list the channels in order of preference: " + channelList()}
	}
	for i, c := range j.Channels {
		if !c.Valid() {
			return fielderr.New(fmt.Sprintf("channels[%d]", i), "must be one of %s", channelList())
		}
		if slices.Contains(j.Channels[:i], c) {
			return fielderr.New(fmt.Sprintf("channels[%d]", i), "repeats %s", c)
		}
	}
	return nil
}

func (j Journey) checkVariables() error {
	if len(j.Variables) > 0 && j.Trigger.Kind != TriggerAPI {
		return &fielderr.Error{Path: "variables", Problem: "are only taken by API-triggered journeys",
			Fix: "remove them, or use trigger kind api"}
	}
	if len(j.Variables) > MaxVariables {
		return fielderr.New("variables", "must list at most %d names, got %d", MaxVariables, len(j.Variables))
	}
	for i, v := range j.Variables {
		path := fmt.Sprintf("variables[%d]", i)
		if !variablePattern.MatchString(v) {
			return fielderr.New(path, "must be 1 to 40 lower-case letters, digits and underscores, starting with a letter, got %q", v)
		}
		if slices.Contains(j.Variables[:i], v) {
			return fielderr.New(path, "repeats %s", v)
		}
	}
	return nil
}

func (t Trigger) check(path string) error {
	between := func(field string, v, lo, hi int) error {
		if v < lo || v > hi {
			return fielderr.New(path+"."+field, "must be from %d to %d, got %d", lo, hi, v)
		}
		return nil
	}
	switch t.Kind {
	case TriggerCartAbandoned:
		return between("hours", t.Hours, 1, MaxHours)
	case TriggerPostPurchase:
		return between("days", t.Days, 1, MaxDays)
	case TriggerFirstOrder:
		return nil
	case TriggerBirthday:
		if err := between("days", t.Days, 0, 31); err != nil {
			return err
		}
		return between("local_minute", t.LocalMinute, 0, MinutesPerDay-1)
	case TriggerHoliday:
		if len(t.Holidays) == 0 || len(t.Holidays) > MaxHolidays {
			return fielderr.New(path+".holidays", "must list 1 to %d dates, got %d", MaxHolidays, len(t.Holidays))
		}
		for i, h := range t.Holidays {
			if strings.TrimSpace(h.Name) == "" || len(h.Name) > 100 {
				return fielderr.New(fmt.Sprintf("%s.holidays[%d].name", path, i), "must be 1 to 100 characters")
			}
		}
		return between("local_minute", t.LocalMinute, 0, MinutesPerDay-1)
	case TriggerAudienceEntered, TriggerAudienceLeft:
		if t.Audience == "" {
			return &fielderr.Error{Path: path + ".audience", Problem: "is required",
				Fix: "name a segmentation audience such as tiers/vip or stages/dormant"}
		}
		return nil
	case TriggerPointsExpiring:
		return between("days", t.Days, 1, MaxDays)
	case TriggerAPI:
		return nil
	}
	return fielderr.New(path+".kind", "must be one of %s", strings.Join(triggerNames[1:], ", "))
}

// audienceKinds are the prefixes of segmentation's audience names.
var audienceKinds = []string{"segments/", "tiers/", "stages/", "rfmSegments/"}

// checkAudienceName validates an optional segmentation audience name at
// path.
func checkAudienceName(path, name string) error {
	if name == "" {
		return nil
	}
	for _, k := range audienceKinds {
		if id, ok := strings.CutPrefix(name, k); ok && id != "" && len(name) <= 200 && !strings.ContainsAny(id, "/ ") {
			return nil
		}
	}
	return &fielderr.Error{Path: path, Problem: fmt.Sprintf("%q is not an audience name", name),
		Fix: "name a segmentation audience such as tiers/vip, stages/dormant or segments/{id}, or leave it empty"}
}

// OccurrenceKey identifies one occurrence of a journey's trigger for one
// customer: the store keeps one message per key, so a restart, a replay of
// profile's stream or a second replica never sends it twice. occurrence is
// what makes the trigger fire again for the same customer (see the
// Occurrence functions).
func OccurrenceKey(journeyID, customerID, occurrence string) string {
	return journeyID + "|" + customerID + "|" + occurrence
}

// The occurrences of each trigger kind.

// CartOccurrence is the occurrence of a cart abandonment: the
// cart_updated event that started the wait.
func CartOccurrence(cartEventID string) string { return "cart:" + cartEventID }

// OrderOccurrence is the occurrence of a post-purchase journey: the order.
func OrderOccurrence(orderID string) string { return "order:" + orderID }

// FirstOrderOccurrence is the occurrence of a first-order journey: once
// per customer.
const FirstOrderOccurrence = "first-order"

// BirthdayOccurrence is the occurrence of a birthday journey: the year of
// the birthday.
func BirthdayOccurrence(year int) string { return fmt.Sprintf("birthday:%04d", year) }

// HolidayOccurrence is the occurrence of a holiday journey: the holiday's
// name and date.
func HolidayOccurrence(h Holiday) string {
	return "holiday:" + h.Name + ":" + h.Date.Format(time.DateOnly)
}

// AudienceOccurrence is the occurrence of an audience journey: the
// segmentation recompute that recorded the change.
func AudienceOccurrence(operation string) string { return "audience:" + operation }

// APIOccurrence is the occurrence of an API-triggered journey: the
// caller's occurrence id.
func APIOccurrence(id string) string { return "api:" + id }

// PointsOccurrence is the occurrence of a points-expiring journey: the
// local date the points expire on.
func PointsOccurrence(expiry time.Time, loc *time.Location) string {
	return "points:" + expiry.In(loc).Format(time.DateOnly)
}
