package outreach

import (
	"context"
	"time"

	"github.com/tenurehq/tenure/services/platform/fielderr"
	"github.com/tenurehq/tenure/services/promotion/internal/attribution"
)

// Attribution windows of the reports.
const (
	DefaultAttributionWindow = 7 * 24 * time.Hour
	MaxAttributionWindow     = 90 * 24 * time.Hour
)

// StateCount is the number of messages in one state, with one
// suppression reason, on one channel.
type StateCount struct {
	State   State
	Reason  SuppressionReason
	Channel Channel
	Count   int64
}

// GroupFigures are a group of messages and the orders of their customers
// within the window after each.
type GroupFigures struct {
	Messages   int64
	Converters int64 // messages followed by an order
	Orders     int64 // distinct orders
	Revenue    int64 // minor units, less refunds
}

// Figures are what a report counts, each by an SQL aggregate.
type Figures struct {
	States  []StateCount
	Actions map[Action]int64 // messages with each engagement
	// Treatment: the sent (or delivered) messages; Control: those
	// suppressed for the holdout.
	Treatment, Control GroupFigures
}

// ReportStore counts messages for reports.
type ReportStore interface {
	// OutreachFigures counts the messages of the journeys; an order is
	// attributed to a message when its customer placed it within window
	// after the message was sent (or suppressed, for the control group).
	OutreachFigures(ctx context.Context, journeyIDs []string, window time.Duration) (Figures, error)
}

// Report is a journey's or a campaign's outreach outcome.
type Report struct {
	Window     time.Duration
	Triggered  int64
	Suppressed map[SuppressionReason]int64
	Sent       int64
	// SentByChannel: sent messages per channel.
	SentByChannel                           map[Channel]int64
	Delivered, Opened, Clicked, Unsubscribe int64
	Pending, Dead                           int64
	Treatment, Control                      GroupFigures
	// HasControl: the campaign has a holdout. Lift is the conversion rate
	// difference, treatment − control (fractions), with its 95 % interval.
	HasControl              bool
	Lift, LiftLow, LiftHigh float64
}

// Reports makes outreach reports.
type Reports struct {
	Store    ReportStore
	Journeys JourneyReader
	// Holdout returns a campaign's holdout percentage (or its not-found
	// error).
	Holdout func(ctx context.Context, campaignID string) (int, error)
}

// Journey reports on one journey.
func (r Reports) Journey(ctx context.Context, id string, window time.Duration) (Report, error) {
	if err := checkWindow(&window); err != nil {
		return Report{}, err
	}
	j, err := r.Journeys.GetJourney(ctx, id)
	if err != nil {
		return Report{}, err
	}
	holdout := 0
	if j.Campaign != "" {
		if holdout, err = r.Holdout(ctx, j.Campaign); err != nil {
			return Report{}, err
		}
	}
	return r.report(ctx, []string{id}, window, holdout > 0)
}

// Campaign reports on every journey of a campaign.
func (r Reports) Campaign(ctx context.Context, id string, window time.Duration) (Report, error) {
	if err := checkWindow(&window); err != nil {
		return Report{}, err
	}
	holdout, err := r.Holdout(ctx, id)
	if err != nil {
		return Report{}, err
	}
	var ids []string
	for after := ""; ; {
		js, err := r.Journeys.ListAllJourneys(ctx, after, JourneyPages.Max, true)
		if err != nil {
			return Report{}, err
		}
		for _, j := range js {
			if j.Campaign == id {
				ids = append(ids, j.ID)
			}
		}
		if len(js) < JourneyPages.Max {
			break
		}
		after = js[len(js)-1].ID
	}
	return r.report(ctx, ids, window, holdout > 0)
}

func checkWindow(w *time.Duration) error {
	if *w == 0 {
		*w = DefaultAttributionWindow
	}
	if *w < 0 || *w > MaxAttributionWindow {
		return fielderr.New("attribution_window", "must be from 1s to %s, got %s", MaxAttributionWindow, *w)
	}
	return nil
}

func (r Reports) report(ctx context.Context, ids []string, window time.Duration, holdout bool) (Report, error) {
	out := Report{Window: window, Suppressed: map[SuppressionReason]int64{}, SentByChannel: map[Channel]int64{}, HasControl: holdout}
	if len(ids) == 0 {
		return out, nil
	}
	f, err := r.Store.OutreachFigures(ctx, ids, window)
	if err != nil {
		return Report{}, err
	}
	for _, c := range f.States {
		out.Triggered += c.Count
		switch c.State {
		case StateSuppressed:
			out.Suppressed[c.Reason] += c.Count
		case StateSent, StateDelivered:
			out.Sent += c.Count
			out.SentByChannel[c.Channel] += c.Count
		case StateDead:
			out.Dead += c.Count
		default:
			out.Pending += c.Count
		}
	}
	out.Delivered, out.Opened = f.Actions[ActionDelivered], f.Actions[ActionOpened]
	out.Clicked, out.Unsubscribe = f.Actions[ActionClicked], f.Actions[ActionUnsubscribed]
	out.Treatment, out.Control = f.Treatment, f.Control
	if holdout {
		a := attribution.Compute(attribution.Group{Members: f.Treatment.Messages, Converters: f.Treatment.Converters},
			attribution.Group{Members: f.Control.Messages, Converters: f.Control.Converters}, 0)
		out.Lift, out.LiftLow, out.LiftHigh = a.Lift, a.LiftLow, a.LiftHigh
	}
	return out, nil
}
