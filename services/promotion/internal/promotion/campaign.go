// Package promotion is the promotion service's domain: campaigns and their
// lifecycle, promotions with their limits, the in-memory set of active
// promotions, cart evaluation and redemption over the pricing engine,
// refunds, holdout audiences and campaign reports. It defines the storage
// and remote interfaces it needs; store and grpcapi sit around it.
package promotion

import (
	"fmt"
	"regexp"
	"time"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

// State is where a campaign is in its lifecycle. Scheduled is never stored:
// an active campaign whose start is still ahead reads as scheduled, and one
// whose end has passed reads as ended.
type State int

const (
	StateDraft State = iota + 1
	StateScheduled
	StateActive
	StatePaused
	StateEnded
)

// Objective is what a campaign is for.
type Objective int

const (
	ObjectiveAcquisition Objective = iota + 1
	ObjectiveRetention
	ObjectiveWinBack
	ObjectiveAverageOrderValue
	ObjectiveClearance
	ObjectiveReactivation
)

// Audience says who gets a campaign: a customer in any of the groups.
// Empty: everyone.
type Audience struct {
	Segments, ValueTiers, LifecycleStages, RFMSegments, LoyaltyTiers []string
}

// Empty reports whether the audience is everyone.
func (a Audience) Empty() bool {
	return len(a.Segments)+len(a.ValueTiers)+len(a.LifecycleStages)+len(a.RFMSegments)+len(a.LoyaltyTiers) == 0
}

// SegmentationNames are the audience's groups as segmentation names them
// ("segments/x", "tiers/vip", "stages/new", "rfmSegments/champions").
func (a Audience) SegmentationNames() []string {
	var out []string
	add := func(prefix string, xs []string) {
		for _, x := range xs {
			out = append(out, prefix+x)
		}
	}
	add("segments/", a.Segments)
	add("tiers/", a.ValueTiers)
	add("stages/", a.LifecycleStages)
	add("rfmSegments/", a.RFMSegments)
	return out
}

// Campaign groups promotions under a schedule, a budget and an audience.
type Campaign struct {
	ID             string
	DisplayName    string
	Objective      Objective
	KPIMetric      string
	KPITarget      int64
	Start, End     time.Time // zero = open
	TimeZone       string
	Currency       string
	Budget         int64 // 0 = none
	BudgetUsed     int64
	Audience       Audience
	HoldoutPercent int
	MarginPercent  int
	// Status is the stored state: draft, active, paused or ended.
	Status       State
	FrozenSize   int64
	ActivateTime time.Time
	EndTime      time.Time // when it was ended by EndCampaign
	CreateTime   time.Time
	UpdateTime   time.Time
}

// StateAt is the campaign's state at now: an active campaign before its
// start is scheduled, after its end ended.
func (c *Campaign) StateAt(now time.Time) State {
	if c.Status != StateActive {
		return c.Status
	}
	if !c.End.IsZero() && !now.Before(c.End) {
		return StateEnded
	}
	if !c.Start.IsZero() && now.Before(c.Start) {
		return StateScheduled
	}
	return StateActive
}

// LiveAt reports whether the campaign's promotions apply at t.
func (c *Campaign) LiveAt(t time.Time) bool { return c.StateAt(t) == StateActive }

// RanAt reports whether the campaign was running at t, for attribution:
// activated by then and not yet ended.
func (c *Campaign) RanAt(t time.Time) bool {
	if c.ActivateTime.IsZero() || t.Before(c.ActivateTime) || (!c.Start.IsZero() && t.Before(c.Start)) {
		return false
	}
	if !c.End.IsZero() && !t.Before(c.End) {
		return false
	}
	return c.EndTime.IsZero() || t.Before(c.EndTime)
}

// Transition returns the stored state after action from the campaign's
// state at now, or ErrInvalidTransition: draft or paused → active;
// scheduled or active → paused; scheduled, active or paused → ended.
func (c *Campaign) Transition(action Action, now time.Time) (State, error) {
	from := c.StateAt(now)
	ok := false
	switch action {
	case ActionActivate:
		ok = from == StateDraft || from == StatePaused
		if ok && !c.End.IsZero() && !now.Before(c.End) {
			return 0, fmt.Errorf("%w: its end time %s has passed", ErrCampaignEnded, c.End.Format(time.RFC3339))
		}
	case ActionPause:
		ok = from == StateActive || from == StateScheduled
	case ActionEnd:
		ok = from == StateActive || from == StateScheduled || from == StatePaused
	}
	if !ok {
		if from == StateEnded {
			return 0, fmt.Errorf("%w: cannot %s it", ErrCampaignEnded, action)
		}
		return 0, fmt.Errorf("%w: cannot %s a %s campaign", ErrInvalidTransition, action, from)
	}
	return map[Action]State{ActionActivate: StateActive, ActionPause: StatePaused, ActionEnd: StateEnded}[action], nil
}

// Action is a lifecycle verb.
type Action string

const (
	ActionActivate Action = "activate"
	ActionPause    Action = "pause"
	ActionEnd      Action = "end"
)

func (s State) String() string {
	switch s {
	case StateDraft:
		return "draft"
	case StateScheduled:
		return "scheduled"
	case StateActive:
		return "active"
	case StatePaused:
		return "paused"
	case StateEnded:
		return "ended"
	}
	return "unknown"
}

var idPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// CheckID checks a campaign or promotion id.
func CheckID(path, id string) error {
	if !idPattern.MatchString(id) {
		return &fielderr.Error{Path: path, Problem: fmt.Sprintf("is %s", fielderr.Quote(id)),
			Fix: "use 1 to 63 lower case letters, digits and hyphens, starting and ending with a letter or digit"}
	}
	return nil
}

var currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)

// Validate checks a campaign's definition; paths are under prefix
// ("campaign.").
func (c *Campaign) Validate(prefix string) error {
	bad := func(path, format string, args ...any) error { return fielderr.New(prefix+path, format, args...) }
	switch {
	case len(c.DisplayName) > 200:
		return bad("display_name", "must be at most 200 characters")
	case c.Objective < ObjectiveAcquisition || c.Objective > ObjectiveReactivation:
		return bad("objective", "must be one of acquisition, retention, win_back, average_order_value, clearance, reactivation")
	case !currencyPattern.MatchString(c.Currency):
		return bad("currency_code", "must be an ISO 4217 code such as GBP, got %s", fielderr.Quote(c.Currency))
	case c.Budget < 0:
		return bad("budget", "must not be negative, got %d", c.Budget)
	case c.HoldoutPercent < 0 || c.HoldoutPercent > 50:
		return bad("holdout_percent", "must be 0 to 50, got %d", c.HoldoutPercent)
	case c.MarginPercent < 0 || c.MarginPercent > 100:
		return bad("margin_percent", "must be 0 to 100, got %d", c.MarginPercent)
	case !c.Start.IsZero() && !c.End.IsZero() && !c.End.After(c.Start):
		return bad("end_time", "must be after start_time")
	}
	if c.TimeZone != "" {
		if _, err := time.LoadLocation(c.TimeZone); err != nil {
			return bad("time_zone", "is not an IANA time zone such as Europe/London, got %s", fielderr.Quote(c.TimeZone))
		}
	}
	lists := []struct {
		path string
		xs   []string
	}{{"audience.segments", c.Audience.Segments}, {"audience.value_tiers", c.Audience.ValueTiers},
		{"audience.lifecycle_stages", c.Audience.LifecycleStages}, {"audience.rfm_segments", c.Audience.RFMSegments},
		{"audience.loyalty_tiers", c.Audience.LoyaltyTiers}}
	for _, l := range lists {
		for i, x := range l.xs {
			if x == "" || len(x) > 128 {
				return bad(fmt.Sprintf("%s[%d]", l.path, i), "must be 1 to 128 characters")
			}
		}
	}
	return nil
}
